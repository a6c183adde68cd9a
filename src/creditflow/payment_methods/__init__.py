"""Saved payment methods: cards a customer kept at Stripe through a top-up, charged later off-session."""
