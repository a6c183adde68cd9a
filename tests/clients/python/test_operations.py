"""The SDK stays complete: every operation of the server's OpenAPI document is reachable from it."""

from __future__ import annotations

import re
import tempfile
from functools import cache

from creditflow.app import create_app
from creditflow.config import Settings
from creditflow_client._operations import Resource
from creditflow_client.client import _Base
from creditflow_client.resources import RESOURCES

# Operations the SDK leaves out on purpose, each with why.
EXCLUDED = {
    # Called by the payment gateways themselves, signed with their secret, never by an operator's code.
    ("POST", "/v1/webhooks/{}"): "gateways' signed notifications in",
}
# Operations the SDK offers before the server has them (the customer portal issue adds them).
AHEAD_OF_SERVER = {("POST", "/v1/portal_sessions")}


def _shape(path: str) -> str:
    """Path parameters' names differ between the server and the SDK; only their places matter."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def sdk_operations() -> set[tuple[str, str]]:
    resources: list[type[Resource]] = [*RESOURCES.values()]
    found = {(o.method, _shape(o.path)) for resource in resources for o in resource.operations().values()}
    authorize = vars(_Base)["authorize"].operation
    return found | {(authorize.method, _shape(authorize.path))}


@cache
def server_operations() -> frozenset[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{scratch}/openapi.db", jobs_enabled=False))
        paths = app.openapi()["paths"]
    return frozenset((method.upper(), _shape(path)) for path, item in paths.items() for method in item)


def test_every_server_operation_is_in_the_sdk_or_excluded_with_a_reason() -> None:
    server = server_operations()
    missing = server - sdk_operations() - set(EXCLUDED)
    assert not missing, f"add these to creditflow_client.resources or to EXCLUDED with a reason: {sorted(missing)}"
    assert set(EXCLUDED) <= server, "an exclusion names an operation the server no longer has"


def test_the_sdk_calls_nothing_the_server_lacks_but_what_is_known_to_be_ahead() -> None:
    unknown = sdk_operations() - server_operations()
    assert unknown <= {(m, _shape(p)) for m, p in AHEAD_OF_SERVER}, sorted(unknown)
