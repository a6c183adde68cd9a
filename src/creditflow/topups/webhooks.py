"""POST /v1/webhooks/{gateway}: payment notifications in. No operator key: the signature is the authentication.

For each event: the signature is checked on the raw bytes before anything is read or stored (400 if it
fails); an event the inbox already holds is answered at once; otherwise it is confirmed with the gateway
where its signature does not cover everything (the Midtrans Status API) *before* anything commits, so a
failed confirmation (503) is retried by the gateway rather than swallowed by a committed inbox row. Then one
transaction inserts the inbox row (unique per gateway and event key) and applies the status (apply.py),
credit included. The answer is 2xx only after that commit; 503 on anything transient, so the gateway retries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import APIRouter, Request
from sqlalchemy.exc import DBAPIError

from creditflow.db.tx import Tx
from creditflow.errors import NotFound, ServiceUnavailable
from creditflow.invoices.models import Issuer
from creditflow.payments.gateways.base import GatewayEvent, PaymentKind
from creditflow.payments.gateways.errors import GatewayNotConfigured
from creditflow.topups import repository
from creditflow.topups.apply import ALREADY, IGNORED, apply_status
from creditflow.topups.context import Context, request_context
from creditflow.topups.schemas import WebhookAck, WebhookEventOutcome

log = logging.getLogger("creditflow.topups.webhooks")

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post(
    "/{gateway}", response_model=WebhookAck,
    responses={400: {"description": "invalid_signature: nothing was stored"},
               503: {"description": "transient failure: nothing was stored; the gateway retries"}},
)
async def receive_webhook(gateway: str, request: Request) -> WebhookAck:
    """A gateway's notification, signed by it (no operator key). 200 once it is stored and applied."""
    ctx = request_context(request, actor=f"webhook:{gateway}")
    outcomes = await receive(ctx, gateway, await request.body(), request.headers)
    return WebhookAck(events=[WebhookEventOutcome(event_type=kind, outcome=outcome) for kind, outcome in outcomes])


async def receive(ctx: Context, gateway_name: str, body: bytes, headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """Verify, confirm and apply every event in `body`; returns (event type, outcome) for each."""
    try:
        gateway = ctx.gateways.get(gateway_name)
    except GatewayNotConfigured:
        raise NotFound(f"no gateway '{gateway_name}' is configured here", param="gateway") from None
    outcomes = []
    for event in gateway.parse_webhook(body, headers):
        try:
            async with ctx.transaction() as tx:
                seen = await repository.event_seen(tx, gateway=gateway.name, event_key=event.event_key)
            if seen:
                outcomes.append((event.event_type, ALREADY))
                continue
            confirmed = await gateway.confirm(event)
            async with ctx.transaction() as tx:
                outcomes.append((event.event_type, await _record_and_apply(tx, gateway.name, confirmed, ctx.issuer)))
        except DBAPIError as error:
            # A lock wait that timed out, or a twin delivery that won the race: nothing of this event committed.
            log.warning("webhook %s %s not stored: %s", gateway.name, event.event_key, error)
            raise ServiceUnavailable("the event could not be stored now; deliver it again") from None
    return outcomes


async def _record_and_apply(tx: Tx, gateway: str, event: GatewayEvent, issuer: Issuer) -> str:
    status = event.status
    topup = await repository.load_topup(tx, status.topup_id, for_update=True) if status.topup_id else None
    if topup is not None and topup.gateway != gateway:
        topup = None  # another gateway's top-up: this gateway has no say over it
    recorded = await repository.record_event(
        tx, gateway=gateway, event_key=event.event_key, event_type=event.event_type,
        topup_id=topup.id if topup else None,
    )
    if not recorded:
        return ALREADY
    outcome = IGNORED
    if topup is not None and status.kind is not PaymentKind.IGNORED:
        outcome = await apply_status(tx, topup, status, issuer=issuer, source=f"webhook:{gateway}:{event.event_key}")
    await repository.set_event_outcome(tx, gateway=gateway, event_key=event.event_key, outcome=outcome)
    return outcome
