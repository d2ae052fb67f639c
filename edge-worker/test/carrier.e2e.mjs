#!/usr/bin/env node
// The carrier inside sessions, end to end through `wrangler dev` (real workerd, local D1, R2,
// Queues and Durable Objects) against tools/carrier-sim (a Control Center stand-in on
// 127.0.0.1 with fault injection):
//   1. no-go: an account connected to its own simulator runs a session as of a moment of a
//      period that has ended: it syncs, optimizes, reports, then pushes nothing (the
//      simulator records no change) and notifies the no-go with its reason and figures;
//   2. an auto-push account connected to a simulator that answers 429s and 500s (and loses
//      the answer of some rate plan changes it applied) syncs its fleet (full, in several
//      slices; the snapshot is the simulator's fleet), optimizes, reports and pushes; wrangler
//      is SIGKILLed in the middle of the push and restarted on the same state: every change is
//      applied exactly once (`/_sim/changes`), every device ends on its new plan, one push
//      notification;
//   3. a second session of the period syncs incrementally and its push is refused (one push
//      per billing period).
// Figures (devices, slices, requests, retries, times) are printed.
//
//   node edge-worker/test/carrier.e2e.mjs     (scripts/test-worker runs it)
//
// E2E_CARRIER_DEVICES sets the fleet size (default 600).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { ELIGIBILITY, PLANS, startSim } from "../../tools/carrier-sim/fixture.mjs";
import { adminToken, apiRequest as api, runWrangler, sleep, startWrangler, stopWrangler, waitReady } from "./wrangler.mjs";

const DEVICES = Number(process.env.E2E_CARRIER_DEVICES ?? 600);
const TIMEOUT_MS = Number(process.env.E2E_SESSION_TIMEOUT_MS ?? 600_000);

/** A local webhook receiver (127.0.0.1). */
async function webhookReceiver() {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { server, received, url: `http://127.0.0.1:${server.address().port}/hook` };
}

async function follow(ctx, id, done = (v) => v.state === "completed" || v.state === "failed") {
  const deadline = Date.now() + TIMEOUT_MS;
  let last = 0;
  while (Date.now() < deadline) {
    const got = await api(ctx.base, `/api/sessions/${id}`, { token: ctx.token }).catch(() => null);
    if (got?.status === 200) {
      const v = got.body;
      if (Date.now() - last > 5_000) {
        last = Date.now();
        const push = v.push ? ` push ${v.push.status} ${JSON.stringify(v.push.counts)}` : "";
        console.log(`        ${v.state}: ${v.progress.phase}${push}`);
      }
      if (done(v)) return v;
    }
    await sleep(100);
  }
  throw new Error(`session ${id} did not get there within ${TIMEOUT_MS} ms`);
}

async function sessionChanges(ctx, id) {
  const out = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await api(ctx.base, `/api/sessions/${id}/sims?changed=true&offset=${offset}&limit=1000`, { token: ctx.token });
    assert.equal(page.status, 200, page.text);
    out.push(...page.body.sims);
    if (out.length >= page.body.total) return out;
  }
}

async function newAccount(ctx, name, sim, extra = {}) {
  const account = await api(ctx.base, "/api/accounts", {
    token: ctx.token,
    method: "POST",
    json: { name, time_zone: "UTC", period_end_day: 1, notify_webhook: ctx.hook.url, auto_push: true, ...extra },
  });
  assert.equal(account.status, 201, account.text);
  const id = account.body.id;
  for (const [kind, body] of [["plans", PLANS], ["eligibility", ELIGIBILITY]]) {
    const got = await api(ctx.base, `/api/accounts/${id}/${kind}`, { token: ctx.token, method: "PUT", body, type: "text/csv" });
    assert.equal(got.status, 201, `${kind}: ${got.text.slice(0, 400)}`);
  }
  const carrier = await api(ctx.base, `/api/accounts/${id}/carrier`, {
    token: ctx.token,
    method: "PUT",
    json: { kind: "control_center", base_url: sim.base, username: "sim", api_key: "sim-key" },
  });
  assert.equal(carrier.status, 200, carrier.text);
  assert.ok(!carrier.text.includes("sim-key"), "the API key was answered");
  return id;
}

function checkSnapshot(view, devices) {
  assert.equal(view.sync.status, "done");
  assert.equal(view.sync.sims, devices.length, "SIMs in the snapshot");
  assert.equal(view.summary.sims, devices.length, "SIMs optimized");
}

