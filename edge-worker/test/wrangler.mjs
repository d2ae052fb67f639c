// Shared by the end-to-end scripts: `wrangler dev` started the way a developer does (from the
// repository root, local workerd, nothing from the network), in its own process group, stopped
// by process id; short wrangler commands; the admin token of .dev.vars.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const WRANGLER = join(ROOT, "edge-worker/node_modules/.bin/wrangler");
const READY_TIMEOUT_MS = Number(process.env.E2E_READY_TIMEOUT_MS ?? 180_000);

export const WRANGLER_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "1", // no prompts (d1 migrations apply asks for a confirmation otherwise)
};

/** The admin token of .dev.vars, written by scripts/dev-vars when there is none. */
export function adminToken() {
  const made = spawnSync(join(ROOT, "scripts/dev-vars"), { cwd: ROOT, encoding: "utf8" });
  if (made.status !== 0) throw new Error(`scripts/dev-vars failed: ${made.stderr}`);
  const text = readFileSync(join(ROOT, ".dev.vars"), "utf8");
  const line = text.split("\n").findLast((l) => l.startsWith("ADMIN_TOKEN="));
  const token = line?.slice("ADMIN_TOKEN=".length).trim().replace(/^"(.*)"$/, "$1");
  if (!token || token.length < 32) throw new Error(".dev.vars has no ADMIN_TOKEN of 32+ characters");
  return token;
}

/** Runs a short wrangler command in its own process group; kills the group after `ms`. */
export function runWrangler(args, ms = 120_000) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(WRANGLER, args, {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: WRANGLER_ENV,
    });
    let out = "";
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8");
      stream.on("data", (text) => (out += text));
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, ms);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolveRun(out);
      else reject(new Error(`wrangler ${args.join(" ")} failed (${code ?? signal}):\n${out}`));
    });
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
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

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts wrangler dev in its own process group; its output is kept for failure reports. */
export async function startWrangler(stateDir, extraArgs = [], { port: wanted } = {}) {
  const port = wanted ?? (await freePort());
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
    ...extraArgs,
  ];
  const child = spawn(WRANGLER, args, {
    cwd: ROOT,
    detached: true, // own process group: workerd and the build go down with it
    stdio: ["ignore", "pipe", "pipe"],
    env: WRANGLER_ENV,
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
export async function stopWrangler(server) {
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

export async function waitReady(server) {
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


/**
 * A request to the API at `base`: a bearer `token`, a JSON body (`json`) or a raw `body` of
 * content type `type`, other `headers`. Answers `{ status, body, text, headers }` with `body` the parsed JSON —
 * an answer that is not JSON throws, unless `anyBody` — or, with `raw`, `{ status, bytes,
 * headers }`.
 */
export async function apiRequest(base, path, { token, method = "GET", json, body, type, raw = false, anyBody = false, headers: extra = {} } = {}) {
  const headers = { ...extra };
  if (token) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(json);
  }
  if (type) headers["content-type"] = type;
  const res = await fetch(`${base}${path}`, { method, body, headers });
  if (raw) return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
  const text = await res.text();
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    if (!anyBody) throw new Error(`${method} ${path}: status ${res.status}, not JSON: ${text.slice(0, 300)}`);
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
