#!/usr/bin/env node
// End to end through `wrangler dev`: starts the Worker the way a developer does (from the
// repository root, local workerd, nothing from the network), posts the basic fixture as a
// browser would, and compares the answer with tests/fixtures/cases/basic/cost.json byte for byte.
// Then the account flow on local D1 and R2: the migrations applied with
// `wrangler d1 migrations apply DB --local`, a tenant made with the admin token of .dev.vars
// (scripts/dev-vars writes one when there is none), an account, its plans and SIMs uploaded and
// read back, the request log lines checked, and everything read back again after a restart on
// the same persisted state. wrangler is always stopped (its whole process group, by id), also
// on failure or Ctrl-C; its state lives in a temporary directory removed at the end.
//
//   node edge-worker/test/wrangler-dev.e2e.mjs     (scripts/test-worker runs it after building)
//
// E2E_READY_TIMEOUT_MS bounds the wait for the server (default 180 s: wrangler runs the
// `[build] command`, a no-op when scripts/build-worker already built the Worker).
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { adminToken, apiRequest, ROOT, runWrangler, startWrangler, stopWrangler, waitReady } from "./wrangler.mjs";

const CASE = join(ROOT, "tests/fixtures/cases/basic");

const fixture = (name) => readFileSync(join(CASE, name), "utf8");

function basicForm({ sims = fixture("sims.csv") } = {}) {
  const form = new FormData();
  form.append("sims", new Blob([sims], { type: "text/csv" }), "sims.csv");
  form.append("plans", new Blob([fixture("plans.csv")], { type: "text/csv" }), "plans.csv");
  form.append("eligibility", new Blob([fixture("eligibility.csv")], { type: "text/csv" }), "eligibility.csv");
  for (const [key, value] of Object.entries(JSON.parse(fixture("settings.json")))) {
    form.append(key, String(value));
  }
  return form;
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const checks = [
  [
    "POST /api/cost (multipart, basic fixture) answers cost.json byte for byte",
    async (base) => {
      const res = await fetch(`${base}/api/cost`, { method: "POST", body: basicForm() });
      const text = await res.text();
      assert(res.status === 200, `status ${res.status}: ${text.slice(0, 500)}`);
      assert(res.headers.get("content-type") === "application/json", "content-type is not JSON");
      const expected = fixture("cost.json");
      if (text !== expected) {
        const at = [...expected].findIndex((c, i) => text[i] !== c);
        throw new Error(`body differs from cost.json at byte ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 40))}`);
      }
    },
  ],
  [
    "POST /api/cost with a negative usage answers 422 at row 3, column usage_mb",
    async (base) => {
      const lines = fixture("sims.csv").split("\n");
      const names = lines[0].split(",");
      const row3 = lines[2].split(",");
      row3[names.indexOf("usage_mb")] = "-3";
      lines[2] = row3.join(",");
      const res = await fetch(`${base}/api/cost`, { method: "POST", body: basicForm({ sims: lines.join("\n") }) });
      const body = await res.json();
      assert(res.status === 422, `status ${res.status}`);
      assert(body.error === "invalid-input", `error ${body.error}`);
      const hit = body.items.find(
        (d) => d.code === "negative-amount" && d.file === "sims.csv" && d.row === 3 && d.column === "usage_mb",
      );
      assert(hit, `no negative-amount diagnostic at sims.csv row 3 usage_mb: ${JSON.stringify(body.items)}`);
    },
  ],
  [
    "unknown API paths reach the Worker and answer 404 JSON",
    async (base) => {
      const res = await fetch(`${base}/api/nothing`);
      const body = await res.json();
      assert(res.status === 404 && body.error === "not-found", `status ${res.status}, ${JSON.stringify(body)}`);
    },
  ],
];

// ---- the account flow (local D1 and R2) ----

/** State carried from one account check to the next. */
const flow = {};

/** An API call, with the flow's token unless another is given. */
const api = (base, path, options = {}) => apiRequest(base, path, { token: flow.token, ...options });

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const dataRows = (text) => text.trimEnd().split("\n").length - 1;

async function readBack(base) {
  assert(flow.account, "no account from the steps before");
  const got = await api(base, `/api/accounts/${flow.account.id}`);
  assert(got.status === 200, `GET account: ${got.status} ${JSON.stringify(got.body)}`);
  for (const key of ["name", "time_zone", "period_end_day", "start_hour"]) {
    assert(got.body[key] === flow.account[key], `${key}: ${got.body[key]} != ${flow.account[key]}`);
  }
  const list = await api(base, `/api/accounts/${flow.account.id}/uploads`);
  assert(list.status === 200, `GET uploads: ${list.status}`);
  const kinds = list.body.uploads.map((u) => `${u.kind}:${u.rows}:${u.sha256}:${u.current}`);
  const want = [
    `sims:${dataRows(fixture("sims.csv"))}:${sha256(fixture("sims.csv"))}:true`,
    `plans:${dataRows(fixture("plans.csv"))}:${sha256(fixture("plans.csv"))}:true`,
  ];
  assert(JSON.stringify(kinds) === JSON.stringify(want), `uploads ${JSON.stringify(kinds)}, want ${JSON.stringify(want)}`);
}

const accountChecks = [
  [
    "POST /api/admin/tenants with the admin token of .dev.vars: a tenant and its token",
    async (base) => {
      const got = await api(base, "/api/admin/tenants", {
        token: adminToken(),
        method: "POST",
        json: { name: "E2E Tenant" },
      });
      assert(got.status === 201, `status ${got.status}: ${JSON.stringify(got.body)}`);
      assert(/^[0-9a-f]{64}$/.test(got.body.token), "no 64-hex-digit token");
      flow.token = got.body.token;
      flow.tenant = got.body.tenant.id;
    },
  ],
  [
    "the account routes answer 401 without a token and with a wrong one",
    async (base) => {
      for (const token of [null, "0".repeat(64)]) {
        const got = await api(base, "/api/accounts", { token });
        assert(got.status === 401 && got.body.error === "unauthorized", `status ${got.status}`);
      }
    },
  ],
  [
    "POST /api/accounts makes an account; bad settings are a 400 naming the field",
    async (base) => {
      const settings = { name: "E2E fleet", time_zone: "America/New_York", period_end_day: 22, start_hour: 6 };
      const bad = await api(base, "/api/accounts", { method: "POST", json: { ...settings, start_hour: 25 } });
      assert(bad.status === 400 && bad.body.fields?.[0]?.field === "start_hour", `bad: ${JSON.stringify(bad.body)}`);
      const got = await api(base, "/api/accounts", { method: "POST", json: settings });
      assert(got.status === 201, `status ${got.status}: ${JSON.stringify(got.body)}`);
      flow.account = got.body;
    },
  ],
  [
    "PUT the plans, then the SIMs: 201 with rows, bytes and SHA-256",
    async (base) => {
      assert(flow.account, "no account from the step before");
      for (const kind of ["plans", "sims"]) {
        const text = fixture(`${kind}.csv`);
        const got = await api(base, `/api/accounts/${flow.account.id}/${kind}`, {
          method: "PUT",
          body: text,
          type: "text/csv",
        });
        assert(got.status === 201, `${kind}: status ${got.status}: ${JSON.stringify(got.body).slice(0, 500)}`);
        const b = got.body;
        assert(b.rows === dataRows(text), `${kind}: rows ${b.rows}`);
        assert(b.bytes === Buffer.byteLength(text), `${kind}: bytes ${b.bytes}`);
        assert(b.sha256 === sha256(text), `${kind}: sha256 ${b.sha256}`);
        // A SIMs file is stored as it comes, under a new id: its digest is known only at its end.
        const name = kind === "sims" ? "[0-9a-f]{32}" : sha256(text);
        assert(
          new RegExp(`^tenants/${flow.tenant}/accounts/${flow.account.id}/${kind}/${name}\\.csv$`).test(b.r2_key),
          `${kind}: r2_key ${b.r2_key}`,
        );
      }
    },
  ],
  ["GET the account and its uploads back", readBack],
  [
    "one JSON log line per request, with route and tenant id, never the token",
    async (_base, server) => {
      const lines = server.log
        .join("")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.startsWith('{"event":"request"'))
        .map((l) => JSON.parse(l));
      const upload = lines.find((l) => l.route === "/api/accounts/:id/sims" && l.status === 201);
      assert(upload, `no log line of the SIMs upload among ${lines.length}`);
      assert(upload.tenant === flow.tenant && upload.method === "PUT", JSON.stringify(upload));
      assert(typeof upload.ms === "number", "no ms");
      const refused = lines.find((l) => l.status === 401 && l.error === "unauthorized");
      assert(refused && refused.tenant === null, "no log line of a refused request");
      assert(!server.log.join("").includes(flow.token), "the token appears in the output");
    },
  ],
  [
    "after a restart on the same --persist-to state: the account, its uploads, and a new upload checked against the stored plans",
    async (_base, _server, ctx) => {
      await ctx.restart();
      await readBack(ctx.base);
      const text = fixture("sims.csv").replace(",3.5,", ",4.5,");
      const got = await api(ctx.base, `/api/accounts/${flow.account.id}/sims`, {
        method: "PUT",
        body: text,
        type: "text/csv",
      });
      assert(got.status === 201 && got.body.sha256 === sha256(text), `status ${got.status}: ${JSON.stringify(got.body).slice(0, 300)}`);
    },
  ],
];

