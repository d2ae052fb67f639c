#!/usr/bin/env node
// The main job on the embedded default: the optimization service in `wrangler dev` (real
// workerd with local D1, R2, Queues and Durable Objects), driven the way an operator would.
//
//   1. starts `wrangler dev` on 127.0.0.1 (state kept in target/demo/wrangler-state);
//   2. makes (once) a demo tenant — its token is kept in target/demo/tenant.json — and a new
//      account whose billing period ends in three days, so its scheduling window is open;
//   3. uploads the demo fleet (target/demo/fleet: `simopt gen --sims 30000 --seed 2026
//      --comm-plans 4 --plans-per-comm-plan 6`: four communication plans, pooled and non-pooled
//      plans);
//   4. fires the hourly cron (`/__scheduled`), which starts the account's session;
//   5. follows the session through its queue-chained slices with a progress line, prints the
//      savings and where the report is, saves the report to target/demo/session-report.xlsx;
//   6. connects a second account to the carrier simulator (tools/carrier-sim, a Cisco IoT
//      Control Center stand-in on 127.0.0.1 with 300 devices): its session syncs the devices
//      and their usage, optimizes, reports, and waits for approval; the demo approves the push
//      (POST /api/sessions/:id/push) and follows it until every change is verified at the
//      simulator;
//   7. leaves the service running for the web UI (Ctrl-C stops it), or stops with --once.
//
//   node edge-worker/demo.mjs [--port N] [--once]      (scripts/demo runs it; --port 0: any free
//                                                       port)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { ELIGIBILITY, PLANS, startSim } from "../tools/carrier-sim/fixture.mjs";
import { adminToken, apiRequest, ROOT, runWrangler, sleep, startWrangler, stopWrangler, waitReady } from "./test/wrangler.mjs";

const args = process.argv.slice(2);
const once = args.includes("--once");
const portArg = args.indexOf("--port");
const port = portArg >= 0 ? Number(args[portArg + 1]) : 8787;
const DEMO = join(ROOT, "target/demo");
const STATE = join(DEMO, "wrangler-state");
const FLEET = join(DEMO, "fleet");
const GEN = ["gen", "--sims", "30000", "--seed", "2026", "--comm-plans", "4", "--plans-per-comm-plan", "6", "--out", FLEET];
const CARRIER_DEVICES = 300;
// The simulator answers at once; these let the demo's carrier calls go at its pace (a real
// Control Center account is paced at the defaults in wrangler.toml: 10 requests/s, 60 changes/min).
const DEMO_VARS = ["--var", "CARRIER_REQUESTS_PER_SECOND:200", "--var", "CARRIER_CHANGES_PER_MINUTE:1200"];

function fail(message) {
  console.error(`demo: ${message}`);
  process.exit(1);
}

// Any body: the cron trigger answers text.
const api = (base, path, options = {}) => apiRequest(base, path, { anyBody: true, ...options });

function must(got, status, what) {
  if (got.status !== status) fail(`${what}: ${got.status} ${got.text.slice(0, 500)}`);
  return got.body;
}

/** The demo tenant's token: kept from an earlier run when the service still knows it. */
async function tenantToken(base) {
  const file = join(DEMO, "tenant.json");
  if (existsSync(file)) {
    const { token } = JSON.parse(readFileSync(file, "utf8"));
    if ((await api(base, "/api/accounts", { token })).status === 200) return token;
  }
  const made = must(await api(base, "/api/admin/tenants", { token: adminToken(), method: "POST", json: { name: "Demo tenant" } }), 201, "making the demo tenant");
  writeFileSync(file, JSON.stringify({ tenant: made.tenant.id, token: made.token }, null, 2) + "\n", { mode: 0o600 });
  return made.token;
}

const money = (text) => Number(text).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

