"""invoices/models.py: the issuer comes from the CREDITFLOW_SELLER_* and invoice number settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from creditflow.config import Settings
from creditflow.invoices.models import Issuer, Seller


def test_the_issuer_is_read_from_the_environment(monkeypatch):
    for name, value in {
        "CREDITFLOW_SELLER_NAME": "Acme Billing BV", "CREDITFLOW_SELLER_ADDRESS": "Keizersgracht 1, Amsterdam",
        "CREDITFLOW_SELLER_TAX_ID": "NL123456789B01", "CREDITFLOW_SELLER_EMAIL": "billing@acme.test",
        "CREDITFLOW_SELLER_TIMEZONE": "Europe/Amsterdam", "CREDITFLOW_INVOICE_NUMBER_PREFIX": "ACME",
    }.items():
        monkeypatch.setenv(name, value)
    assert Issuer.from_settings(Settings()) == Issuer(
        seller=Seller("Acme Billing BV", "Keizersgracht 1, Amsterdam", "NL123456789B01", "billing@acme.test",
                      "Europe/Amsterdam"),
        number_prefix="ACME",
    )


def test_without_settings_invoices_are_cf_numbered_in_utc():
    issuer = Issuer.from_settings(Settings())
    assert (issuer.number_prefix, issuer.seller.timezone, issuer.seller.name) == ("CF", "UTC", None)


@pytest.mark.parametrize(
    "fields",
    [{"seller_timezone": "Mars/Olympus"}, {"invoice_number_prefix": ""}, {"invoice_number_prefix": "CF 2026"},
     {"invoice_number_prefix": "X" * 21}, {"invoice_number_prefix": "-CF"}],
)
def test_a_bad_time_zone_or_prefix_is_refused_at_startup(fields):
    with pytest.raises(ValidationError):
        Settings(**fields)
