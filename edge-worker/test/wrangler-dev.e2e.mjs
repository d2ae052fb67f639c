#!/usr/bin/env node
// End to end through `wrangler dev`: starts the Worker the way a developer does (from the
// repository root, local workerd, nothing from the network), posts the basic fixture as a
// browser would, and compares the answer with tests/fixtures/cases/basic/cost.json byte for byte.
// wrangler is always stopped (its whole process group), also on failure or Ctrl-C.
//
//   node edge-worker/test/wrangler-dev.e2e.mjs     (scripts/test-worker runs it after building)
//
// E2E_READY_TIMEOUT_MS bounds the wait for the server (default 180 s: wrangler runs the
// `[build] command`, a no-op when scripts/build-worker already built the Worker).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const WRANGLER = join(ROOT, "edge-worker/node_modules/.bin/wrangler");
const CASE = join(ROOT, "tests/fixtures/cases/basic");
const READY_TIMEOUT_MS = Number(process.env.E2E_READY_TIMEOUT_MS ?? 180_000);

const fixture = (name) => readFileSync(join(CASE, name), "utf8");

/** A TCP port free on 127.0.0.1 right now. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts wrangler dev in its own process group; its output is kept for failure reports. */
async function startWrangler(stateDir) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = [
    "dev",
    "--local",
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-ip", "127.0.0.1",
    "--inspector-port", String(inspectorPort),
    "--persist-to", stateDir,
    "--show-interactive-dev-session=false",
  ];
  const child = spawn(WRANGLER, args, {
    cwd: ROOT,
    detached: true, // own process group: workerd and the build go down with it
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  const server = { child, port, base: `http://127.0.0.1:${port}`, log: [], exited: null };
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (text) => server.log.push(text));
  }
  server.exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
  return server;
}

/** Stops the process group: SIGTERM, then SIGKILL if it is still there after 10 s. */
async function stopWrangler(server) {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const group = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  group("SIGTERM");
  const stopped = await Promise.race([server.exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!stopped) {
    group("SIGKILL");
    await server.exited;
  }
}

async function waitReady(server) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = null;
  server.exited.then((how) => (exited = how));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`wrangler dev exited early (${JSON.stringify(exited)})`);
    try {
      const res = await fetch(`${server.base}/api/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200 && (await res.text()) === '{"status":"ok"}') return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`wrangler dev was not ready within ${READY_TIMEOUT_MS} ms`);
}

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

async function main() {
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
  try {
    server = await startWrangler(stateDir);
    const t0 = Date.now();
    await waitReady(server);
    console.log(`wrangler dev ready on ${server.base} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const [name, check] of checks) {
      try {
        await check(server.base);
        passed += 1;
        console.log(`  ok    ${name}`);
      } catch (error) {
        failed += 1;
        console.log(`  FAIL  ${name}\n        ${error.message}`);
      }
    }
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
