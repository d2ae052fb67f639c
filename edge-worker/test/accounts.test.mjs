// Tenants, bearer tokens, accounts and uploads, inside workerd with local D1 and R2 (the
// migrations applied by apply-migrations.mjs). The tests of this file share one database and
// run in order: the admin makes tenants A and B, A makes an account and uploads to it, B must
// see none of it.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";

import { as, call } from "./api.mjs";
import { cases, withSimRow } from "./fixtures.mjs";

const LIMIT = 64 * 1024 * 1024;
const basic = cases.basic;

/** Status and parsed JSON body; the answer must be JSON. */
async function answer(response) {
  const text = await response.text();
  expect(response.headers.get("content-type"), text).toBe("application/json");
  return { status: response.status, body: JSON.parse(text), headers: response.headers };
}

/** An answer that must be an error with this status and code. */
async function expectError(response, status, code) {
  const got = await answer(response);
  expect({ status: got.status, error: got.body.error }, JSON.stringify(got.body)).toEqual({
    status,
    error: code,
  });
  expect(typeof got.body.message).toBe("string");
  return got.body;
}

async function sha256Hex(data) {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function upload(token, account, kind, text, headers = { "content-type": "text/csv" }) {
  return as(token, `/api/accounts/${account}/${kind}`, { method: "PUT", body: text, headers });
}

const lines = (text) => text.trimEnd().split("\n").length - 1;

/** `text` gzip-compressed (one member). */
async function gzip(text) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function newTenant(name) {
  const res = await as(env.ADMIN_TOKEN, "/api/admin/tenants", { method: "POST", json: { name } });
  const { status, body, headers } = await answer(res);
  expect(status, JSON.stringify(body)).toBe(201);
  expect(headers.get("cache-control")).toBe("no-store");
  return body;
}

// ---- credentials ----

describe("every account route needs a tenant's bearer token", () => {
  const someId = "0123456789abcdef0123456789abcdef";
  const routes = [
    ["GET", "/api/accounts"],
    ["POST", "/api/accounts"],
    ["GET", `/api/accounts/${someId}`],
    ["PATCH", `/api/accounts/${someId}`],
    ["GET", `/api/accounts/${someId}/uploads`],
    ["PUT", `/api/accounts/${someId}/plans`],
    ["PUT", `/api/accounts/${someId}/eligibility`],
    ["PUT", `/api/accounts/${someId}/sims`],
  ];

  for (const [method, path] of routes) {
    it(`${method} ${path.replace(someId, ":id")}: 401 without a token, with a wrong one`, async () => {
      const body = method === "GET" ? undefined : "{}";
      const none = await expectError(await call(path, { method, body }), 401, "unauthorized");
      expect(none.message).toContain("Authorization: Bearer");
      const wrong = await as("f".repeat(64), path, { method, body });
      expect(wrong.headers.get("www-authenticate")).toContain("Bearer");
      await expectError(wrong, 401, "unauthorized");
      await expectError(
        await call(path, { method, body, headers: { authorization: "Basic YTpi" } }),
        401,
        "unauthorized",
      );
    });
  }

  it("the admin token is not a tenant token", async () => {
    await expectError(await as(env.ADMIN_TOKEN, "/api/accounts"), 401, "unauthorized");
  });

  it("health and cost stay open", async () => {
    expect((await call("/api/health")).status).toBe(200);
    const res = await call("/api/cost", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    await expectError(res, 400, "missing-file"); // read, not refused
  });

  it("the admin route needs the admin token", async () => {
    const json = { name: "Mallory" };
    const post = (token) => as(token, "/api/admin/tenants", { method: "POST", json });
    await expectError(await post(undefined), 401, "unauthorized");
    const wrong = await expectError(await post(`${env.ADMIN_TOKEN}x`), 401, "unauthorized");
    expect(wrong.message).toContain("ADMIN_TOKEN");
    expect(wrong.message).not.toContain(env.ADMIN_TOKEN);
  });
});

// ---- tenants, accounts, uploads ----

describe("two tenants, one account, its files", () => {
  let a; // { tenant, token }
  let b;
  let account; // A's account
  const settings = {
    name: "Acme Logistics",
    time_zone: "America/New_York",
    period_end_day: 22,
    period_end_hour: 0,
    start_hour: 6,
    proration: true,
    charge_type: "rate-and-overage",
    projection: true,
    margin_pct: "1",
    currency_decimals: 2,
    notify_email: "fleet-ops@example.com",
    notify_webhook: null,
    auto_push: false,
  };

  beforeAll(async () => {
    a = await newTenant("Tenant A");
    b = await newTenant("Tenant B");
  });

  it("the admin made two tenants, each with its own token, stored only hashed", async () => {
    for (const t of [a, b]) {
      expect(t.token).toMatch(/^[0-9a-f]{64}$/);
      expect(t.tenant.id).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(a.tenant.name).toBe("Tenant A");
    expect(a.token).not.toBe(b.token);
    expect(a.tenant.id).not.toBe(b.tenant.id);
    const rows = await env.DB.prepare("SELECT token_hash, tenant_id FROM api_tokens").all();
    const stored = Object.fromEntries(rows.results.map((r) => [r.tenant_id, r.token_hash]));
    expect(stored[a.tenant.id]).toBe(await sha256Hex(a.token));
    expect(stored[b.tenant.id]).toBe(await sha256Hex(b.token));
    const dump = JSON.stringify(rows.results);
    expect(dump).not.toContain(a.token);
    expect(dump).not.toContain(b.token);
  });

  it("an admin request without a good name is a 400", async () => {
    const res = await as(env.ADMIN_TOKEN, "/api/admin/tenants", { method: "POST", json: { name: " " } });
    await expectError(res, 400, "bad-json");
  });

  it("tenant A makes an account", async () => {
    const res = await as(a.token, "/api/accounts", { method: "POST", json: settings });
    const { status, body, headers } = await answer(res);
    expect(status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject(settings);
    expect(body.id).toMatch(/^[0-9a-f]{32}$/);
    expect(headers.get("location")).toBe(`/api/accounts/${body.id}`);
    expect(body.current_period_end).toMatch(/^\d{4}-\d{2}-22T00:00$/);
    account = body;
  });

  it("defaults fill what a new account leaves out", async () => {
    const res = await as(a.token, "/api/accounts", { method: "POST", json: { name: "Small" } });
    const { status, body } = await answer(res);
    expect(status).toBe(201);
    expect(body).toMatchObject({
      time_zone: "UTC",
      period_end_day: 1,
      period_end_hour: 0,
      proration: true,
      charge_type: "rate-and-overage",
      margin_pct: "1",
      currency_decimals: 2,
      auto_push: false,
      notify_email: null,
    });
  });

  it("A lists its accounts and reads one; B lists none", async () => {
    const list = await answer(await as(a.token, "/api/accounts"));
    expect(list.status).toBe(200);
    expect(list.body.accounts.map((x) => x.name)).toEqual(["Acme Logistics", "Small"]);
    const one = await answer(await as(a.token, `/api/accounts/${account.id}`));
    expect(one.status).toBe(200);
    expect(one.body).toEqual(account);
    const none = await answer(await as(b.token, "/api/accounts"));
    expect(none.body).toEqual({ accounts: [] });
  });

  it("bad settings: 400 naming each field", async () => {
    const post = (json) => as(a.token, "/api/accounts", { method: "POST", json });
    const body = await expectError(
      await post({ ...settings, time_zone: "Mars/Olympus", period_end_hour: 24, colour: "red" }),
      400,
      "bad-settings",
    );
    expect(body.fields.map((f) => f.field).sort()).toEqual(["colour", "period_end_hour", "time_zone"]);
    expect(body.message).toContain("time_zone: unknown time zone \"Mars/Olympus\"");
    expect(body.message).toContain("period_end_hour");
    for (const f of body.fields) expect(f.hint).toBeTypeOf("string");

    for (const [field, value] of [
      ["period_end_day", 0],
      ["period_end_day", 32],
      ["start_hour", -1],
      ["charge_type", "free"],
      ["margin_pct", "lots"],
      ["currency_decimals", 9],
      ["notify_email", "not-an-address"],
      ["notify_webhook", "ftp://127.0.0.1/x"],
      ["proration", "maybe"],
    ]) {
      const bad = await expectError(await post({ ...settings, [field]: value }), 400, "bad-settings");
      expect(bad.fields.map((f) => f.field), `${field}=${value}`).toEqual([field]);
    }
    const { name: _, ...noName } = settings;
    const missing = await expectError(await post(noName), 400, "bad-settings");
    expect(missing.fields.map((f) => f.field)).toEqual(["name"]);
    await expectError(await post([1, 2]), 400, "bad-json");
    const wrongType = await as(a.token, "/api/accounts", {
      method: "POST",
      body: "name=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    await expectError(wrongType, 415, "unsupported-media-type");
    // Nothing was made by the failures.
    const list = await answer(await as(a.token, "/api/accounts"));
    expect(list.body.accounts.length).toBe(2);
  });

  it("A changes some settings with PATCH", async () => {
    const patch = (json) => as(a.token, `/api/accounts/${account.id}`, { method: "PATCH", json });
    const { status, body } = await answer(await patch({ start_hour: 8, notify_email: null, margin_pct: 2.5 }));
    expect(status).toBe(200);
    expect(body).toMatchObject({ ...settings, start_hour: 8, notify_email: null, margin_pct: "2.5" });
    expect(body.created_at).toBe(account.created_at);
    const bad = await expectError(await patch({ period_end_day: 40 }), 400, "bad-settings");
    expect(bad.fields[0].field).toBe("period_end_day");
    const readOnly = await expectError(await patch({ id: "x" }), 400, "bad-settings");
    expect(readOnly.fields[0].field).toBe("id");
    const again = await answer(await as(a.token, `/api/accounts/${account.id}`));
    expect(again.body.start_hour).toBe(8);
    expect(again.body.period_end_day).toBe(22);
    account = again.body;
  });

  it("methods a route does not take: 405 (after the token)", async () => {
    const res = await as(a.token, `/api/accounts/${account.id}`, { method: "DELETE" });
    expect(res.headers.get("allow")).toBe("GET, PATCH");
    await expectError(res, 405, "method-not-allowed");
    await expectError(await as(a.token, `/api/accounts/${account.id}/sims`), 405, "method-not-allowed");
  });

  it("sims before plans: 409, nothing stored", async () => {
    const body = await expectError(
      await upload(a.token, account.id, "sims", basic["sims.csv"]),
      409,
      "plans-missing",
    );
    expect(body.message).toContain(`PUT /api/accounts/${account.id}/plans`);
  });

  it("A uploads the plans: the record, and the body in R2 under its SHA-256", async () => {
    const text = basic["plans.csv"];
    const { status, body } = await answer(await upload(a.token, account.id, "plans", text));
    expect(status, JSON.stringify(body)).toBe(201);
    const sha = await sha256Hex(text);
    expect(body).toMatchObject({
      account_id: account.id,
      kind: "plans",
      rows: lines(text),
      bytes: new TextEncoder().encode(text).length,
      sha256: sha,
      current: true,
      r2_key: `tenants/${a.tenant.id}/accounts/${account.id}/plans/${sha}.csv`,
    });
    expect(body.warnings).toMatchObject({ items: [], counts: [] });
    const object = await env.FILES.get(body.r2_key);
    expect(object).not.toBeNull();
    const stored = new Uint8Array(await object.arrayBuffer());
    expect(await sha256Hex(stored)).toBe(sha);
    expect(new TextDecoder().decode(stored)).toBe(text);
  });

  it("A uploads the eligibility and the SIMs, checked against the plans", async () => {
    for (const kind of ["eligibility", "sims"]) {
      const text = basic[`${kind}.csv`];
      const { status, body } = await answer(await upload(a.token, account.id, kind, text));
      expect(status, JSON.stringify(body)).toBe(201);
      expect(body).toMatchObject({ kind, rows: lines(text), sha256: await sha256Hex(text) });
      expect(await env.FILES.head(body.r2_key)).not.toBeNull();
    }
  });

  it("a malformed SIMs file: 422 with row and column, nothing stored", async () => {
    const before = (await answer(await as(a.token, `/api/accounts/${account.id}/uploads`))).body.uploads;
    const sims = withSimRow(basic["sims.csv"], 3, { usage_mb: "-3" });
    const body = await expectError(await upload(a.token, account.id, "sims", sims), 422, "invalid-input");
    expect(body.message).toBe("the sims file has 1 error(s); nothing was stored");
    expect(body.items).toContainEqual(
      expect.objectContaining({
        severity: "error",
        code: "negative-amount",
        file: "sims.csv",
        row: 3,
        column: "usage_mb",
      }),
    );
    expect(body.items.every((d) => typeof d.hint === "string")).toBe(true);
    const unknown = withSimRow(basic["sims.csv"], 4, { current_plan: "NOPE" });
    const body2 = await expectError(await upload(a.token, account.id, "sims", unknown), 422, "invalid-input");
    expect(body2.items).toContainEqual(
      expect.objectContaining({ code: "unknown-plan", row: 4, column: "current_plan" }),
    );
    const after = (await answer(await as(a.token, `/api/accounts/${account.id}/uploads`))).body.uploads;
    expect(after).toEqual(before);
    const stored = await env.FILES.list({ prefix: `tenants/${a.tenant.id}/accounts/${account.id}/sims/` });
    expect(stored.objects.map((o) => o.key).sort()).toEqual(before.filter((u) => u.kind === "sims").map((u) => u.r2_key).sort());
  });

  it("a malformed plans file: 422 with row and column", async () => {
    const plans = basic["plans.csv"].replace("M50,Medium 50 MB,6.00,", "M50,Medium 50 MB,six,");
    const body = await expectError(await upload(a.token, account.id, "plans", plans), 422, "invalid-input");
    expect(body.items).toContainEqual(
      expect.objectContaining({ file: "plans.csv", row: 3, column: "monthly_charge" }),
    );
  });

  it("an eligibility file naming an unknown plan: 422", async () => {
    const body = await expectError(
      await upload(a.token, account.id, "eligibility", "comm_plan,plan_id\nCP-TRACK,NOPE\n"),
      422,
      "invalid-input",
    );
    expect(body.items).toContainEqual(
      expect.objectContaining({ code: "unknown-plan", file: "eligibility.csv", row: 2, column: "plan_id" }),
    );
  });

  it("an upload of another type: 415; an empty one: 422", async () => {
    const json = await upload(a.token, account.id, "plans", "[]", { "content-type": "application/json" });
    await expectError(json, 415, "unsupported-media-type");
    const empty = await expectError(await upload(a.token, account.id, "plans", ""), 422, "invalid-input");
    expect(empty.items[0]).toMatchObject({ code: "empty-file", file: "plans.csv" });
  });

  it("a file over the limit: 413", async () => {
    const big = "x".repeat(LIMIT + 1);
    const body = await expectError(await upload(a.token, account.id, "sims", big), 413, "payload-too-large");
    expect(body.message).toContain("64 MiB");
    expect(body.message).toContain("each file of an account must fit");
  });

  it("the uploads, newest first, the latest of each kind current", async () => {
    // A second plans upload replaces the first as the current plans.
    const again = await answer(await upload(a.token, account.id, "plans", basic["plans.csv"]));
    expect(again.status).toBe(201);
    const { status, body } = await answer(await as(a.token, `/api/accounts/${account.id}/uploads`));
    expect(status).toBe(200);
    const seen = body.uploads.map((u) => [u.kind, u.current]);
    expect(seen).toEqual([
      ["plans", true],
      ["sims", true],
      ["eligibility", true],
      ["plans", false],
    ]);
    const ids = body.uploads.map((u) => u.id);
    expect([...ids].sort((x, y) => y - x)).toEqual(ids);
    expect(body.uploads[0].warnings).toBeUndefined();
  });

  it("tenant B cannot read, change or upload to A's account: 404 as for no account", async () => {
    const id = account.id;
    const missing = "0123456789abcdef0123456789abcdef";
    for (const [method, path, json] of [
      ["GET", `/api/accounts/${id}`],
      ["PATCH", `/api/accounts/${id}`, { name: "Taken" }],
      ["GET", `/api/accounts/${id}/uploads`],
    ]) {
      const theirs = await expectError(await as(b.token, path, { method, json }), 404, "not-found");
      const nobody = await expectError(
        await as(b.token, path.replace(id, missing), { method, json }),
        404,
        "not-found",
      );
      // The same answer, but for the id: nothing tells that A's account exists.
      expect(theirs.message.replace(id, "ID")).toBe(nobody.message.replace(missing, "ID"));
    }
    for (const kind of ["plans", "eligibility", "sims"]) {
      await expectError(await upload(b.token, id, kind, basic[`${kind}.csv`]), 404, "not-found");
    }
    // A's account is as it was.
    const mine = await answer(await as(a.token, `/api/accounts/${id}`));
    expect(mine.body).toEqual(account);
    const uploads = await answer(await as(a.token, `/api/accounts/${id}/uploads`));
    expect(uploads.body.uploads.length).toBe(4);
  });

  it("a SIMs file is stored as it comes, under a new id, plain or gzip-compressed (every member)", async () => {
    const text = basic["sims.csv"];
    const prefix = `tenants/${a.tenant.id}/accounts/${account.id}/sims/`;
    const cut = text.indexOf("\n", text.length >> 1) + 1;
    const members = new Uint8Array([...(await gzip(text.slice(0, cut))), ...(await gzip(text.slice(cut)))]);
    const keys = [];
    for (const [body, headers] of [
      [text, { "content-type": "text/csv" }],
      [members, { "content-type": "text/csv", "content-encoding": "gzip" }],
    ]) {
      const got = await answer(await upload(a.token, account.id, "sims", body, headers));
      expect(got.status, JSON.stringify(got.body)).toBe(201);
      expect(got.body).toMatchObject({
        kind: "sims",
        rows: lines(text),
        bytes: new TextEncoder().encode(text).length,
        sha256: await sha256Hex(text),
        current: true,
      });
      expect(got.body.r2_key).toMatch(new RegExp(`^${prefix}[0-9a-f]{32}\\.csv$`));
      const object = await env.FILES.get(got.body.r2_key);
      expect(await object.text()).toBe(text);
      keys.push(got.body.r2_key);
    }
    expect(keys[0]).not.toBe(keys[1]);
    const cutShort = members.slice(0, members.length - 5);
    const bad = await upload(a.token, account.id, "sims", cutShort, {
      "content-type": "text/csv",
      "content-encoding": "gzip",
    });
    await expectError(bad, 415, "unsupported-media-type");
  });
});

// ---- cross-origin calls ----

describe("CORS: a page served from an allowed origin may call the API", () => {
  const allowed = "https://fleet.example.test";

  it("a preflight from the allowed origin is answered 204 with the methods and headers", async () => {
    const res = await call("/api/accounts", {
      method: "OPTIONS",
      headers: { origin: allowed, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(res.headers.get("access-control-allow-methods")).toContain("PUT");
    expect(res.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("answers, errors included, carry the allowed origin; another origin gets none", async () => {
    const ok = await call("/api/health", { headers: { origin: allowed } });
    expect(ok.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(ok.headers.get("vary")).toContain("Origin");
    const refused = await call("/api/accounts", { headers: { origin: allowed } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe(allowed);
    const other = await call("/api/health", { headers: { origin: "https://elsewhere.test" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await call("/api/accounts", { method: "OPTIONS", headers: { origin: "https://elsewhere.test" } });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });
});

// ---- removing the eligibility file ----

describe("DELETE /api/accounts/:id/eligibility", () => {
  it("records that the account has no eligibility file any more; plans and SIMs cannot be deleted", async () => {
    const owner = await newTenant("Eligibility owner");
    const other = await newTenant("Eligibility other");
    const made = await answer(await as(owner.token, "/api/accounts", { method: "POST", json: { name: "Removals" } }));
    const id = made.body.id;
    for (const kind of ["plans", "eligibility"]) {
      const put = await upload(owner.token, id, kind, basic[`${kind}.csv`]);
      expect(put.status).toBe(201);
    }
    const refused = await as(other.token, `/api/accounts/${id}/eligibility`, { method: "DELETE" });
    expect(refused.status).toBe(404);
    const removed = await answer(await as(owner.token, `/api/accounts/${id}/eligibility`, { method: "DELETE" }));
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ kind: "eligibility", current: true, removed: true, bytes: 0, rows: 0 });
    const list = await answer(await as(owner.token, `/api/accounts/${id}/uploads`));
    expect(list.body.uploads.map((u) => [u.kind, u.current, u.removed ?? false])).toEqual([
      ["eligibility", true, true],
      ["eligibility", false, false],
      ["plans", true, false],
    ]);
    // SIMs are now checked with every plan allowed; a new eligibility file is current again.
    expect((await upload(owner.token, id, "sims", basic["sims.csv"])).status).toBe(201);
    expect((await upload(owner.token, id, "eligibility", basic["eligibility.csv"])).status).toBe(201);
    const plans = await as(owner.token, `/api/accounts/${id}/plans`, { method: "DELETE" });
    expect(plans.status).toBe(405);
    expect(plans.headers.get("allow")).toBe("PUT");
  });
});
