"""Operations declared as data: each resource method is one (HTTP method, path) of the creditflow API.

`resource.method(*path_args, idempotency_key=None, **fields)`: positional arguments fill the path's
`{segments}` in order; keyword fields are the JSON body (POST, PATCH, PUT) or the query (GET, DELETE),
None values left out. List operations return auto-paginating iterators, streamed ones (CSV exports) iterators
of the answer's bytes. Declaring them as data lets
one definition serve the sync and the async client, and lets a test check them against the server's
OpenAPI document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})


class Dispatcher(Protocol):
    def _call(self, operation: Operation, args: tuple[Any, ...], fields: dict[str, Any],
              idempotency_key: str | None) -> Any: ...


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    paginated: bool = False
    raw: bool = False
    doc: str = ""
    stream: bool = False

    def body_and_params(self, fields: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        present = {k: v for k, v in fields.items() if v is not None}
        explicit = present.pop("body", None)
        if self.method in BODY_METHODS:
            return (explicit if explicit is not None else present), None
        return None, present


class op:
    """A descriptor: `create = op("POST", "/v1/customers")` gives `client.customers.create(...)`."""

    def __init__(self, method: str, path: str, doc: str = "", *, paginated: bool = False, raw: bool = False,
                 stream: bool = False) -> None:
        self.operation = Operation(method, path, paginated, raw, doc, stream)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, resource: Resource | None, owner: type | None = None) -> Any:
        if resource is None:
            return self
        operation = self.operation

        def call(*args: Any, idempotency_key: str | None = None, **fields: Any) -> Any:
            return resource._client._call(operation, args, fields, idempotency_key)

        call.__name__ = self.name
        call.__doc__ = f"{operation.method} {operation.path}" + (f": {operation.doc}" if operation.doc else "")
        return call


class Resource:
    def __init__(self, client: Dispatcher) -> None:
        self._client = client

    @classmethod
    def operations(cls) -> dict[str, Operation]:
        return {name: value.operation for name, value in vars(cls).items() if isinstance(value, op)}
