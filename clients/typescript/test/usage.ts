// Compiled (never run) by `npm test`: the generated types accept real calls and reject wrong ones.
import { createCreditflow, unwrap } from "../src/index.js";

const cf = createCreditflow({ apiKey: "cf_sk_example" });

export async function typedCalls(): Promise<string> {
  const debit = await unwrap(cf.POST("/v1/debits", { body: { customer: "acme", amount: "2.50" } }));
  const hold = await unwrap(
    cf.POST("/v1/holds/{hold_id}/capture", { params: { path: { hold_id: "hold_1" } }, body: { amount: "0.42" } }),
  );
  // @ts-expect-error: a debit needs its amount
  await cf.POST("/v1/debits", { body: { customer: "acme" } });
  // @ts-expect-error: no such path
  await cf.GET("/v1/no_such_thing");
  return `${debit.id} ${hold.amount}`;
}

// The README's Next.js route handler, as written there: a portal session for the signed-in user.
export async function portalSession(userId: string): Promise<string> {
  const session = await unwrap(
    cf.POST("/v1/customers/{customer}/portal_sessions", {
      params: { path: { customer: userId } },
      body: { return_url: "https://app.example.com/billing" },
    }),
  );
  // @ts-expect-error: the customer goes in the path
  await cf.POST("/v1/customers/{customer}/portal_sessions", { body: {} });
  return `${session.url} ${session.expires_at}`;
}