const steps = [
  [
    "no-go: a session of a period that has ended syncs, optimizes, reports, pushes nothing and notifies why",
    async (ctx) => {
      const sim = ctx.simNoGo;
      const account = await newAccount(ctx, "No-go fleet", sim);
      const started = await api(ctx.base, `/api/accounts/${account}/sessions`, { token: ctx.token, method: "POST", json: { as_of: "2026-10-20T12:00" } });
      assert.equal(started.status, 201, started.text);
      assert.equal(started.body.state, "created");
      const view = await follow(ctx, started.body.id);
      assert.equal(view.state, "completed", view.reason);
      checkSnapshot(view, await sim.control("GET", "/_sim/devices"));
      assert.equal(view.sync.mode, "full");
      assert.ok(view.summary.changes > 0, "the optimization found no change");
      assert.equal(view.push.status, "no_go");
      assert.equal(view.push.decision.go, false);
      assert.equal(view.push.decision.changes, view.summary.changes);
      assert.match(view.push.reason, /the period ends in 0 min/);
      assert.deepEqual(await sim.control("GET", "/_sim/changes"), [], "a no-go pushed changes");
      const hooks = ctx.hook.received.filter((r) => r.body.session.id === view.id);
      assert.deepEqual(hooks.map((h) => h.body.event), ["session.completed", "push.no_go"]);
      const noGo = hooks[1];
      assert.equal(noGo.headers["idempotency-key"], `${view.id}-push`);
      assert.equal(noGo.body.session.push.reason, view.push.reason);
      assert.equal(noGo.body.session.push.decision.changes, view.summary.changes);
      console.log(`        no-go: ${view.summary.changes} changes; "${view.push.reason}"`);
    },
  ],
  [
    `sync of ${DEVICES} devices with 429s and 500s, optimize, report, push; SIGKILL mid-push and restart: every change applied exactly once`,
    async (ctx) => {
      const sim = ctx.sim;
      const account = await newAccount(ctx, "Pushed fleet", sim);
      ctx.pushAccount = account;
      const t0 = Date.now();
      const started = await api(ctx.base, `/api/accounts/${account}/sessions`, { token: ctx.token, method: "POST" });
      assert.equal(started.status, 201, started.text);
      const id = started.body.id;
      const optimizing = await follow(ctx, id, (v) => !["created", "syncing"].includes(v.state));
      const syncMs = Date.now() - t0;
      assert.notEqual(optimizing.state, "failed", optimizing.reason);
      const s = optimizing.sync;
      console.log(
        `        sync: ${s.mode}, ${s.sims} SIMs in ${s.slices} slices, ${s.stats.requests} requests, ${s.stats.retries} retries ` +
          `(${s.stats.rate_limited} x 429, ${s.stats.transient} x 5xx), ${(syncMs / 1000).toFixed(1)} s observed`,
      );
      assert.ok(s.slices >= 3, `the sync took ${s.slices} slices`);
      assert.ok(s.stats.rate_limited + s.stats.transient > 0, "no fault was met");
      // Killed in the middle of the push.
      const before = await follow(ctx, id, (v) => v.state === "failed" || v.state === "completed" || (v.push?.status === "pushing" && Object.values(v.push.counts).reduce((a, b) => a + b, 0) >= 20));
      assert.equal(before.state, "pushing", `the session was ${before.state} (${before.reason}) before the kill`);
      // Inside a slice: changes applied at the carrier that the session has not recorded yet.
      const recorded = Object.values(before.push.counts).reduce((a, b) => a + b, 0);
      let changedBefore = 0;
      for (let i = 0; i < 300 && changedBefore < recorded + 5; i++) {
        changedBefore = (await sim.control("GET", "/_sim/changes")).length;
        if (changedBefore < recorded + 5) await sleep(50);
      }
      await ctx.kill();
      console.log(`        killed wrangler during the push: ${recorded} outcomes recorded, ${changedBefore} changes at the simulator`);
      await ctx.restart();
      const view = await follow(ctx, id);
      console.log(`        session: ${(Date.now() - t0) / 1000} s end to end; push ${JSON.stringify(view.push.counts)}, ${view.push.slices} push slices, ${view.push.stats.retries} retries`);
      assert.equal(view.state, "completed", view.reason);
      const devices = await sim.control("GET", "/_sim/devices");
      checkSnapshot(view, devices);
      assert.equal(view.push.status, "completed");
      assert.equal(view.push.trigger, "auto");
      const changes = await sessionChanges(ctx, id);
      assert.equal(changes.length, view.summary.changes);
      assert.ok(changes.length >= 30, `only ${changes.length} changes`);
      // Exactly once: one change per ICCID at the simulator, each the session's.
      const applied = await sim.control("GET", "/_sim/changes");
      const byIccid = new Map();
      for (const c of applied) byIccid.set(c.iccid, [...(byIccid.get(c.iccid) ?? []), c]);
      const twice = [...byIccid].filter(([, list]) => list.length > 1);
      assert.deepEqual(twice, [], "changes applied more than once");
      assert.equal(applied.length, changes.length, "changes applied");
      const plan = new Map(devices.map((d) => [d.iccid, d.ratePlan]));
      for (const c of changes) {
        assert.equal(byIccid.get(c.iccid)?.[0]?.to, c.plan, `${c.iccid}'s change`);
        assert.equal(plan.get(c.iccid), c.plan, `${c.iccid}'s plan at the carrier`);
      }
      const outcomes = view.push.counts;
      assert.equal((outcomes.applied ?? 0) + (outcomes.already_on_target ?? 0), changes.length, JSON.stringify(outcomes));
      assert.equal(view.push.discrepancies, 0);
      const hooks = ctx.hook.received.filter((r) => r.body.session.id === id).map((h) => h.body.event);
      assert.deepEqual(hooks, ["session.completed", "push.completed"]);
      ctx.first = view;
    },
  ],
  [
    "a second session of the period syncs incrementally; its push is refused (one per billing period)",
    async (ctx) => {
      await ctx.sim.control("POST", "/_sim/touch", { count: 15, seed: 4 });
      const started = await api(ctx.base, `/api/accounts/${ctx.pushAccount}/sessions`, { token: ctx.token, method: "POST" });
      assert.equal(started.status, 201, started.text);
      const view = await follow(ctx, started.body.id);
      assert.equal(view.state, "completed", view.reason);
      assert.equal(view.sync.mode, "incremental");
      assert.ok(view.sync.counts.rows >= 15 && view.sync.counts.rows < DEVICES, `incremental rows: ${view.sync.counts.rows}`);
      checkSnapshot(view, await ctx.sim.control("GET", "/_sim/devices"));
      assert.equal(view.push.status, "refused");
      const carrier = await api(ctx.base, `/api/accounts/${ctx.pushAccount}/carrier`, { token: ctx.token });
      assert.equal(carrier.body.last_sync.session_id, view.id);
      assert.equal(carrier.body.last_sync.mode, "incremental");
      console.log(`        incremental: ${view.sync.counts.rows} devices re-read, ${view.sync.counts.usage_updates} usage refreshes, ${view.sync.slices} slices`);
    },
  ],
];

