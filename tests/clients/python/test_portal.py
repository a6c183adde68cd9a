"""The customer-side client against a real `creditflow serve` (portal sign-up on): a customer sees and manages
only its own account, with the operator client's retries and idempotency."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from creditflow_client import (
    AsyncCreditflowPortal,
    AuthenticationError,
    Creditflow,
    CreditflowPortal,
    NotFound,
    PermissionDenied,
    async_login,
    login,
    signup,
)
from tests.served import Served

PASSWORD = "correct horse battery"


def new_account(served: Served) -> tuple[str, str]:
    email = f"p-{uuid.uuid4().hex[:10]}@example.com"
    return email, signup(email, PASSWORD, base_url=served.base_url).token


def test_signup_and_login_answer_session_tokens_for_the_customer_and_nothing_else(served: Served) -> None:
    email, token = new_account(served)
    with CreditflowPortal(token, served.base_url) as me:
        customer = me.customer.retrieve()
        assert customer.email == email
        [wallet] = me.wallets.list()
        assert wallet.available == Decimal("0")
        assert list(me.transactions.list()) == [] and list(me.invoices.list()) == []
        assert list(me.subscriptions.list()) == []
        assert me.usage.retrieve(group_by="metric").object
        assert "sandbox" in me.gateways.list()
        with pytest.raises(NotFound):
            me.invoices.retrieve("inv_missing")
    again = login(email, PASSWORD, base_url=served.base_url)
    assert again.customer == customer.id and again.token != token
    with pytest.raises(AuthenticationError):
        login(email, "not the password", base_url=served.base_url)


def test_a_portal_top_up_retried_with_its_key_is_one_top_up_and_keys_are_managed(served: Served) -> None:
    _, token = new_account(served)
    with CreditflowPortal(token, served.base_url) as me:
        [wallet] = me.wallets.list()
        buy = {"gateway": "sandbox", "amount": "5.00", "currency": wallet.currency, "idempotency_key": "buy-1"}
        topup = me.topups.create(**buy)
        assert me.topups.create(**buy).id == topup.id
        assert me.topups.retrieve(topup.id).amount == Decimal("5.00")
        key = me.api_keys.create(name="ci")
        assert key.key.startswith("cf_ck_")
        assert [k.id for k in me.api_keys.list()] == [key.id]
        assert me.api_keys.revoke(key.id).revoked_at is not None


def test_a_customer_api_key_reads_but_changes_nothing_without_the_manage_scope(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer = cf.customers.create(external_id=f"k-{uuid.uuid4().hex[:8]}")
        key = cf.api_keys.create(customer.id, name="read-only").key
    with CreditflowPortal(key, served.base_url) as me:
        assert me.customer.retrieve().id == customer.id
        assert list(me.packages.list()) is not None
        with pytest.raises(PermissionDenied):
            me.api_keys.create(name="more")


async def test_the_async_portal_client_logs_in_and_reads(served: Served) -> None:
    email, _ = new_account(served)
    session = await async_login(email, PASSWORD, base_url=served.base_url)
    async with AsyncCreditflowPortal(session.token, served.base_url) as me:
        assert (await me.customer.retrieve()).email == email
        assert [w.currency for w in await me.wallets.list()]
