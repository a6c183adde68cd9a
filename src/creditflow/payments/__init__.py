"""Payments: the gateway layer for top-ups (gateways/) and the built-in sandbox checkout page."""
