// The carrier connection of an account and the push's approval, inside workerd (local D1, R2,
// Queues and the session Durable Object). The sync and the push against a carrier run end to
// end in carrier.e2e.mjs (wrangler dev and tools/carrier-sim); here: the settings' checks, the
// API key never answered nor stored in clear, tenant isolation, a session of an account
// without a carrier unchanged, and the state machine of a push awaiting approval (approved
// once, refused twice, once per billing period), run on twins of a real session.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";

import { as, json, newTenant, object, settled } from "./api.mjs";
import { cases } from "./fixtures.mjs";

const basic = cases.basic;
const KEY = "sk-live-0123456789-the-carriers-api-key";
const GOOD = { kind: "control_center", base_url: "http://127.0.0.1:9/", username: "api-user", api_key: KEY, max_changes_per_sim_per_month: 1, earliest_effective_date: "2026-12-01" };

const T = {};

beforeAll(async () => {
  T.token = await newTenant("Carrier A");
  T.other = await newTenant("Carrier B");
  const account = await json(await as(T.token, "/api/accounts", { method: "POST", json: { name: "Carrier fleet", time_zone: "UTC", period_end_day: 1 } }));
  T.account = account.body.id;
});

describe("an account's carrier connection", () => {
  it("none at first: 404 naming the route that sets one", async () => {
    const got = await json(await as(T.token, `/api/accounts/${T.account}/carrier`));
    expect(got.status).toBe(404);
    expect(got.body.error).toBe("no-carrier");
    expect(got.body.message).toContain(`PUT /api/accounts/${T.account}/carrier`);
  });

  it("checks every field at once, naming each (400)", async () => {
    const put = (body) => as(T.token, `/api/accounts/${T.account}/carrier`, { method: "PUT", json: body }).then(json);
    const got = await put({ kind: "thingspace", base_url: "http://carrier.example", username: "", max_changes_per_sim_per_month: -2, earliest_effective_date: "soon", colour: "red" });
    expect(got.status).toBe(400);
    expect(got.body.error).toBe("bad-settings");
    expect(got.body.fields.map((f) => f.field).sort()).toEqual(["api_key", "base_url", "colour", "earliest_effective_date", "kind", "max_changes_per_sim_per_month", "username"]);
    expect(got.body.fields.find((f) => f.field === "base_url").message).toContain("https://");
    expect((await put([1])).body.error).toBe("bad-json");
  });

  it("stores the API key sealed and never answers it", async () => {
    const got = await json(await as(T.token, `/api/accounts/${T.account}/carrier`, { method: "PUT", json: GOOD }));
    expect(got.status, got.text).toBe(200);
    expect(got.text).not.toContain(KEY);
    expect(got.body).toMatchObject({ kind: "control_center", base_url: "http://127.0.0.1:9", username: "api-user", api_key_set: true, max_changes_per_sim_per_month: 1, earliest_effective_date: "2026-12-01", last_sync: null });
    expect("api_key" in got.body).toBe(false);
    const read = await json(await as(T.token, `/api/accounts/${T.account}/carrier`));
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(KEY);
    const row = await env.DB.prepare("SELECT * FROM account_carriers WHERE account_id = ?1").bind(T.account).first();
    expect(JSON.stringify(row)).not.toContain(KEY);
    expect(row.api_key_sealed).toMatch(/^v1\.[0-9a-f]{24}\.[0-9a-f]+$/);
    // A change of the rules keeps the stored key.
    const { api_key, ...rules } = GOOD;
    const again = await json(await as(T.token, `/api/accounts/${T.account}/carrier`, { method: "PUT", json: { ...rules, max_changes_per_sim_per_month: null } }));
    expect(again.status, again.text).toBe(200);
    expect(again.body.max_changes_per_sim_per_month).toBe(null);
    const kept = await env.DB.prepare("SELECT api_key_sealed FROM account_carriers WHERE account_id = ?1").bind(T.account).first();
    expect(kept.api_key_sealed).toBe(row.api_key_sealed);
  });

  it("another tenant can neither read, set nor remove it (404 as for none)", async () => {
    for (const [method, body] of [["GET"], ["PUT", GOOD], ["DELETE"]]) {
      const got = await json(await as(T.other, `/api/accounts/${T.account}/carrier`, { method, json: body }));
      expect(got.status, method).toBe(404);
      expect(got.text).not.toContain(KEY);
    }
    const unauthenticated = await as(undefined, `/api/accounts/${T.account}/carrier`);
    expect(unauthenticated.status).toBe(401);
  });

  it("is removed by DELETE, and set again", async () => {
    const del = await json(await as(T.token, `/api/accounts/${T.account}/carrier`, { method: "DELETE" }));
    expect(del.status).toBe(200);
    expect(del.body.removed).toBe(true);
    expect((await json(await as(T.token, `/api/accounts/${T.account}/carrier`, { method: "DELETE" }))).status).toBe(404);
  });
});

