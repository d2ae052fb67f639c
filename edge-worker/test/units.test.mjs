// Work units inside workerd: a session whose fleet cuts into several units waits in the `units`
// step while one unit object per unit runs its own chain of queue messages and hands its result
// to the session's object. Real fleets cut into units from 65,536 SIMs on (the 100,000-SIM
// sessions e2e runs two); here a twin of a completed session is started already waiting for its
// units (as the session object's `/start` takes a record), on the basic fixture's files.
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";

import { as, json, newTenant, object, settled, sleep } from "./api.mjs";
import { cases } from "./fixtures.mjs";

const basic = cases.basic;
const A = {};

/** The unit object of a name, and calls to its internal routes. */
function unitObject(name) {
  const stub = env.UNITS.get(env.UNITS.idFromName(name));
  return {
    stub,
    start: async (record) => (await stub.fetch("https://unit/start", { method: "POST", body: JSON.stringify(record) })).status,
    step: async (work) => (await json(await stub.fetch("https://unit/step", { method: "POST", body: JSON.stringify(work) }))).body,
    state: async () => json(await stub.fetch("https://unit/state")),
  };
}

/** Polls `read` until `done` holds of its answer. */
async function until(read, done) {
  for (let i = 0; i < 400; i++) {
    const got = await read();
    if (done(got)) return got;
    await sleep(50);
  }
  throw new Error("did not happen");
}

/** A twin of the completed session `record` (id `id`), waiting for `units` work units. */
function waitingForUnits(record, id, units) {
  const twin = structuredClone(record);
  Object.assign(twin.view, { id, state: "optimizing", summary: null, report: null, notification: null, finished_at: null, slices: 0 });
  twin.next = { step: "units", unit: 0, slice: 0 };
  twin.units = { progress: Array(units).fill(null), done: Array(units).fill(false) };
  twin.report_keys = null;
  twin.delivered = {};
  return twin;
}

beforeAll(async () => {
  A.token = await newTenant("Units A");
  const account = await json(await as(A.token, "/api/accounts", { method: "POST", json: { name: "Units fleet", time_zone: "UTC", period_end_day: 1 } }));
  A.account = account.body.id;
  for (const kind of ["plans", "eligibility", "sims"]) {
    const put = await as(A.token, `/api/accounts/${A.account}/${kind}`, { method: "PUT", body: basic[`${kind}.csv`], headers: { "content-type": "text/csv" } });
    expect(put.status).toBe(201);
  }
  const started = await json(await as(A.token, `/api/accounts/${A.account}/sessions`, { method: "POST" }));
  expect(started.status).toBe(201);
  A.done = await settled(A.token, started.body.id);
  expect(A.done.state, A.done.reason).toBe("completed");
  expect(A.done.units).toBeUndefined(); // a small fleet is one unit, run by the session's object
  A.name = `${A.done.account_id}/${A.done.period_end}`;
  A.record = (await object(A.name).state()).body;
});

