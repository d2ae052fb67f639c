// The hourly schedule inside workerd: the Worker's scheduled handler, fired at chosen times,
// starts a session for an account only in its window (the last 8 days of the period, at or
// after its start hour, in its zone), once per period, and once more on the final day.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";

import Worker from "../build/index.js";
import { as } from "./api.mjs";
import { cases } from "./fixtures.mjs";


async function call(token, path, options) {
  const res = await as(token, path, options);
  return { status: res.status, body: await res.json() };
}

/** Fires the cron as if it were `iso` (UTC). */
async function cronAt(iso) {
  const ctx = createExecutionContext();
  // worker-build's entry point is a class: its scheduled() is called on an instance (the
  // exports.default proxy would have to serialize the controller).
  await new Worker(ctx, env).scheduled(createScheduledController({ scheduledTime: Date.parse(iso), cron: "0 * * * *" }));
  await waitOnExecutionContext(ctx);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function sessions(token, account) {
  const got = await call(token, `/api/accounts/${account}/sessions`);
  expect(got.status).toBe(200);
  return got.body.sessions;
}

async function allSettled(token, account) {
  for (let i = 0; i < 300; i++) {
    const list = await sessions(token, account);
    if (list.every((s) => ["completed", "failed"].includes(s.state))) return list;
    await sleep(50);
  }
  throw new Error("sessions did not settle");
}

const T = {};

beforeAll(async () => {
  const tenant = await call(env.ADMIN_TOKEN, "/api/admin/tenants", { method: "POST", json: { name: "Cron" } });
  T.token = tenant.body.token;
  // Periods end on the 1st at 00:00 New York time; runs start at 06:00 there (11:00 UTC in
  // November).
  const account = await call(T.token, "/api/accounts", {
    method: "POST",
    json: { name: "Scheduled fleet", time_zone: "America/New_York", period_end_day: 1, start_hour: 6 },
  });
  T.account = account.body.id;
  const bare = await call(T.token, "/api/accounts", { method: "POST", json: { name: "No files yet", period_end_day: 1 } });
  T.bare = bare.body.id;
  for (const kind of ["plans", "eligibility", "sims"]) {
    const put = await call(T.token, `/api/accounts/${T.account}/${kind}`, {
      method: "PUT",
      body: cases.basic[`${kind}.csv`],
      headers: { "content-type": "text/csv" },
    });
    expect(put.status).toBe(201);
  }
});

describe("the hourly schedule", () => {
  it("starts nothing before the window or before the start hour", async () => {
    await cronAt("2026-11-23T04:00:00Z"); // 22 Nov 23:00 in New York: the window is not open
    await cronAt("2026-11-23T10:00:00Z"); // 23 Nov 05:00 there: before the start hour
    expect(await sessions(T.token, T.account)).toEqual([]);
  });

  it("starts one session at the start hour of the window's first day, as of the trigger's time", async () => {
    await cronAt("2026-11-23T11:00:00Z");
    const list = await allSettled(T.token, T.account);
    expect(list.map((s) => [s.trigger, s.state, s.period_end, s.as_of])).toEqual([
      ["cron", "completed", "2026-12-01T00:00", "2026-11-23T11:00:00Z"],
    ]);
    // An account without files is skipped (and says so in the log), not failed.
    expect(await sessions(T.token, T.bare)).toEqual([]);
  });

  it("starts no second session in the same period before its final day", async () => {
    await cronAt("2026-11-24T11:00:00Z");
    await cronAt("2026-11-29T20:00:00Z");
    expect((await sessions(T.token, T.account)).length).toBe(1);
  });

  it("reruns once on the final day", async () => {
    await cronAt("2026-11-30T10:00:00Z"); // final day, 05:00 local: before the start hour
    expect((await sessions(T.token, T.account)).length).toBe(1);
    await cronAt("2026-11-30T11:00:00Z");
    const list = await allSettled(T.token, T.account);
    expect(list.map((s) => [s.trigger, s.state, s.as_of])).toEqual([
      ["cron", "completed", "2026-11-30T11:00:00Z"],
      ["cron", "completed", "2026-11-23T11:00:00Z"],
    ]);
    await cronAt("2026-11-30T12:00:00Z");
    await cronAt("2026-11-30T23:00:00Z");
    expect((await sessions(T.token, T.account)).length).toBe(2);
  });
});