describe("the push of a session's changes", () => {
  let real; // a completed session of the account without a carrier
  let base; // its record
  const twinRecord = (id, overrides = {}) => {
    const record = structuredClone(base);
    record.view = { ...record.view, id, state: "notifying", reason: null, notification: null, finished_at: null };
    delete record.view.push;
    record.inputs = { ...record.inputs, carrier: true, auto_push: false, notify_webhook: null, notify_email: null };
    record.next = { step: "notify", unit: 0, slice: 0 };
    record.sent = false;
    record.failures = 0;
    record.delivered = { webhook: null, email: null };
    return { ...record, ...overrides };
  };

  beforeAll(async () => {
    for (const kind of ["plans", "eligibility", "sims"]) {
      const put = await as(T.token, `/api/accounts/${T.account}/${kind}`, { method: "PUT", body: basic[`${kind}.csv`], headers: { "content-type": "text/csv" } });
      expect(put.status).toBe(201);
    }
    const started = await json(await as(T.token, `/api/accounts/${T.account}/sessions`, { method: "POST" }));
    expect(started.status, started.text).toBe(201);
    real = await settled(T.token, started.body.id);
    const obj = object(`${T.account}/${real.period_end}`);
    base = (await obj.state()).body;
    T.object = obj;
    // From now on the account has a carrier (nothing listens at its URL: no request is made).
    const put = await json(await as(T.token, `/api/accounts/${T.account}/carrier`, { method: "PUT", json: GOOD }));
    expect(put.status, put.text).toBe(200);
  });

  it("a session of an account without a carrier is as before: no sync, no push, no approval", async () => {
    expect(real.state, real.reason).toBe("completed");
    expect("sync" in real).toBe(false);
    expect("push" in real).toBe(false);
    const got = await json(await as(T.token, `/api/sessions/${real.id}/push`, { method: "POST" }));
    expect(got.status).toBe(409);
    expect(got.body.error).toBe("push-refused");
    expect(got.body.message).toContain("no carrier connection");
  });

  it("without auto_push a carrier session completes with its push awaiting approval", async () => {
    const id = "a".repeat(32);
    expect((await T.object.start(twinRecord(id))).status).toBe(201);
    const view = await settled(T.token, id);
    expect(view.state, view.reason).toBe("completed");
    expect(view.push.status).toBe("awaiting_approval");
    T.awaiting = view;
  });

  it("another tenant cannot approve it (404); without a token, 401", async () => {
    const got = await json(await as(T.other, `/api/sessions/${T.awaiting.id}/push`, { method: "POST" }));
    expect(got.status).toBe(404);
    expect((await as(undefined, `/api/sessions/${T.awaiting.id}/push`, { method: "POST" })).status).toBe(401);
    const still = await json(await as(T.token, `/api/sessions/${T.awaiting.id}`));
    expect(still.body.push.status).toBe("awaiting_approval");
  });

  it("approved once: 202 and pushing; a second approval is 409", async () => {
    const first = await json(await as(T.token, `/api/sessions/${T.awaiting.id}/push`, { method: "POST" }));
    expect(first.status, first.text).toBe(202);
    expect(first.body.state).toBe("pushing");
    expect(first.body.push).toMatchObject({ status: "planned", trigger: "approval" });
    expect(first.body.finished_at).toBe(null);
    const second = await json(await as(T.token, `/api/sessions/${T.awaiting.id}/push`, { method: "POST" }));
    expect(second.status).toBe(409);
    expect(second.body.error).toBe("push-refused");
  });

  it("the push runs through the queue to its end (here a no-go: the twin has no changes) and completes", async () => {
    const view = await settled(T.token, T.awaiting.id);
    expect(view.state, view.reason).toBe("completed");
    expect(view.push.status).toBe("no_go");
    expect(view.push.reason).toBe("no change to push");
    expect(view.push.decision).toMatchObject({ go: false, changes: 0 });
    expect(view.push.notification).toBe("none configured");
    const claim = await env.DB.prepare("SELECT session_id, trigger, go FROM carrier_pushes WHERE account_id = ?1").bind(T.account).all();
    expect(claim.results).toEqual([{ session_id: T.awaiting.id, trigger: "approval", go: 0 }]);
    const again = await json(await as(T.token, `/api/sessions/${T.awaiting.id}/push`, { method: "POST" }));
    expect(again.status).toBe(409);
  });

  it("at most one push per billing period: a later session of the period cannot be approved", async () => {
    const id = "b".repeat(32);
    expect((await T.object.start(twinRecord(id))).status).toBe(201);
    const view = await settled(T.token, id);
    expect(view.push.status).toBe("awaiting_approval");
    const got = await json(await as(T.token, `/api/sessions/${id}/push`, { method: "POST" }));
    expect(got.status).toBe(409);
    expect(got.body.message).toContain(`already pushed by session ${T.awaiting.id}`);
  });

  it("with auto_push the session goes on to push by itself, and the period's claim refuses it", async () => {
    const id = "c".repeat(32);
    const record = twinRecord(id);
    record.inputs.auto_push = true;
    expect((await T.object.start(record)).status).toBe(201);
    const view = await settled(T.token, id);
    expect(view.state, view.reason).toBe("completed");
    expect(view.push.trigger).toBe("auto");
    expect(view.push.status).toBe("refused");
    expect(view.push.reason).toContain(`pushed by session ${T.awaiting.id}`);
  });

  it("a new session of an account with a carrier syncs first (no SIMs file needed); a connection removed meanwhile fails it", async () => {
    const account = await json(await as(T.token, "/api/accounts", { method: "POST", json: { name: "Synced fleet" } }));
    const id = account.body.id;
    await as(T.token, `/api/accounts/${id}/plans`, { method: "PUT", body: basic["plans.csv"], headers: { "content-type": "text/csv" } });
    const without = await json(await as(T.token, `/api/accounts/${id}/sessions`, { method: "POST" }));
    expect(without.status).toBe(409);
    expect(without.body.message).toContain("no sims file");
    expect((await as(T.token, `/api/accounts/${id}/carrier`, { method: "PUT", json: GOOD })).status).toBe(200);
    const started = await json(await as(T.token, `/api/accounts/${id}/sessions`, { method: "POST" }));
    expect(started.status, started.text).toBe(201);
    const record = (await object(`${id}/${started.body.period_end}`).state()).body;
    expect(record.next.step).toBe("sync");
    expect(record.inputs.carrier).toBe(true);
    expect(record.inputs.sims).toBe(null);
    // Nothing answers at the carrier's URL: the sync waits and retries; the connection goes.
    expect((await as(T.token, `/api/accounts/${id}/carrier`, { method: "DELETE" })).status).toBe(200);
    const view = await settled(T.token, started.body.id);
    expect(view.state).toBe("failed");
    expect(view.reason).toContain("carrier connection was removed");
  });
});
