"""Shared signature helpers: secrets for rotation, constant-time comparison, timestamped HMAC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from creditflow.payments.gateways.errors import GatewayConfigError, InvalidSignature
from creditflow.payments.gateways.signing import matches_any, same, sign_timestamped, split_secrets, verify_timestamped

NOW = datetime(2026, 1, 1, tzinfo=UTC)
T = int(NOW.timestamp())


def test_one_or_two_secrets() -> None:
    assert split_secrets(None) == ()
    assert split_secrets(" new , old ") == ("new", "old")
    with pytest.raises(GatewayConfigError):
        split_secrets("a,b,c")


def test_comparison_copes_with_any_input() -> None:
    assert same("abc", "abc") and not same("abc", "abd") and not same("abc", "äbc")
    assert matches_any(["x", "abc"], "abc") and not matches_any([], "abc")


def test_a_timestamped_signature_round_trips() -> None:
    header = sign_timestamped("k", b"{}", T)
    assert verify_timestamped("gw", b"{}", header, ["other", "k"], NOW) == T


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={T}", f"t=soon,v1={'0' * 64}", f"t={T},v1={'0' * 64}"])
def test_malformed_or_wrong_headers_are_refused(header: str | None) -> None:
    with pytest.raises(InvalidSignature):
        verify_timestamped("gw", b"{}", header, ["k"], NOW)


def test_no_secret_configured_refuses_everything() -> None:
    with pytest.raises(InvalidSignature):
        verify_timestamped("gw", b"{}", sign_timestamped("k", b"{}", T), [], NOW)


@pytest.mark.parametrize(("skew", "accepted"), [(-300, True), (-301, False), (300, True), (301, False)])
def test_the_tolerance_applies_both_ways(skew: int, accepted: bool) -> None:
    header = sign_timestamped("k", b"{}", T + skew)
    if accepted:
        verify_timestamped("gw", b"{}", header, ["k"], NOW)
    else:
        with pytest.raises(InvalidSignature):
            verify_timestamped("gw", b"{}", header, ["k"], NOW)
