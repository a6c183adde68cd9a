"""Customer API key storage: the secret is never stored, only its SHA-256."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from creditflow.db.tables import customer_api_keys
from tests.factories import customer_id, ok


async def test_secret_is_stored_only_as_its_sha256(app, client):
    customer = await customer_id(client)
    created = ok(await client.post(f"/v1/customers/{customer}/api_keys", json={"name": "k"}), 201)

    async with app.state.engine.connect() as conn:
        row = (await conn.execute(select(customer_api_keys).where(customer_api_keys.c.id == created["id"]))).one()

    assert row.key_hash == hashlib.sha256(created["key"].encode()).hexdigest()
    assert created["key"] not in [str(value) for value in row]
