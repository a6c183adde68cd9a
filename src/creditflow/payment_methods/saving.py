"""Recording the payment method a paid top-up saved at its gateway.

Called by topups/apply.py in the transaction that credits the top-up (or finds it credited: the report that
brings the card need not be the first), under the top-up's row lock. The method is unique per gateway, so
a replayed webhook, or both reports of one payment, record it once. A customer's first method is its default.
"""

from __future__ import annotations

from creditflow.db.tx import Tx
from creditflow.ids import new_id
from creditflow.payment_methods import repository
from creditflow.payment_methods.events import emit_payment_method
from creditflow.payment_methods.models import PaymentMethod
from creditflow.payments.gateways.base import SavedPaymentMethod

ID_PREFIX = "pm"


async def remember_saved_method(tx: Tx, *, customer_id: str, gateway: str, saved: SavedPaymentMethod) -> PaymentMethod:
    """The customer's method for `saved`, recorded now (with a payment_method.saved event) unless it was already."""
    await repository.lock_customer_methods(tx, customer_id)
    known = await repository.load_by_gateway_method(tx, gateway, saved.payment_method)
    if known is not None:
        return known
    inserted = await repository.insert_once(
        tx, id=new_id(ID_PREFIX), customer_id=customer_id, gateway=gateway, gateway_customer=saved.customer,
        gateway_method=saved.payment_method, brand=saved.brand, last4=saved.last4, exp_month=saved.exp_month,
        exp_year=saved.exp_year, is_default=not await repository.has_default(tx, customer_id),
    )
    method = await repository.load_by_gateway_method(tx, gateway, saved.payment_method)
    assert method is not None
    if inserted:
        await emit_payment_method(tx, "payment_method.saved", method)
    return method