async function main() {
  mkdirSync(DEMO, { recursive: true });
  const cli = join(ROOT, "target/release/simopt");
  if (!existsSync(join(FLEET, "sims.csv"))) {
    const gen = spawnSync(cli, GEN, { encoding: "utf8" });
    if (gen.status !== 0) fail(`simopt gen failed: ${gen.stderr}`);
  }
  await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", STATE]);
  // --port 0: any free port (the test command runs the demo next to other servers).
  const server = await startWrangler(STATE, ["--test-scheduled", ...DEMO_VARS], { port: port || undefined });
  const sim = await startSim(["--devices", String(CARRIER_DEVICES), "--seed", "2026"]);
  const stop = async () => {
    sim.stop();
    await stopWrangler(server);
    writeFileSync(join(DEMO, "wrangler.log"), server.log.join(""));
  };
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop().finally(() => process.exit(0)));
  try {
    await waitReady(server);
    const base = server.base;
    console.log(`The service is up on ${base} (wrangler dev: workerd with local D1, R2, Queues, Durable Objects).`);
    const token = await tenantToken(base);
    // The period ends three days from now (UTC): the account's window (its last 8 days) is open.
    const end = new Date(Date.now() + 3 * 86_400_000);
    const account = must(
      await api(base, "/api/accounts", {
        token,
        method: "POST",
        // The e-mail goes nowhere locally: wrangler keeps it in a file and logs where.
        json: { name: "Demo fleet", time_zone: "UTC", period_end_day: end.getUTCDate(), start_hour: 0, notify_email: "fleet-manager@example.com" },
      }),
      201,
      "making the demo account",
    );
    for (const kind of ["plans", "eligibility", "sims"]) {
      const got = must(
        await api(base, `/api/accounts/${account.id}/${kind}`, { token, method: "PUT", body: readFileSync(join(FLEET, `${kind}.csv`)), type: "text/csv" }),
        201,
        `uploading ${kind}.csv`,
      );
      console.log(`Uploaded ${kind}.csv: ${got.rows.toLocaleString("en-US")} rows.`);
    }
    const fired = await api(base, "/__scheduled?cron=0+*+*+*+*");
    if (fired.status !== 200) fail(`firing the cron: ${fired.status} ${fired.text}`);
    console.log("Fired the hourly cron trigger; it starts a session for every account in its window.");
    let view;
    for (let i = 0; ; i++) {
      const list = must(await api(base, `/api/accounts/${account.id}/sessions`, { token }), 200, "listing sessions");
      view = list.sessions[0];
      if (view) break;
      if (i > 100) fail("the cron started no session for the demo account (see target/demo/wrangler.log)");
      await sleep(100);
    }
    const started = Date.now();
    for (;;) {
      view = must(await api(base, `/api/sessions/${view.id}`, { token }), 200, "following the session");
      const p = view.progress;
      const gap = p.gap == null ? "" : `  gap ${(p.gap * 100).toFixed(3)} %`;
      const best = p.best_cost ? `  best ${money(p.best_cost)}` : "";
      process.stdout.write(`\r${p.percent.toFixed(0).padStart(3)} % ${view.state.padEnd(10)} ${p.phase.padEnd(32).slice(0, 32)} slice ${String(view.slices).padStart(3)}${best}${gap}   `);
      if (view.state === "completed" || view.state === "failed") break;
      await sleep(200);
    }
    process.stdout.write("\n");
    if (view.state === "failed") fail(`the session failed: ${view.reason}`);
    const s = view.summary;
    const pct = ((Number(s.savings) / Number(s.current_cost)) * 100).toFixed(1);
    const report = await fetch(`${base}${view.report}`, { headers: { authorization: `Bearer ${token}` } });
    if (report.status !== 200) fail(`downloading the report: ${report.status}`);
    writeFileSync(join(DEMO, "session-report.xlsx"), Buffer.from(await report.arrayBuffer()));
    console.log(`
Session ${view.id} (${view.trigger}) completed in ${((Date.now() - started) / 1000).toFixed(1)} s through ${view.slices} slices:
  SIMs             ${s.sims.toLocaleString("en-US")}
  Current bill     ${money(s.current_cost)}
  Optimized bill   ${money(s.optimized_cost)}
  Savings          ${money(s.savings)} (${pct} %)
  Lower bound      ${money(s.lower_bound)} (no choice of plans costs less); gap ${(s.gap * 100).toFixed(3)} %
  Changes          ${s.changes.toLocaleString("en-US")} SIMs change plan
  Report           ${base}${view.report} (bearer token in target/demo/tenant.json),
                   saved as target/demo/session-report.xlsx
  Notification     ${view.notification}`);
    await carrierDemo(base, token, sim, end);
    if (once) {
      await stop();
      return;
    }
    console.log(`
The service keeps running: open ${base}/ for the savings preview page; the API is at ${base}/api
(routes in edge-worker/README.md; the demo tenant's token is in target/demo/tenant.json).
Press Ctrl-C to stop.`);
    await server.exited;
  } catch (error) {
    await stop();
    fail(error.message);
  }
}

