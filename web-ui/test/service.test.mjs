// The hand-off's pure rules (app/src/service.ts): the settings a new account gets from the page,
// where an account's settings differ from the page's, the settings a session ran with, and
// whether two results agree; and the API client's error handling against a fake fetch.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

const unit = (name) => import(pathToFileURL(`${process.env.WEB_UNIT ?? "target/web-unit"}/${name}`).href);
const {
  ServiceClient, ServiceError, figureDifferences, newAccountFrom, periodEndDayHour, sessionSettings, settingsDifferences,
} = await unit("service.js");

const PAGE = {
  timeZone: "America/New_York", periodEnd: "2026-11-22T00:00", chargeType: "rate-and-overage",
  projection: true, proration: true, marginPct: "1",
};
const ACCOUNT = {
  id: "a1", name: "Acme", time_zone: "America/New_York", period_end_day: 22, period_end_hour: 0, start_hour: 0,
  proration: true, charge_type: "rate-and-overage", projection: true, margin_pct: "1", currency_decimals: 2,
  current_period_end: "2026-12-22T00:00",
};

test("a new account takes the page's zone, period end day and hour, and billing settings", () => {
  assert.deepEqual(newAccountFrom(PAGE, "Acme"), {
    name: "Acme", time_zone: "America/New_York", period_end_day: 22, period_end_hour: 0,
    proration: true, charge_type: "rate-and-overage", projection: true, margin_pct: "1",
  });
  assert.deepEqual(periodEndDayHour("2026-11-30T06:00"), { day: 30, hour: 6 });
  // No period end on the page: the end of the month, which an account writes as day 1 at 0:00.
  assert.deepEqual(periodEndDayHour(""), { day: 1, hour: 0 });
  assert.equal(newAccountFrom({ ...PAGE, timeZone: "", marginPct: "" }, "x").time_zone, "UTC");
});

test("an account's settings are compared with the page's, each difference in words", () => {
  assert.deepEqual(settingsDifferences(ACCOUNT, PAGE), []);
  assert.deepEqual(settingsDifferences({ ...ACCOUNT, margin_pct: "1.0" }, { ...PAGE, marginPct: "01" }), [], "equal decimals");
  const differences = settingsDifferences(
    { ...ACCOUNT, time_zone: "UTC", period_end_day: 1, projection: false, margin_pct: "2.5", currency_decimals: 3 },
    PAGE,
  );
  assert.equal(differences.length, 5, differences.join("\n"));
  assert.match(differences[0], /^time zone: the account's is UTC, this page's America\/New_York$/);
  assert.match(differences[1], /^billing period end: the account's is day 1 at 0:00, this page's day 22 at 0:00 \(2026-11-22T00:00\)$/);
  assert.match(differences[2], /^projection: the account's is off, this page's on$/);
  assert.match(differences[3], /^projection margin: the account's is 2.5 %, this page's 1 %$/);
  assert.match(differences[4], /^currency decimals/);
});

test("a session's settings are the account's at the session's moment and period", () => {
  const session = { as_of: "2026-11-22T22:40:12Z", period_end: "2026-12-22T00:00" };
  assert.deepEqual(sessionSettings({ ...ACCOUNT, proration: false }, session), {
    asOf: "2026-11-22T22:40:12Z", periodEnd: "2026-12-22T00:00", timeZone: "America/New_York", proration: "off",
    chargeType: "rate-and-overage", projection: "on", marginPct: "1", currencyDecimals: "2", accountName: "Acme",
  });
});

test("figures agree only when every one is equal", () => {
  const a = { currentCost: "100.00", optimizedCost: "80.50", savings: "19.50", lowerBound: "80.10", changes: 3, sims: 10 };
  assert.deepEqual(figureDifferences(a, { ...a, optimizedCost: "80.5" }), [], "the same decimal written differently");
  assert.deepEqual(figureDifferences(a, { ...a, optimizedCost: "80.51", changes: 4 }), [
    "optimized cost 80.50 ≠ 80.51", "SIMs changing plan 3 ≠ 4",
  ]);
  assert.deepEqual(figureDifferences(a, { ...a, lowerBound: null }), ["lower bound 80.10 ≠ —"]);
});

test("the client: bearer header, 401 explained, 422 diagnostics, 409 gives the running session", async () => {
  const seen = [];
  const answers = [];
  globalThis.fetch = async (url, init) => {
    seen.push({ url, init });
    const [status, body] = answers.shift();
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  };
  const client = new ServiceClient("http://127.0.0.1:9/", "secret-token");

  answers.push([401, { error: "unauthorized", message: "the bearer token is not valid" }]);
  const refused = await client.accounts().catch((e) => e);
  assert.ok(refused instanceof ServiceError);
  assert.equal(refused.status, 401);
  assert.match(refused.message, /refused the token \(401\)/);
  assert.ok(!refused.message.includes("secret-token"), "the token is not in the message");
  assert.equal(seen[0].url, "http://127.0.0.1:9/api/accounts");
  assert.equal(seen[0].init.headers.authorization, "Bearer secret-token");

  answers.push([422, { error: "invalid-input", message: "sims.csv has 1 error", items: [{ severity: "error", code: "negative-amount", file: "sims.csv", row: 3, column: "usage_mb", message: "m", hint: "h" }], counts: [] }]);
  const invalid = await client.upload("a1", "sims", "iccid\n").catch((e) => e);
  assert.equal(invalid.status, 422);
  assert.equal(invalid.diagnostics[0].row, 3);
  assert.equal(seen[1].init.method, "PUT");
  assert.equal(seen[1].init.headers["content-type"], "text/csv");

  const running = { id: "s1", state: "optimizing" };
  answers.push([409, { error: "already-running", message: "a session is running", session: running }]);
  assert.deepEqual(await client.start("a1"), { session: running, running: true });
  answers.push([409, { error: "inputs-missing", message: "upload the plans first" }]);
  const missing = await client.start("a1").catch((e) => e);
  assert.equal(missing.code, "inputs-missing");

  // The account's current files: a removed eligibility file does not count.
  answers.push([200, { uploads: [
    { kind: "eligibility", current: true, removed: true },
    { kind: "eligibility", current: false },
    { kind: "plans", current: true },
  ] }]);
  assert.deepEqual([...(await client.uploadedKinds("a1"))], ["plans"]);
  answers.push([200, { kind: "eligibility", current: true, removed: true }]);
  await client.removeEligibility("a1");
  assert.equal(seen.at(-1).init.method, "DELETE");
  assert.equal(seen.at(-1).url, "http://127.0.0.1:9/api/accounts/a1/eligibility");

  answers.push([200, "<html>not the service</html>"]);
  assert.match((await client.accounts().catch((e) => e)).message, /did not answer like a simopt service/);

  globalThis.fetch = async () => {
    throw new TypeError("Failed to fetch");
  };
  const unreachable = await client.accounts().catch((e) => e);
  assert.equal(unreachable.status, 0);
  assert.match(unreachable.message, /Could not reach a simopt service at http:\/\/127.0.0.1:9 \(Failed to fetch\).*CORS/);
});
