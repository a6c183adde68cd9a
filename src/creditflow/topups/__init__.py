"""Top-ups: customers buy credits through a payment gateway; a verified payment credits them exactly once."""
