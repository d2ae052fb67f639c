#!/usr/bin/env node
// Sessions end to end through `wrangler dev` (real workerd, local D1, R2, Queues and Durable
// Objects): a generated fleet of E2E_SIMS SIMs (default 100,000) is uploaded to an account,
// then
//   1. two sessions are started at once: one is made, the other answers 409 naming it;
//   2. it runs through the queue, slice after slice, to completion — from 100,000 SIMs on, its
//      work units in parallel, each in its own object: at least 20 slices, its
//      cost, bound and changes equal `simopt optimize` on the same files and moment, its Excel
//      report is byte-identical to the command line's, and the account's webhook got exactly
//      one signed notification and its address one e-mail with the report attached;
//   3. a second session with every queue message delivered twice (DUPLICATE_DELIVERIES=1) is
//      killed (SIGKILL of wrangler's process group) in the middle of its optimization and
//      wrangler restarted on the same persisted state: the session resumes from its last
//      checkpoint and ends with the command line's result, one report and one notification;
//   4. the history lists both sessions, newest first; another tenant sees neither.
// The figures (slices, checkpoint size, longest slice, wall time) are printed.
//
//   node edge-worker/test/sessions.e2e.mjs     (scripts/test-worker runs it; needs the release
//                                                CLI: cargo build --release -p simopt-cli)
//
// E2E_SIMS sets the fleet size; E2E_SLICE_QUANTA the quanta per slice (default: the service's);
// E2E_PART_BYTES the size of the parts files are written to R2 in (default: R2's least, 5 MiB);
// E2E_COMM_PLANS and E2E_PLANS_PER_COMM_PLAN the generated fleet's plans (default 4 × 6: from
// 100,000 SIMs on, several work units; 1 × 50 makes one unit of any size).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

import { adminToken, apiRequest, ROOT, runWrangler, sleep, startWrangler, stopWrangler, waitReady } from "./wrangler.mjs";

const SIMS = Number(process.env.E2E_SIMS ?? 100_000);
const SESSION_TIMEOUT_MS = Number(process.env.E2E_SESSION_TIMEOUT_MS ?? 600_000);
const CLI = join(ROOT, "target/release/simopt");
const WATCHDOG_SECONDS = 5;
// R2's least part by default: the SIMs file of 100,000 SIMs (11 MB) is then stored in parts as
// it is uploaded, and the report's files (10–30 MB) written in parts. E2E_PART_BYTES sets another.
const PART_BYTES = Number(process.env.E2E_PART_BYTES ?? 5 << 20);
const COMM_PLANS = String(process.env.E2E_COMM_PLANS ?? 4);
const PLANS_PER_COMM_PLAN = String(process.env.E2E_PLANS_PER_COMM_PLAN ?? 6);

function signingKey() {
  const text = readFileSync(join(ROOT, ".dev.vars"), "utf8");
  const line = text.split("\n").findLast((l) => l.startsWith("WEBHOOK_SIGNING_KEY="));
  return line?.slice("WEBHOOK_SIGNING_KEY=".length).trim().replace(/^"(.*)"$/, "$1");
}

/** A local webhook receiver (127.0.0.1): every request's headers and body. */
async function webhookReceiver() {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { server, received, url: `http://127.0.0.1:${server.address().port}/hook` };
}

function cli(args) {
  const run = spawnSync(CLI, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`simopt ${args.join(" ")} failed: ${run.stderr}`);
  return run.stdout;
}

const api = apiRequest;

/** Polls a session until `done(view)`; prints a progress line now and then. */
async function follow(ctx, id, done = (v) => v.state === "completed" || v.state === "failed") {
  const deadline = Date.now() + SESSION_TIMEOUT_MS;
  let last = 0;
  while (Date.now() < deadline) {
    const got = await api(ctx.base, `/api/sessions/${id}`, { token: ctx.token }).catch(() => null);
    if (got?.status === 200) {
      const v = got.body;
      if (Date.now() - last > 5_000) {
        last = Date.now();
        const gap = v.progress.gap == null ? "" : ` gap ${(v.progress.gap * 100).toFixed(3)}%`;
        console.log(`        ${v.state} ${v.progress.percent.toFixed(0)}% ${v.progress.phase}, slice ${v.slices}${gap}`);
      }
      if (done(v)) return v;
    }
    await sleep(100);
  }
  throw new Error(`session ${id} did not get there within ${SESSION_TIMEOUT_MS} ms`);
}