async function main() {
  // wrangler dev reads .dev.vars when it starts: make sure it holds an admin token first (a
  // fresh clone has none).
  adminToken();
  const stateDir = mkdtempSync(join(tmpdir(), "simopt-wrangler-"));
  let server;
  let passed = 0;
  let failed = 0;
  const stop = async () => {
    if (server) await stopWrangler(server);
    rmSync(stateDir, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => stop().finally(() => process.exit(130)));
  }
  const start = async () => {
    server = await startWrangler(stateDir);
    const t0 = Date.now();
    await waitReady(server);
    console.log(`wrangler dev ready on ${server.base} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  const ctx = {
    get base() {
      return server.base;
    },
    async restart() {
      await stopWrangler(server);
      await start();
    },
  };
  const run = async (name, check) => {
    try {
      await check(server.base, server, ctx);
      passed += 1;
      console.log(`  ok    ${name}`);
    } catch (error) {
      failed += 1;
      console.log(`  FAIL  ${name}\n        ${error.message}`);
    }
  };
  try {
    const t0 = Date.now();
    await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir]);
    console.log(`D1 migrations applied (wrangler d1 migrations apply DB --local) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await start();
    for (const [name, check] of [...checks, ...accountChecks]) await run(name, check);
  } catch (error) {
    failed += 1;
    console.log(`  FAIL  ${error.message}`);
  } finally {
    await stop();
  }
  if (failed > 0 && server) {
    console.log("---- wrangler dev output ----");
    console.log(server.log.join("").trimEnd());
    console.log("-----------------------------");
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
