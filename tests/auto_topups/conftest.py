"""Auto top-up tests run against the app configured with every gateway (tests/topups/fixtures.py)."""

from tests.topups.fixtures import clock, clock_ref, fakes, gateway_client, settings

__all__ = ["clock", "clock_ref", "fakes", "gateway_client", "settings"]