/** The command line's result on the same files, settings and moment as the session. */
function commandLine(dir, view, account) {
  const out = mkdtempSync(join(tmpdir(), "simopt-e2e-cli-"));
  try {
    cli([
      "optimize",
      "--sims", join(dir, "sims.csv"),
      "--plans", join(dir, "plans.csv"),
      "--eligibility", join(dir, "eligibility.csv"),
      "--period-end", view.period_end,
      "--tz", account.time_zone,
      "--as-of", view.as_of,
      "--account-name", account.name,
      "--json", join(out, "optimize.json"),
      "--xlsx", join(out, "report.xlsx"),
    ]);
    return {
      doc: JSON.parse(readFileSync(join(out, "optimize.json"), "utf8")),
      xlsx: readFileSync(join(out, "report.xlsx")),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function checkAgainstCli(ctx, view) {
  assert.equal(view.state, "completed", `session ${view.id}: ${view.state} (${view.reason})`);
  const want = commandLine(ctx.fleetDir, view, ctx.account);
  const s = view.summary;
  assert.equal(s.optimized_cost, want.doc.optimized_cost, "optimized cost");
  assert.equal(s.current_cost, want.doc.current_cost, "current cost");
  assert.equal(s.lower_bound, want.doc.lower_bound, "lower bound");
  assert.equal(s.changes, want.doc.changes, "changes");
  assert.equal(s.sims, SIMS, "SIMs");
  const report = await api(ctx.base, view.report, { token: ctx.token, raw: true });
  assert.equal(report.status, 200, `report: ${report.status}`);
  assert.ok(report.bytes.equals(want.xlsx), `the report (${report.bytes.length} B) differs from simopt optimize --xlsx (${want.xlsx.length} B)`);
  // The per-SIM results in D1: every SIM, the changes as the command line has them.
  const all = await api(ctx.base, `/api/sessions/${view.id}/sims?limit=1`, { token: ctx.token });
  assert.equal(all.body.total, SIMS, "per-SIM results in D1");
  const changes = await api(ctx.base, `/api/sessions/${view.id}/sims?changed=true&limit=1000`, { token: ctx.token });
  assert.equal(changes.body.total, want.doc.changes, "changes in D1");
  const plans = new Map(want.doc.sims.map((s) => [s.iccid, s.plan]));
  for (const sim of changes.body.sims) assert.equal(sim.plan, plans.get(sim.iccid), `${sim.iccid}'s new plan`);
}

function notificationsOf(ctx, id) {
  return ctx.hook.received.filter((r) => JSON.parse(r.body).session.id === id);
}

function checkNotification(ctx, view) {
  const mine = notificationsOf(ctx, view.id);
  assert.equal(mine.length, 1, `${mine.length} notifications of session ${view.id}`);
  const [hit] = mine;
  const expected = `sha256=${createHmac("sha256", signingKey()).update(hit.body).digest("hex")}`;
  assert.equal(hit.headers["x-simopt-signature"], expected, "the webhook's signature");
  assert.equal(hit.headers["idempotency-key"], view.id);
  const body = JSON.parse(hit.body);
  assert.equal(body.event, "session.completed");
  assert.equal(body.session.summary.optimized_cost, view.summary.optimized_cost);
  assert.equal(body.report_url, view.report);
  assert.equal(view.notification, "webhook delivered (200); e-mail sent to fleet-ops@example.com");
}

const MAX_ATTACHMENT_BYTES = 10 << 20; // the Worker links larger reports instead

/** The e-mails wrangler dev logged for a session: each one's text and attachment files. */
function emailsOf(ctx, view) {
  const log = ctx.logs().replace(/\x1b\[[0-9;]*m/g, "");
  const texts = [...log.matchAll(/^Text: (\S+)$/gm)].map((m) => m[1]);
  const attachments = [...log.matchAll(/Attachment \(attachment\): (\S+) -> (\S+)/g)];
  const name = `simopt-${view.period_end.slice(0, 10)}-${view.id.slice(0, 8)}.xlsx`;
  return {
    // (A restart of wrangler dev removes the files of the e-mails sent before it.)
    texts: texts.filter((f) => existsSync(f)).map((f) => readFileSync(f, "utf8")).filter((t) => t.includes(`Session ${view.id}.`)),
    attachments: attachments.filter((m) => m[1] === name).map((m) => m[2]),
  };
}

async function checkEmail(ctx, view) {
  // wrangler writes the message's files after send() returns: give it a moment.
  for (let i = 0; i < 50 && emailsOf(ctx, view).texts.length === 0; i++) await sleep(100);
  const { texts, attachments } = emailsOf(ctx, view);
  assert.equal(texts.length, 1, `${texts.length} e-mails of session ${view.id}`);
  assert.ok(texts[0].includes(`Optimized bill  ${view.summary.optimized_cost}`), texts[0]);
  const report = await api(ctx.base, view.report, { token: ctx.token, raw: true });
  if (report.bytes.length <= MAX_ATTACHMENT_BYTES) {
    assert.equal(attachments.length, 1, `${attachments.length} attachments of session ${view.id}`);
    assert.ok(readFileSync(attachments[0]).equals(report.bytes), "the e-mail's attachment is not the session's report");
  } else {
    assert.equal(attachments.length, 0, "a report over 10 MiB was attached");
    assert.ok(texts[0].includes(`The report: ${view.report}`), texts[0]);
  }
  return report.bytes.length;
}

/** The session's log lines (`{"event":"session",...}`) in the Worker's output. */
function sessionLines(text, id) {
  return [...text.replace(/\x1b\[[0-9;]*m/g, "").matchAll(/\{"event":"session"[^\n]*\}/g)]
    .map((m) => {
      try {
        return JSON.parse(m[0]);
      } catch {
        return null;
      }
    })
    .filter((l) => l && l.session === id);
}

/** The report's steps: a step ends with each whole part, so the workbook alone takes a step per part. */
function checkReportParts(ctx, view, reportBytes) {
  const lines = sessionLines(ctx.logs(), view.id);
  const reportSteps = lines.filter((l) => l.what === "step" && l.step === "report").length;
  const most = (ls) => Math.max(0, ...ls.map((l) => l.memory_mib ?? 0));
  // Wasm memory never shrinks: the lines before the first report step show what the
  // optimization took (every object of the Worker shares one memory locally).
  const firstReport = lines.findIndex((l) => l.step === "report");
  const optimizing = most(firstReport < 0 ? lines : lines.slice(0, firstReport));
  const least = Math.ceil(reportBytes / PART_BYTES);
  assert.ok(reportSteps >= least, `${reportSteps} report steps for a ${reportBytes}-byte workbook in ${PART_BYTES}-byte parts`);
  // The first line is the session's start: what the uploads before it took.
  const started = lines[0]?.memory_mib ?? 0;
  // Where the most was first reached (wasm memory never shrinks: the step that took it).
  const peak = lines.find((l) => l.memory_mib === most(lines));
  const where = peak ? `${peak.step ?? peak.what}: ${peak.phase || peak.state}` : "";
  // The longest step of each kind (wall time in the one workerd; a deployed step has its CPU limit).
  const longest = {};
  for (const l of lines.filter((l) => l.what === "step" && l.step && l.ms !== undefined)) {
    longest[l.step] = Math.max(longest[l.step] ?? 0, l.ms);
  }
  console.log(`        longest step of each kind: ${Object.entries(longest).map(([k, ms]) => `${k} ${ms} ms`).join(", ")}`);
  console.log(`        the report in ${reportSteps} steps (parts of ${PART_BYTES >> 20} MiB); the Worker's wasm memory at most ${started} MiB when the session started (after the uploads), ${optimizing} MiB until the report, ${most(lines)} MiB in all (first at ${where})`);
}

function figures(label, view, ms) {
  const t = view.timings;
  console.log(
    `        ${label}: ${view.sims} SIMs, ${view.units ?? 1} work unit(s), ${view.slices} slices, checkpoint ${(view.checkpoint_bytes / 1024).toFixed(0)} KiB, ` +
      `longest slice ${t.slice_ms_max} ms, slices ${t.slice_ms_total} ms in all, optimize ${t.optimize_ms} ms, ` +
      `end to end ${t.total_ms} ms (observed ${ms} ms), gap ${(view.summary.gap * 100).toFixed(4)}%`,
  );
}

const steps = [
  [
    "set up: a tenant, an account with a webhook, plans, eligibility and SIMs uploaded",
    async (ctx) => {
      const tenant = await api(ctx.base, "/api/admin/tenants", { token: adminToken(), method: "POST", json: { name: "Sessions E2E" } });
      assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
      ctx.token = tenant.body.token;
      const other = await api(ctx.base, "/api/admin/tenants", { token: adminToken(), method: "POST", json: { name: "Other" } });
      ctx.otherToken = other.body.token;
      const account = await api(ctx.base, "/api/accounts", {
        token: ctx.token,
        method: "POST",
        json: {
          name: "E2E sessions fleet",
          time_zone: "UTC",
          period_end_day: 1,
          notify_webhook: ctx.hook.url,
          notify_email: "fleet-ops@example.com",
        },
      });
      assert.equal(account.status, 201, JSON.stringify(account.body));
      ctx.account = account.body;
      for (const kind of ["plans", "eligibility", "sims"]) {
        // A large file goes gzip-compressed (the body limit is 64 MiB; 1,000,000 SIMs are ~100 MB).
        const file = readFileSync(join(ctx.fleetDir, `${kind}.csv`));
        const big = file.length > 32 << 20;
        const got = await api(ctx.base, `/api/accounts/${ctx.account.id}/${kind}`, {
          token: ctx.token,
          method: "PUT",
          body: big ? gzipSync(file, { level: 1 }) : file,
          type: "text/csv",
          headers: big ? { "content-encoding": "gzip" } : {},
        });
        assert.equal(got.status, 201, `${kind}: ${JSON.stringify(got.body).slice(0, 400)}`);
      }
    },
  ],
  [
    "two starts at once: one session (201), the other 409 naming it",
    async (ctx) => {
      const start = () => api(ctx.base, `/api/accounts/${ctx.account.id}/sessions`, { token: ctx.token, method: "POST" });
      const answers = await Promise.all([start(), start()]);
      const made = answers.filter((a) => a.status === 201);
      const refused = answers.filter((a) => a.status === 409);
      assert.equal(made.length, 1, JSON.stringify(answers.map((a) => a.status)));
      assert.equal(refused.length, 1);
      assert.equal(refused[0].body.error, "already-running");
      assert.equal(refused[0].body.session.id, made[0].body.id);
      ctx.first = made[0].body;
      ctx.firstStarted = Date.now();
    },
  ],
  [
    `the session completes through >= 20 chained slices (its work units in parallel) with simopt optimize's result and report, and one signed webhook`,
    async (ctx) => {
      const view = await follow(ctx, ctx.first.id);
      figures("session 1", view, Date.now() - ctx.firstStarted);
      assert.ok(view.slices >= 20, `only ${view.slices} slices`);
      // 4 communication plans of their own pools: from 100,000 SIMs on, the fleet cuts into
      // work units (of at least 65,536 SIMs), each optimized by its own object in parallel.
      if (SIMS >= 100_000 && COMM_PLANS !== "1") assert.ok(view.units >= 2, `${view.units} work units`);
      await checkAgainstCli(ctx, view);
      checkNotification(ctx, view);
      const bytes = await checkEmail(ctx, view);
      console.log(`        the e-mail: one, the report (${(bytes / 1048576).toFixed(1)} MiB) ${bytes <= MAX_ATTACHMENT_BYTES ? "attached" : "linked (over 10 MiB)"}`);
      checkReportParts(ctx, view, bytes);
      ctx.first = view;
    },
  ],
  [
    "every message delivered twice, SIGKILL in the middle, restart: the same result, one report, one notification",
    async (ctx) => {
      await ctx.restart({ DUPLICATE_DELIVERIES: "1" });
      const logMark = ctx.logs().length;
      const started = await api(ctx.base, `/api/accounts/${ctx.account.id}/sessions`, { token: ctx.token, method: "POST" });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const t0 = Date.now();
      const id = started.body.id;
      const before = await follow(ctx, id, (v) => v.slices >= 5 || !["created", "optimizing"].includes(v.state));
      assert.equal(before.state, "optimizing", `the session was ${before.state} before the kill`);
      await ctx.kill();
      console.log(`        killed wrangler at slice ${before.slices}`);
      await ctx.restart({ DUPLICATE_DELIVERIES: "1" });
      const view = await follow(ctx, id);
      figures("session 2", view, Date.now() - t0);
      assert.ok(view.slices >= before.slices, "slices went back");
      // From its checkpoint: the object never fell back to starting the optimization over.
      assert.ok(!ctx.logs().slice(logMark).includes("does not decode"), "the checkpoint did not decode after the restart");
      // Every message really came twice: wrangler logs each delivered batch (`QUEUE simopt-work
      // delivered/total`). The session's steps: its optimizer slices, the report, the per-SIM
      // results (2,000 SIMs a slice) and the notification; a few copies may die with the kill.
      const delivered = [...ctx.logs().slice(logMark).matchAll(/QUEUE simopt-work \d+\/(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      const steps = view.slices + 1 + Math.ceil(SIMS / 2000) + 1;
      assert.ok(delivered >= 1.8 * steps, `${delivered} messages delivered for ${steps} steps: not each twice`);
      console.log(`        ${delivered} messages delivered for ${steps} steps`);
      await checkAgainstCli(ctx, view);
      // The other session's notification came before; give a late duplicate the time to arrive.
      await sleep(2_000);
      checkNotification(ctx, view);
      await checkEmail(ctx, view);
    },
  ],
  [
    "the history lists both sessions, newest first; another tenant sees neither",
    async (ctx) => {
      const list = await api(ctx.base, `/api/accounts/${ctx.account.id}/sessions`, { token: ctx.token });
      assert.equal(list.status, 200);
      const states = list.body.sessions.map((s) => `${s.state}:${s.id === ctx.first.id ? "first" : "second"}`);
      assert.deepEqual(states, ["completed:second", "completed:first"]);
      for (const path of [`/api/sessions/${ctx.first.id}`, `/api/sessions/${ctx.first.id}/report.xlsx`, `/api/accounts/${ctx.account.id}/sessions`]) {
        const got = await api(ctx.base, path, { token: ctx.otherToken });
        assert.equal(got.status, 404, `${path} for another tenant: ${got.status}`);
      }
      const start = await api(ctx.base, `/api/accounts/${ctx.account.id}/sessions`, { token: ctx.otherToken, method: "POST" });
      assert.equal(start.status, 404, `another tenant's start: ${start.status}`);
    },
  ],
];

async function main() {
  adminToken(); // writes .dev.vars (with the webhook key) on a fresh clone
  const stateDir = mkdtempSync(join(tmpdir(), "simopt-sessions-"));
  const fleetDir = mkdtempSync(join(tmpdir(), "simopt-sessions-fleet-"));
  const hook = await webhookReceiver();
  let server;
  const vars = (extra) =>
    Object.entries({ WATCHDOG_SECONDS: String(WATCHDOG_SECONDS), PART_BYTES: String(PART_BYTES), ...(process.env.E2E_SLICE_QUANTA ? { SLICE_QUANTA: process.env.E2E_SLICE_QUANTA } : {}), ...extra }).flatMap(
      ([k, v]) => ["--var", `${k}:${v}`],
    );
  const start = async (extra = {}) => {
    server = await startWrangler(stateDir, vars(extra));
    await waitReady(server);
  };
  // Every run's output since the start (a restart begins a new server and a new log).
  const earlier = [];
  const archive = () => {
    if (server && !server.archived) {
      earlier.push(...server.log);
      server.archived = true;
    }
  };
  const ctx = {
    fleetDir,
    hook,
    logs: () => [...earlier, ...(server.archived ? [] : server.log)].join(""),
    get base() {
      return server.base;
    },
    async restart(extra) {
      await stopWrangler(server);
      archive();
      await start(extra);
    },
    async kill() {
      try {
        process.kill(-server.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await server.exited;
      archive();
    },
  };
  const stop = async () => {
    if (server) await stopWrangler(server);
    hook.server.close();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(fleetDir, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop().finally(() => process.exit(130)));
  let failed = 0;
  try {
    cli(["gen", "--sims", String(SIMS), "--comm-plans", COMM_PLANS, "--plans-per-comm-plan", PLANS_PER_COMM_PLAN, "--seed", "11", "--out", fleetDir]);
    await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir]);
    await start();
    for (const [name, step] of steps) {
      try {
        await step(ctx);
        console.log(`  ok    ${name}`);
      } catch (error) {
        failed += 1;
        console.log(`  FAIL  ${name}\n        ${error.message}`);
        break; // the steps build on each other
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
  console.log(failed ? `sessions e2e: FAIL (${failed})` : "sessions e2e: PASS");
  process.exit(failed ? 1 : 0);
}

main();
