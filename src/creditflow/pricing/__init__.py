"""Pricing: price models (standard, package, graduated, volume, percentage) as pure, exact functions."""
