"""Every creditflow resource, mirroring the API (see the README's API overview for each body)."""

from __future__ import annotations

from creditflow_client._operations import Resource, op

C = "/v1/customers/{customer}"


class Customers(Resource):
    create = op("POST", "/v1/customers", "external_id, name?, email?, currency?, timezone?, credit_limit?, metadata?")
    list = op("GET", "/v1/customers", paginated=True)
    retrieve = op("GET", C)
    update = op("PATCH", C, "name, email, timezone, metadata")
    usage = op("GET", f"{C}/usage", "from, to, metric, group_by")


class Wallets(Resource):
    list = op("GET", f"{C}/wallets", "each wallet with posted, held, available, debt, lots", paginated=True)
    create = op("POST", f"{C}/wallets", "currency, credit_limit?")
    update = op("PATCH", f"{C}/wallets/{{currency}}", "credit_limit")
    set_low_balance_alert = op("PUT", f"{C}/wallets/{{currency}}/low_balance")
    get_low_balance_alert = op("GET", f"{C}/wallets/{{currency}}/low_balance")
    delete_low_balance_alert = op("DELETE", f"{C}/wallets/{{currency}}/low_balance")
    set_auto_topup = op("PUT", f"{C}/wallets/{{currency}}/auto_topup")
    get_auto_topup = op("GET", f"{C}/wallets/{{currency}}/auto_topup")
    delete_auto_topup = op("DELETE", f"{C}/wallets/{{currency}}/auto_topup")
    auto_topup_attempts = op("GET", f"{C}/wallets/{{currency}}/auto_topup/attempts", paginated=True)


class CreditGrants(Resource):
    create = op("POST", "/v1/credit_grants", "customer, amount, category: paid|promotional, ...")
    list = op("GET", "/v1/credit_grants", paginated=True)
    retrieve = op("GET", "/v1/credit_grants/{grant_id}")
    void = op("POST", "/v1/credit_grants/{grant_id}/void")


class Debits(Resource):
    create = op("POST", "/v1/debits", "customer, amount, currency?, description?, metadata?, api_key?")
    retrieve = op("GET", "/v1/debits/{debit_id}")
    refund = op("POST", "/v1/debits/{debit_id}/refund", "amount?")


class Holds(Resource):
    create = op("POST", "/v1/holds", "customer, amount, currency?, expires_in?, ...")
    list = op("GET", "/v1/holds", paginated=True)
    retrieve = op("GET", "/v1/holds/{hold_id}")
    capture = op("POST", "/v1/holds/{hold_id}/capture", "amount?, final?")
    void = op("POST", "/v1/holds/{hold_id}/void")


class Events(Resource):
    send = op("POST", "/v1/events", "customer, metric, transaction_id, timestamp?, properties?, api_key?")
    batch = op("POST", "/v1/events/batch", "events: up to 1,000")
    estimate = op("POST", "/v1/events/estimate")
    list = op("GET", "/v1/events", paginated=True)
    retrieve = op("GET", "/v1/events/{event_id}")
    refund = op("POST", "/v1/events/{event_id}/refund")


class Metrics(Resource):
    create = op("POST", "/v1/metrics", "code, name, aggregation, field?, filters?")
    list = op("GET", "/v1/metrics", paginated=True)
    retrieve = op("GET", "/v1/metrics/{metric}")
    archive = op("POST", "/v1/metrics/{metric}/archive")


class Prices(Resource):
    create = op("POST", "/v1/prices", "metric, currency, model, properties, ...")
    list = op("GET", "/v1/prices", paginated=True)
    retrieve = op("GET", "/v1/prices/{price_id}")
    archive = op("POST", "/v1/prices/{price_id}/archive")


class Budgets(Resource):
    create = op("POST", "/v1/budgets", "customer | api_key, amount, period, action, ...")
    list = op("GET", "/v1/budgets", paginated=True)
    retrieve = op("GET", "/v1/budgets/{budget_id}")
    update = op("PATCH", "/v1/budgets/{budget_id}")
    archive = op("POST", "/v1/budgets/{budget_id}/archive")
    reset = op("POST", "/v1/budgets/{budget_id}/reset", "a new period from now, spent 0")
    alerts = op("GET", "/v1/alerts", paginated=True)


class ApiKeys(Resource):
    create = op("POST", f"{C}/api_keys", "name, expires_at?, rate_limit?; the secret is in `key`, shown once")
    list = op("GET", f"{C}/api_keys", paginated=True)
    revoke = op("POST", f"{C}/api_keys/{{api_key_id}}/revoke")
    verify = op("POST", "/v1/api_keys/verify", "key")


class Packages(Resource):
    create = op("POST", "/v1/packages")
    list = op("GET", "/v1/packages", paginated=True)
    retrieve = op("GET", "/v1/packages/{package_id}")
    archive = op("POST", "/v1/packages/{package_id}/archive")


class Topups(Resource):
    create = op("POST", "/v1/topups", "customer, gateway, amount | package, currency?, return_url?, ...")
    list = op("GET", "/v1/topups", paginated=True)
    retrieve = op("GET", "/v1/topups/{topup_id}")
    verify = op("POST", "/v1/topups/{topup_id}/verify")
    refund = op("POST", "/v1/topups/{topup_id}/refund")


