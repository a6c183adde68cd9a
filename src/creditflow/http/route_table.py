"""Every (method, path template) an app serves: what the authorization and isolation matrices are generated from,
so that a route added without a row in them fails its test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from starlette.routing import Route


def route_table(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every HTTP route, sorted; HEAD (served with GET) is left out."""
    found = {(method, path) for methods, path in _routes(app.routes) for method in methods if method != "HEAD"}
    return sorted(found, key=lambda route: (route[1], route[0]))


def _routes(routes: list[Any]) -> Iterator[tuple[set[str], str]]:
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:  # an included router (FastAPI >= 0.165): its routes with their final paths
            for context in contexts():
                yield set(context.methods or ()), context.path
        elif isinstance(route, Route):
            yield set(route.methods or ()), route.path
