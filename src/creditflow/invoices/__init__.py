"""Invoices: numbered per year without gaps, seller and buyer copied when issued, amounts in minor units."""
