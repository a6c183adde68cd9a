"""Helpers shared by the scenario tests: reading whole lists back through the public API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import ok


async def every_page(client: httpx.AsyncClient, path: str, **params: str) -> list[dict[str, Any]]:
    """Every item of a list endpoint, newest first, following `starting_after` until `has_more` is false."""
    items: list[dict[str, Any]] = []
    while True:
        cursor = {"starting_after": items[-1]["id"]} if items else {}
        page = ok(await client.get(path, params={**params, **cursor, "limit": 100}))
        items += page["data"]
        if not page["has_more"]:
            return items


def moves(operation: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """A transaction's transfers as (from, to, amount, kind)."""
    return [(t["from"], t["to"], t["amount"], t["kind"]) for t in operation["transfers"]]