/** Follows a session until `done` holds, with a progress line. */
async function follow(base, token, id, done) {
  for (;;) {
    const view = must(await api(base, `/api/sessions/${id}`, { token }), 200, "following the session");
    const push = view.push ? ` push ${view.push.status}` : "";
    process.stdout.write(`\r${view.progress.percent.toFixed(0).padStart(3)} % ${view.state.padEnd(10)} ${view.progress.phase.padEnd(40).slice(0, 40)}${push}   `);
    if (view.state === "failed") {
      process.stdout.write("\n");
      fail(`the session failed: ${view.reason}`);
    }
    if (done(view)) {
      process.stdout.write("\n");
      return view;
    }
    await sleep(200);
  }
}

/** An account connected to the carrier simulator: sync, optimize, report, approve, push. */
async function carrierDemo(base, token, sim, end) {
  console.log(`\nThe carrier: a Control Center stand-in (tools/carrier-sim) with ${CARRIER_DEVICES} devices on ${sim.base}.`);
  const account = must(
    await api(base, "/api/accounts", {
      token,
      method: "POST",
      json: { name: "Demo carrier fleet", time_zone: "UTC", period_end_day: end.getUTCDate(), start_hour: 0, auto_push: false },
    }),
    201,
    "making the carrier account",
  );
  for (const [kind, body] of [["plans", PLANS], ["eligibility", ELIGIBILITY]]) {
    must(await api(base, `/api/accounts/${account.id}/${kind}`, { token, method: "PUT", body, type: "text/csv" }), 201, `uploading ${kind}.csv`);
  }
  must(
    await api(base, `/api/accounts/${account.id}/carrier`, {
      token,
      method: "PUT",
      json: { kind: "control_center", base_url: sim.base, username: "sim", api_key: "sim-key" },
    }),
    200,
    "connecting the account to the carrier",
  );
  console.log("Connected the account \"Demo carrier fleet\" (the API key is stored sealed); no SIMs file uploaded: the session syncs it.");
  const started = must(await api(base, `/api/accounts/${account.id}/sessions`, { token, method: "POST" }), 201, "starting the carrier session");
  let view = await follow(base, token, started.id, (v) => v.state === "completed");
  const s = view.summary;
  console.log(`Synced ${view.sync.sims} devices (${view.sync.mode}, ${view.sync.stats.requests} requests in ${view.sync.slices} slices); optimized: ${money(s.current_cost)} → ${money(s.optimized_cost)}, ${s.changes} changes, gap ${(s.gap * 100).toFixed(3)} %.`);
  if (view.push?.status !== "awaiting_approval") fail(`the push is ${view.push?.status}, not awaiting approval`);
  must(await api(base, `/api/sessions/${view.id}/push`, { token, method: "POST" }), 202, "approving the push");
  console.log("Approved the push (POST /api/sessions/:id/push; once per billing period).");
  view = await follow(base, token, view.id, (v) => ["completed", "no_go", "refused"].includes(v.push?.status));
  const p = view.push;
  if (p.status !== "completed") fail(`the push ended ${p.status}: ${p.reason}`);
  const atCarrier = await sim.control("GET", "/_sim/changes");
  console.log(`Pushed in ${p.batches} batch(es) through ${p.slices} slices, each device re-read to verify: ${JSON.stringify(p.counts)}; ${p.discrepancies} discrepancies.
The simulator applied ${atCarrier.length} rate plan changes for the session's ${s.changes}.`);
  if (atCarrier.length > s.changes) fail("the carrier received more changes than the session made");
}

main();
