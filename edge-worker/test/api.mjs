// Calls of the Worker's API from the workerd tests: through the Worker's own fetch handler
// (exports.default), as a client would call it.
import { exports } from "cloudflare:workers";

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