describe("a session of work units", () => {
  it("completes once its unit objects hand in their results, with one object's result; a second hand-in changes nothing", async () => {
    const id = "0123456789abcdef0123456789abcd01";
    const session = object(A.name);
    const started = await session.start(waitingForUnits(A.record, id, 1));
    expect(started.status).toBe(201);
    const done = await until(
      async () => (await session.state()).body,
      (r) => !["optimizing", "reporting", "notifying"].includes(r.view.state),
    );
    expect(done.view.state, done.view.reason).toBe("completed");
    expect(done.units.done).toEqual([true]);
    expect(done.view.summary).toEqual(A.done.summary);
    expect(done.view.slices).toBeGreaterThan(0);

    // The unit object handed its result over and keeps nothing more to do.
    const unit = unitObject(`${A.name}/${id}/0`);
    const kept = await unit.state();
    expect(kept.body).toMatchObject({ session: id, unit: 0, units: 1, finished: true, reported: true, failed: null });
    // Its stale, duplicate and foreign messages change nothing; a second start neither.
    const work = { object: `${A.name}/${id}/0`, session: id, step: "unit", unit: 0, slice: 0 };
    expect(await unit.step(work)).toEqual({ outcome: "ignored" });
    expect(await unit.step({ ...work, session: "another" })).toEqual({ outcome: "ignored" });
    expect(await unit.start(kept.body)).toBe(200);
    expect((await unit.state()).body).toEqual(kept.body);
    // A result handed in again once the session has moved on (a retry after a lost answer;
    // here even with other bytes) is answered 200, so the unit stops retrying, and changes
    // nothing.
    const again = await session.stub.fetch(`https://session/unit-done?session=${id}&unit=0`, { method: "POST", body: new Uint8Array(8) });
    expect(again.status).toBe(200);
    expect(await again.text()).toBe("not waited for");
    expect((await session.state()).body.view).toEqual(done.view);
  });

  it("a unit object runs its awaited slice only, and stops once its session no longer waits for it", async () => {
    const id = "0123456789abcdef0123456789abcd02";
    const name = `${A.name}/${id}/0`;
    const unit = unitObject(name);
    // Its session's object holds another session (the completed one): after its first slice
    // the unit hears so and stops, keeping nothing to run or hand over.
    const record = {
      session: id, session_object: A.name, inputs: A.record.inputs, unit: 0, units: 1, slice: 0, sent: false,
      failures: 0, moved_ms: 0, progress: null, finished: false, failed: null, reported: false,
    };
    expect(await unit.start(record)).toBe(200);
    expect(await unit.start(record)).toBe(200);
    const ended = await until(async () => (await unit.state()).body, (r) => r.reported);
    expect(ended).toMatchObject({ finished: true, reported: true, failed: "its session no longer waits for it", slice: 1 });
    expect(ended.progress.slices).toBe(1);
    expect(ended.progress.done).toBeLessThan(1);
    // Stopped, no slice runs again and no alarm is left.
    for (const slice of [0, 1, 2]) {
      expect(await unit.step({ object: name, session: id, step: "unit", unit: 0, slice })).toEqual({ outcome: "ignored" });
    }
    expect(await runDurableObjectAlarm(unit.stub)).toBe(false);
  });

  it("a unit that cannot run fails the session, naming it", async () => {
    // Two units of a fleet that is one: each unit object finds the fleet no longer cuts so.
    const id = "0123456789abcdef0123456789abcd03";
    const session = object(A.name);
    expect((await session.start(waitingForUnits(A.record, id, 2))).status).toBe(201);
    const failed = await until(async () => (await session.state()).body, (r) => r.view.state !== "optimizing");
    expect(failed.view.state).toBe("failed");
    expect(failed.view.reason).toContain("no longer cuts into 2 work units");
  });

  /** Runs a unit object's twin of the completed session to its end, its slices delivered by hand. */
  async function twinToEnd(id, extra = {}) {
    // The twin's record names another session object, so its own messages go to a unit object
    // of that name, which has no record and ignores them: the test delivers its slices.
    const name = `${A.name}/${id}/0`;
    const twin = unitObject(name);
    const record = {
      session: id, session_object: `${A.name}/elsewhere`, inputs: A.record.inputs, unit: 0, units: 1, slice: 0,
      sent: false, failures: 0, moved_ms: 0, progress: null, finished: false, failed: null, reported: false, ...extra,
    };
    expect(await twin.start(record)).toBe(200);
    const started = (await twin.state()).body;
    expect(started.sent).toBe(true);
    // Nothing moved: the watchdog sends the awaited slice again.
    await sleep(1_100); // WATCHDOG_SECONDS is 1 in the tests
    expect(await runDurableObjectAlarm(twin.stub)).toBe(true);
    expect((await twin.state()).body.moved_ms).toBeGreaterThan(started.moved_ms);
    const work = (slice) => ({ object: name, session: id, step: "unit", unit: 0, slice });
    let slice = 0;
    for (;;) {
      if (slice % 3 === 2) await evictDurableObject(twin.stub);
      expect(await twin.step(work(slice + 1))).toEqual({ outcome: "ignored" }); // early
      expect(await twin.step(work(slice))).toEqual({ outcome: "ran" });
      expect(await twin.step(work(slice))).toEqual({ outcome: "ignored" }); // again
      const state = (await twin.state()).body;
      if (state.finished) break;
      expect(state.slice).toBe(slice + 1);
      slice += 1;
      expect(slice).toBeLessThan(10_000);
    }
    const done = (await twin.state()).body;
    expect(await runDurableObjectAlarm(twin.stub)).toBe(false);
    return { done, slices: slice + 1 };
  }

  /** A unit's list of SIMs in R2, as the session's object writes it: little-endian u32 positions. */
  async function putList(key, positions) {
    const bytes = new Uint8Array(positions.length * 4);
    const view = new DataView(bytes.buffer);
    positions.forEach((p, i) => view.setUint32(i * 4, p, true));
    await env.FILES.put(key, bytes);
  }

  const listKey = (id, unit) => `tenants/${A.record.tenant}/accounts/${A.account}/sessions/${id}/units/${unit}.sims`;

  it("a unit object's twin, its slices delivered by hand — twice, stale, with evictions and its watchdog — ends with the session's result", async () => {
    const { done, slices } = await twinToEnd("0123456789abcdef0123456789abcd04");
    // Its result was offered to a session object that does not wait for it: taken as handed
    // over. Its figures are the real session's (one object ran the same fleet).
    expect(done).toMatchObject({ finished: true, reported: true, failed: null });
    const micros = (text) => Math.round(Number(text) * 1e6);
    expect(done.progress.best_micros).toBe(micros(A.done.summary.optimized_cost));
    expect(done.progress.bound_micros).toBe(micros(A.done.summary.lower_bound));
    expect(done.progress.slices).toBe(slices);
  });

  it("a unit object reads only the SIMs its list names: all of them give the session's result", async () => {
    const id = "0123456789abcdef0123456789abcd05";
    const key = listKey(id, 0);
    await putList(key, [...Array(A.done.sims).keys()]);
    const { done } = await twinToEnd(id, { sims_key: key });
    expect(done).toMatchObject({ finished: true, reported: true, failed: null });
    const micros = (text) => Math.round(Number(text) * 1e6);
    expect(done.progress.best_micros).toBe(micros(A.done.summary.optimized_cost));
    expect(done.progress.bound_micros).toBe(micros(A.done.summary.lower_bound));
  });

  it("units whose lists of SIMs are damaged fail the session, naming the list", async () => {
    const id = "0123456789abcdef0123456789abcd06";
    for (const unit of [0, 1]) await env.FILES.put(listKey(id, unit), new Uint8Array([1, 2, 3]));
    const twin = waitingForUnits(A.record, id, 2);
    twin.units.listed = true;
    const session = object(A.name);
    expect((await session.start(twin)).status).toBe(201);
    const failed = await until(async () => (await session.state()).body, (r) => r.view.state !== "optimizing");
    expect(failed.view.state).toBe("failed");
    expect(failed.view.reason).toContain("list of SIMs");
    expect(failed.view.reason).toContain("is damaged");
  });
});
