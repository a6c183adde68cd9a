// The TypeScript client against a real `creditflow serve` (tests/clients/typescript/test_client.py starts it
// and passes CREDITFLOW_BASE_URL and CREDITFLOW_API_KEY).
import assert from "node:assert/strict";
import { test } from "node:test";

import { CreditflowError, createCreditflow, paginate, unwrap } from "../dist/index.js";

const baseUrl = process.env.CREDITFLOW_BASE_URL;
const apiKey = process.env.CREDITFLOW_API_KEY;
assert.ok(baseUrl && apiKey, "set CREDITFLOW_BASE_URL and CREDITFLOW_API_KEY (a served creditflow)");

const cf = createCreditflow({ apiKey, baseUrl });

async function fundedCustomer(amount) {
  const customer = await unwrap(
    cf.POST("/v1/customers", { body: { external_id: `ts-${crypto.randomUUID().slice(0, 12)}` } }),
  );
  await unwrap(cf.POST("/v1/credit_grants", { body: { customer: customer.id, amount, category: "paid" } }));
  return customer.id;
}

async function available(customer) {
  const wallets = await unwrap(cf.GET("/v1/customers/{customer}/wallets", { params: { path: { customer } } }));
  const list = Array.isArray(wallets) ? wallets : wallets.data;
  return list[0].available;
}

test("a debit sent twice under one Idempotency-Key moves money once", async () => {
  const customer = await fundedCustomer("10.00");
  const headers = { "Idempotency-Key": `order-${customer}` };
  const first = await unwrap(cf.POST("/v1/debits", { body: { customer, amount: "2.50" }, headers }));
  const again = await unwrap(cf.POST("/v1/debits", { body: { customer, amount: "2.50" }, headers }));
  assert.equal(again.id, first.id);
  assert.equal(await available(customer), "7.50");
});

test("answers lost in transit are retried with the same key and charge once", async () => {
  const customer = await fundedCustomer("10.00");
  const keys = [];
  let lose = 2;
  const lossy = createCreditflow({
    apiKey, baseUrl, baseDelayMs: 10,
    fetch: async (request) => {
      keys.push(request.headers.get("idempotency-key"));
      const response = await fetch(request);
      if (lose-- > 0) throw new TypeError("fetch failed: connection reset");
      return response;
    },
  });
  const debit = await unwrap(lossy.POST("/v1/debits", { body: { customer, amount: "3.00" } }));
  assert.equal(keys.length, 3);
  assert.equal(new Set(keys).size, 1);
  assert.match(keys[0], /^cfc_/);
  assert.equal(debit.wallet.available, "7.00");
  assert.equal(await available(customer), "7.00");
});

test("a refused debit is a CreditflowError with its code; authorize answers allowed or not", async () => {
  const customer = await fundedCustomer("1.00");
  await assert.rejects(
    unwrap(cf.POST("/v1/debits", { body: { customer, amount: "5.00" } })),
    (error) => error instanceof CreditflowError && error.status === 402 && error.code === "insufficient_funds",
  );
  const allowed = await unwrap(cf.POST("/v1/authorize", { body: { customer, amount: "0.60" } }));
  assert.equal(allowed.allowed, true);
  const refused = await unwrap(cf.POST("/v1/authorize", { body: { customer, amount: "0.60" } }));
  assert.deepEqual([refused.allowed, refused.reason], [false, "insufficient_funds"]);
  const capture = await unwrap(
    cf.POST("/v1/holds/{hold_id}/capture", { params: { path: { hold_id: allowed.hold_id } }, body: { amount: "0.25" } }),
  );
  assert.equal(capture.amount, "0.25");
});

test("lists page through everything", async () => {
  const customer = await fundedCustomer("1.00");
  for (let i = 0; i < 4; i++) {
    await unwrap(cf.POST("/v1/credit_grants", { body: { customer, amount: "1", category: "promotional" } }));
  }
  const grants = [];
  for await (const grant of paginate((starting_after) =>
    cf.GET("/v1/credit_grants", { params: { query: { customer, limit: 2, starting_after } } }),
  )) {
    grants.push(grant.id);
  }
  assert.equal(grants.length, 5);
  assert.equal(new Set(grants).size, 5);
});