class PaymentMethods(Resource):
    list = op("GET", f"{C}/payment_methods", paginated=True)
    make_default = op("POST", f"{C}/payment_methods/{{payment_method_id}}/default")
    detach = op("DELETE", f"{C}/payment_methods/{{payment_method_id}}")
    charge = op("POST", f"{C}/payment_methods/{{payment_method_id}}/charge")


class Invoices(Resource):
    list = op("GET", "/v1/invoices", paginated=True)
    retrieve = op("GET", "/v1/invoices/{invoice_id}")
    pdf = op("GET", "/v1/invoices/{invoice_id}/pdf", "the PDF's bytes", raw=True)
    void = op("POST", "/v1/invoices/{invoice_id}/void")


class Coupons(Resource):
    create = op("POST", "/v1/coupons", "code, kind, value, currency?, applies_to?, max_redemptions?, ...")
    list = op("GET", "/v1/coupons", "status?", paginated=True)
    retrieve = op("GET", "/v1/coupons/{coupon}", "by id or code")
    archive = op("POST", "/v1/coupons/{coupon}/archive")
    redemptions = op("GET", "/v1/coupons/{coupon}/redemptions", paginated=True)
    preview = op("POST", "/v1/coupons/{coupon}/preview", "customer, amount, currency: the top-up it would give")


class Statements(Resource):
    retrieve = op("GET", f"{C}/statements/{{month}}", "month as YYYY-MM; 409 statement_not_ready before it ends")
    pdf = op("GET", f"{C}/statements/{{month}}/pdf", "the PDF's bytes", raw=True)


class Plans(Resource):
    create = op("POST", "/v1/plans")
    list = op("GET", "/v1/plans", paginated=True)
    retrieve = op("GET", "/v1/plans/{plan}")
    archive = op("POST", "/v1/plans/{plan}/archive")


class Subscriptions(Resource):
    create = op("POST", "/v1/subscriptions", "customer, plan, ...")
    list = op("GET", "/v1/subscriptions", paginated=True)
    retrieve = op("GET", "/v1/subscriptions/{subscription_id}")
    cancel = op("POST", "/v1/subscriptions/{subscription_id}/cancel")
    change = op("POST", "/v1/subscriptions/{subscription_id}/change")
    usage = op("GET", "/v1/subscriptions/{subscription_id}/usage", "the current period so far, priced by the plan")


class Usage(Resource):
    retrieve = op("GET", f"{C}/usage", "from, to, metric, group_by")


class Transactions(Resource):
    list = op("GET", "/v1/transactions", paginated=True)


class Reports(Resource):
    daily = op("GET", "/v1/reports/daily")
    summary = op("GET", "/v1/reports/summary", "from?, to?, group_by?: day|week|month, currency?")


class AuditEvents(Resource):
    list = op("GET", "/v1/audit_events", "actor?, resource?, from?, to?; newest first", paginated=True)


class Exports(Resource):
    """Each list whole as CSV, streamed: an iterator of byte chunks as they arrive (`async for` on the async
    client), e.g. `for chunk in cf.exports.customers(): file.write(chunk)`; memory stays flat however long."""

    customers = op("GET", "/v1/exports/customers.csv", stream=True)
    transactions = op("GET", "/v1/exports/transactions.csv", "customer?", stream=True)
    invoices = op("GET", "/v1/exports/invoices.csv", "customer?", stream=True)
    topups = op("GET", "/v1/exports/topups.csv", "customer?, status?", stream=True)
    events = op("GET", "/v1/exports/events.csv", "customer?, metric?", stream=True)


class WebhookEndpoints(Resource):
    create = op("POST", "/v1/webhook_endpoints", "url, events, description?; the answer carries the secret")
    list = op("GET", "/v1/webhook_endpoints", paginated=True)
    retrieve = op("GET", "/v1/webhook_endpoints/{endpoint_id}")
    update = op("PATCH", "/v1/webhook_endpoints/{endpoint_id}")
    delete = op("DELETE", "/v1/webhook_endpoints/{endpoint_id}")
    rotate_secret = op("POST", "/v1/webhook_endpoints/{endpoint_id}/rotate_secret",
                       "the new secret; the previous one still signs for 24 hours")


class WebhookEvents(Resource):
    list = op("GET", "/v1/webhook_events", paginated=True)
    retrieve = op("GET", "/v1/webhook_events/{event_id}")
    resend = op("POST", "/v1/webhook_events/{event_id}/resend")
    types = op("GET", "/v1/webhook_event_types", paginated=True)


class PortalSessions(Resource):
    create = op("POST", f"{C}/portal_sessions",
                "return_url?, expires_in?, flow?: a single-use `url` that signs the customer in, and `expires_at`")


class Health(Resource):
    live = op("GET", "/health/live")
    ready = op("GET", "/health/ready")


RESOURCES: dict[str, type[Resource]] = {
    "customers": Customers, "wallets": Wallets, "credit_grants": CreditGrants, "debits": Debits, "holds": Holds,
    "events": Events, "metrics": Metrics, "prices": Prices, "budgets": Budgets, "api_keys": ApiKeys,
    "packages": Packages, "topups": Topups, "payment_methods": PaymentMethods, "invoices": Invoices,
    "coupons": Coupons, "statements": Statements,
    "plans": Plans, "subscriptions": Subscriptions, "usage": Usage, "transactions": Transactions,
    "reports": Reports, "audit_events": AuditEvents, "exports": Exports, "webhook_endpoints": WebhookEndpoints,
    "webhook_events": WebhookEvents,
    "portal_sessions": PortalSessions, "health": Health,
}
