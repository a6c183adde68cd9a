"""Every top-up test runs against the app configured with all gateways (tests/topups/fixtures.py)."""

from tests.topups.fixtures import clock, clock_ref, fakes, gateway_client, settings

__all__ = ["clock", "clock_ref", "fakes", "gateway_client", "settings"]
