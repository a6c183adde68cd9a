"""What each email says. Plain text: what happened, the figures, and what to do."""

from __future__ import annotations

from dataclasses import dataclass

from creditflow import money


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    subject: str
    body: str
    invoice_id: str | None = None
    """An invoice whose PDF is attached when the email is sent."""


def _amount(micros: int, unit: str) -> str:
    return f"{money.format(micros, unit)} {unit}"


def low_balance(available: int, threshold: int, unit: str) -> Message:
    return Message(
        kind="low_balance",
        subject=f"Your balance is low: {_amount(available, unit)} left",
        body=(f"Your available balance is {_amount(available, unit)}, below your alert threshold of "
              f"{_amount(threshold, unit)}.\n\nTop up now so your service is not interrupted.\n"),
    )


def depleted(available: int, unit: str) -> Message:
    return Message(
        kind="depleted",
        subject="Your balance has run out",
        body=(f"Your available balance is {_amount(available, unit)}. Usage is blocked until you top up.\n"),
    )


def topup_receipt(total: int, currency: str, credits: int, bonus: int, unit: str, invoice_id: str) -> Message:
    received = _amount(credits, unit) + (f" plus {_amount(bonus, unit)} bonus" if bonus else "")
    return Message(
        kind="topup_receipt",
        subject=f"Receipt for your top-up of {_amount(total, currency)}",
        body=(f"Thank you. We received {_amount(total, currency)} and added {received} to your balance.\n\n"
              "Your invoice is attached.\n"),
        invoice_id=invoice_id,
    )


def invoice_overdue(number: str, amount_due: int, currency: str, due_at: str, invoice_id: str) -> Message:
    return Message(
        kind="invoice_overdue",
        subject=f"Invoice {number} is overdue",
        body=(f"Invoice {number} was due on {due_at}; {_amount(amount_due, currency)} is still unpaid.\n\n"
              "Please pay it at your earliest convenience. The invoice is attached.\n"),
        invoice_id=invoice_id,
    )


def subscription_past_due(plan: str, amount: int, currency: str, grace_days: int) -> Message:
    return Message(
        kind="subscription_past_due",
        subject=f"Payment due for {plan}",
        body=(f"Your balance does not cover the renewal of {plan} ({_amount(amount, currency)}). We will try "
              f"again daily for {grace_days} days before the service is suspended. A top-up renews it at "
              "once.\n"),
    )


def subscription_suspended(plan: str, amount: int, currency: str) -> Message:
    return Message(
        kind="subscription_suspended",
        subject=f"{plan} is suspended",
        body=(f"{plan} is suspended because its renewal ({_amount(amount, currency)}) could not be paid from your "
              "balance. Top up to restart it at once.\n"),
    )


def auto_topup_link(total: int, currency: str, checkout_url: str) -> Message:
    return Message(
        kind="auto_topup_link",
        subject=f"Top up {_amount(total, currency)} to keep your service running",
        body=(f"Your balance is below your automatic top-up threshold, and there is no saved card to charge.\n\n"
              f"Pay {_amount(total, currency)} here to top up:\n{checkout_url}\n"),
    )
