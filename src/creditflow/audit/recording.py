"""The one place operator changes made through the API are audited: the request lifecycle
(http/unit_of_work.py) asks here before and after the endpoint runs, inside the request's transaction.

Which routes are audited, and how, is a table of rules keyed by (method, route template) that the app wires
in (app.state.audit_rules, from audit/rules.py), so the spend path (debits, holds, events) is simply absent
and an endpoint never records anything itself.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from creditflow.audit import service
from creditflow.audit.models import Change
from creditflow.db.tx import Tx
from creditflow.errors import DomainError

# The resource as the API shows it, read before the change (None: it does not exist yet).
Loader = Callable[[Tx, Mapping[str, str]], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class AuditRule:
    action: str
    resource_type: str
    # Path parameters naming the resource; none: the response's "id" (a create).
    id_params: tuple[str, ...] = ()
    load: Loader | None = None


AuditRules = Mapping[tuple[str, str], AuditRule]


@dataclass(frozen=True, slots=True)
class Pending:
    rule: AuditRule
    params: Mapping[str, str]
    before: dict[str, Any] | None


def _rule(request: Request) -> AuditRule | None:
    rules: AuditRules = getattr(request.app.state, "audit_rules", {})
    template = getattr(request.scope.get("route"), "path", None)
    return rules.get((request.method, template)) if template else None


async def _load(rule: AuditRule, tx: Tx, params: Mapping[str, str]) -> dict[str, Any] | None:
    if rule.load is None:
        return None
    try:
        return await rule.load(tx, params)
    except DomainError:
        return None  # missing before a create, or renamed by the change: the response tells the rest


async def before_change(request: Request, tx: Tx) -> Pending | None:
    """Whether this request is audited, with the resource's state before it runs."""
    rule = _rule(request)
    if rule is None:
        return None
    params = dict(request.path_params)
    return Pending(rule, params, await _load(rule, tx, params))


def _document(response: Response) -> dict[str, Any] | None:
    try:
        document = json.loads(bytes(response.body)) if response.body else None
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _resource_id(pending: Pending, after: dict[str, Any] | None) -> str | None:
    """The loaded resource's own id (ids in paths may be external ids), else the path's, else the response's."""
    rule = pending.rule
    loaded = pending.before or (after if rule.load is not None else None)
    if loaded is not None and isinstance(loaded.get("id"), str):
        return loaded["id"]
    if rule.id_params:
        return "/".join(str(pending.params[name]) for name in rule.id_params)
    return (after or {}).get("id")


async def after_change(pending: Pending, request: Request, tx: Tx, response: Response) -> None:
    """Record the change the endpoint made, in its transaction, before the commit."""
    rule = pending.rule
    after = None
    if request.method != "DELETE":
        after = await _load(rule, tx, pending.params) or _document(response)
    change = Change(rule.action, rule.resource_type, _resource_id(pending, after), pending.before, after)
    await service.record(
        tx, change, ip=request.client.host if request.client else None,
        request_id=request.headers.get("Idempotency-Key"),
    )
