"""The SDK stays complete: every operation of the server's OpenAPI document is reachable from it."""

from __future__ import annotations

import re
import tempfile
from functools import cache

from creditflow.app import create_app
from creditflow.config import Settings
from creditflow_client._operations import Resource
from creditflow_client.client import _Base
from creditflow_client.portal import ACCOUNT_OPERATIONS, PORTAL_RESOURCES
from creditflow_client.resources import RESOURCES

# Operations the SDK leaves out on purpose, each with why.
EXCLUDED = {
    # Called by the payment gateways themselves, signed with their secret, never by an operator's code.
    ("POST", "/v1/webhooks/{}"): "gateways' signed notifications in",
    ("GET", "/metrics"): "Prometheus text for a scraper, not an API answer",
    ("GET", "/"): "a signpost to the docs for a person opening the base URL",
}
# The Lago-compatible API is there for code written against Lago, which calls it with Lago's own clients.
EXCLUDED_PREFIXES = {"/api/v1/": "Lago-compatible API, for Lago's clients"}
# Operations the SDK offers before the server has them.
AHEAD_OF_SERVER: set[tuple[str, str]] = set()


def _shape(path: str) -> str:
    """Path parameters' names differ between the server and the SDK; only their places matter."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def sdk_operations() -> set[tuple[str, str]]:
    resources: list[type[Resource]] = [*RESOURCES.values(), *PORTAL_RESOURCES.values()]
    found = {(o.method, _shape(o.path)) for resource in resources for o in resource.operations().values()}
    loose = [vars(_Base)["authorize"].operation, *ACCOUNT_OPERATIONS]
    return found | {(o.method, _shape(o.path)) for o in loose}


@cache
def server_operations() -> frozenset[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{scratch}/openapi.db", jobs_enabled=False))
        paths = app.openapi()["paths"]
    return frozenset((method.upper(), _shape(path)) for path, item in paths.items() for method in item)


def test_every_server_operation_is_in_the_sdk_or_excluded_with_a_reason() -> None:
    server = server_operations()
    prefixes = tuple(EXCLUDED_PREFIXES)
    missing = {(m, p) for m, p in server - sdk_operations() - set(EXCLUDED) if not p.startswith(prefixes)}
    assert not missing, f"add these to creditflow_client.resources or to EXCLUDED with a reason: {sorted(missing)}"
    assert set(EXCLUDED) <= server, "an exclusion names an operation the server no longer has"
    assert all(any(p.startswith(prefix) for _, p in server) for prefix in prefixes), "an excluded prefix is gone"


def test_the_sdk_calls_nothing_the_server_lacks_but_what_is_known_to_be_ahead() -> None:
    unknown = sdk_operations() - server_operations()
    assert unknown <= {(m, _shape(p)) for m, p in AHEAD_OF_SERVER}, sorted(unknown)
