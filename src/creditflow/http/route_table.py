"""The app's routes as FastAPI keeps them: the walk that 405 answers (http/errors.py) and the authorization and
isolation matrices share, so that a route added without a row in a matrix fails its test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def leaf_routes(routes: list[Any]) -> Iterator[Any]:
    """Every route, each included router opened up (FastAPI >= 0.165 keeps one as a single entry)."""
    for route in routes:
        if hasattr(route, "effective_candidates"):
            yield from leaf_routes(route.effective_candidates())
        else:
            yield route


def route_table(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every HTTP route, sorted; HEAD (served with GET) is left out."""
    found = {
        (method, route.path)
        for route in leaf_routes(app.router.routes)
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    return sorted(found, key=lambda route: (route[1], route[0]))