async function main() {
  adminToken();
  const stateDir = mkdtempSync(join(tmpdir(), "simopt-carrier-e2e-"));
  const hook = await webhookReceiver();
  const sim = await startSim(["--devices", String(DEVICES), "--seed", "21", "--error-rate", "0.03", "--rate-429", "0.02", "--retry-after", "1", "--lost-answer-rate", "0.1"]);
  const simNoGo = await startSim(["--devices", "200", "--seed", "8"]);
  const vars = Object.entries({
    WATCHDOG_SECONDS: "5",
    CARRIER_SLICE_REQUESTS: "100",
    CARRIER_REQUESTS_PER_SECOND: "500",
    CARRIER_CHANGES_PER_MINUTE: "300",
  }).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  let server;
  const start = async () => {
    server = await startWrangler(stateDir, vars);
    await waitReady(server);
  };
  const ctx = {
    hook,
    sim,
    simNoGo,
    get base() {
      return server.base;
    },
    async restart() {
      await stopWrangler(server);
      await start();
    },
    async kill() {
      try {
        process.kill(-server.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await server.exited;
    },
  };
  const stop = async () => {
    if (server) await stopWrangler(server);
    sim.stop();
    simNoGo.stop();
    hook.server.close();
    rmSync(stateDir, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop().finally(() => process.exit(130)));
  let failed = 0;
  try {
    await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir]);
    await start();
    const tenant = await api(ctx.base, "/api/admin/tenants", { token: adminToken(), method: "POST", json: { name: "Carrier E2E" } });
    assert.equal(tenant.status, 201, tenant.text);
    ctx.token = tenant.body.token;
    for (const [name, step] of steps) {
      try {
        await step(ctx);
        console.log(`  ok    ${name}`);
      } catch (error) {
        failed += 1;
        console.log(`  FAIL  ${name}\n        ${error.message}`);
        break;
      }
    }
  } catch (error) {
    failed += 1;
    console.log(`  FAIL  setting up: ${error.message}`);
  } finally {
    if (failed && server) {
      console.log("---- wrangler dev output (last 80 lines) ----");
      console.log(server.log.join("").split("\n").slice(-80).join("\n"));
    }
    await stop();
  }
  console.log(failed ? `carrier e2e: FAIL (${failed})` : "carrier e2e: PASS");
  process.exit(failed ? 1 : 0);
}

main();
