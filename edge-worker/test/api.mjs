// Calls of the Worker's API from the workerd tests: through the Worker's own fetch handler
// (exports.default), as a client would call it; and of a session object's internal routes.
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";

export const ORIGIN = "http://simopt.test";

/** A request to the Worker. */
export function call(path, init = {}) {
  return exports.default.fetch(new Request(ORIGIN + path, init));
}

/** A call with a bearer token, if any (and a JSON body when `json` is given). */
export function as(token, path, { method = "GET", json, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  if (json !== undefined) {
    h["content-type"] = "application/json";
    body = JSON.stringify(json);
  }
  return call(path, { method, body, headers: h });
}

/** A response's status, its JSON body and its text. */
export async function json(response) {
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

/** A new tenant (made with the admin token); its token. */
export async function newTenant(name) {
  const got = await json(await as(env.ADMIN_TOKEN, "/api/admin/tenants", { method: "POST", json: { name } }));
  expect(got.status, got.text).toBe(201);
  return got.body.token;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls the session until `done` (by default: completed or failed); its view. */
export async function settled(token, id, done = (v) => ["completed", "failed"].includes(v.state)) {
  for (let i = 0; i < 400; i++) {
    const got = await json(await as(token, `/api/sessions/${id}`));
    if (got.status === 200 && done(got.body)) return got.body;
    await sleep(50);
  }
  throw new Error(`session ${id} did not settle`);
}

/** The session object of a name, and calls to its internal routes. */
export function object(name) {
  const stub = env.SESSIONS.get(env.SESSIONS.idFromName(name));
  const post = async (path, body) => json(await stub.fetch(`https://session${path}`, { method: "POST", body: JSON.stringify(body) }));
  return {
    stub,
    start: (record) => post("/start", { record }),
    step: async (work) => (await post("/step", work)).body,
    fail: (work, reason) => post("/fail", { work, reason }),
    state: async () => json(await stub.fetch("https://session/state")),
  };
}
