// Sessions inside workerd (local D1, R2, Queues and the session Durable Object). Tenant A has an
// account with the basic fixture's files; the queue runs a session of it to completion on its
// own. The session object's rules are then checked on a twin: a second object given a copy of
// the latest session's record (as its `/start` takes it). The twin's own messages go to the real
// session's object, which ignores them (another session), so the test delivers the twin's
// work by hand, in any order, twice, with evictions and watchdog alarms in between.
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";

import { as, json, newTenant, object, settled, sleep } from "./api.mjs";
import { cases } from "./fixtures.mjs";

const basic = cases.basic;

const A = {};

beforeAll(async () => {
  A.token = await newTenant("Sessions A");
  A.other = await newTenant("Sessions B");
  const account = await json(await as(A.token, "/api/accounts", { method: "POST", json: { name: "Basic fleet", time_zone: "UTC", period_end_day: 1 } }));
  A.account = account.body.id;
});

describe("starting a session", () => {
  it("needs the plans and the SIMs first: 409 naming what is missing", async () => {
    let got = await json(await as(A.token, `/api/accounts/${A.account}/sessions`, { method: "POST" }));
    expect(got.status).toBe(409);
    expect(got.body.error).toBe("inputs-missing");
    expect(got.body.message).toContain("no plans file");
    for (const kind of ["plans", "eligibility", "sims"]) {
      const put = await as(A.token, `/api/accounts/${A.account}/${kind}`, { method: "PUT", body: basic[`${kind}.csv`], headers: { "content-type": "text/csv" } });
      expect(put.status).toBe(201);
    }
  });

  it("two starts at once make one session; the other answers 409 with its id", async () => {
    const start = () => as(A.token, `/api/accounts/${A.account}/sessions`, { method: "POST" }).then(json);
    const answers = await Promise.all([start(), start()]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, 409]);
    const made = answers.find((a) => a.status === 201).body;
    const refused = answers.find((a) => a.status === 409).body;
    expect(refused.error).toBe("already-running");
    expect(refused.session.id).toBe(made.id);
    expect(made.state).toBe("created");
    A.session = made;
  });

  it("the queue runs it to completion: summary, report, history", async () => {
    const view = await settled(A.token, A.session.id);
    expect(view.state, view.reason).toBe("completed");
    expect(view.slices).toBeGreaterThan(0);
    expect(view.progress.percent).toBe(100);
    expect(view.summary.sims).toBe(basic["sims.csv"].trimEnd().split("\n").length - 1);
    expect(Number(view.summary.savings)).toBeCloseTo(Number(view.summary.current_cost) - Number(view.summary.optimized_cost), 6);
    expect(view.notification).toBe("none configured");
    const report = await as(A.token, view.report);
    expect(report.status).toBe(200);
    const bytes = new Uint8Array(await report.arrayBuffer());
    expect([...bytes.slice(0, 2)]).toEqual([0x50, 0x4b]); // a zip: the xlsx
    const list = await json(await as(A.token, `/api/accounts/${A.account}/sessions`));
    expect(list.body.sessions.map((s) => s.id)).toEqual([view.id]);
    A.done = view;
  });

  it("keeps every SIM's result in D1: pages, the changes, the savings adding up to the summary's", async () => {
    const view = A.done;
    const all = await json(await as(A.token, `/api/sessions/${view.id}/sims?limit=1000`));
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(view.summary.sims);
    expect(all.body.sims.map((s) => s.n)).toEqual([...Array(view.summary.sims).keys()]);
    const micros = (text) => Math.round(Number(text) * 1e6);
    const saved = all.body.sims.reduce((sum, s) => sum + micros(s.saving), 0);
    expect(saved).toBe(micros(view.summary.savings));
    const changes = await json(await as(A.token, `/api/sessions/${view.id}/sims?changed=true`));
    expect(changes.body.total).toBe(view.summary.changes);
    expect(changes.body.sims.every((s) => s.changed && s.plan !== s.current_plan)).toBe(true);
    const page = await json(await as(A.token, `/api/sessions/${view.id}/sims?offset=2&limit=3`));
    expect(page.body.sims.map((s) => s.n)).toEqual([2, 3, 4]);
    const bad = await json(await as(A.token, `/api/sessions/${view.id}/sims?limit=5000`));
    expect(bad.status).toBe(400);
  });

  it("after completion a new start is a new session", async () => {
    const got = await json(await as(A.token, `/api/accounts/${A.account}/sessions`, { method: "POST" }));
    expect(got.status).toBe(201);
    expect(got.body.id).not.toBe(A.done.id);
    const view = await settled(A.token, got.body.id);
    // The same files, a later moment: the same fleet.
    expect(view.summary.sims).toBe(A.done.summary.sims);
    const list = await json(await as(A.token, `/api/accounts/${A.account}/sessions`));
    expect(list.body.sessions.map((s) => s.id)).toEqual([got.body.id, A.done.id]);
  });
});

describe("a session as of a chosen moment", () => {
  it("runs as of that moment; the future, a bad moment and unknown fields are 400", async () => {
    const start = (body) => as(A.token, `/api/accounts/${A.account}/sessions`, { method: "POST", json: body }).then(json);
    const future = await start({ as_of: "2099-01-01T00:00" });
    expect(future.status).toBe(400);
    expect(future.body.fields[0].field).toBe("as_of");
    expect(future.body.fields[0].message).toContain("future");
    const bad = await start({ as_of: "yesterday" });
    expect(bad.status).toBe(400);
    expect(bad.body.fields[0].field).toBe("as_of");
    const unknown = await start({ asOf: "2026-11-20T12:00" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe("bad-json");
    const made = await start({ as_of: "2026-11-20T12:00" });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.as_of).toBe("2026-11-20T12:00:00Z");
    expect(made.body.period_end).toBe("2026-12-01T00:00");
    const view = await settled(A.token, made.body.id);
    expect(view.state, view.reason).toBe("completed");
  });
});

describe("another tenant", () => {
  it("can neither read, list, download nor start A's sessions (404 as for none)", async () => {
    for (const path of [`/api/sessions/${A.done.id}`, `/api/sessions/${A.done.id}/report.xlsx`, `/api/sessions/${A.done.id}/sims`, `/api/accounts/${A.account}/sessions`]) {
      const got = await json(await as(A.other, path));
      expect(got.status, path).toBe(404);
      expect(got.body.error).toBe("not-found");
    }
    const start = await json(await as(A.other, `/api/accounts/${A.account}/sessions`, { method: "POST" }));
    expect(start.status).toBe(404);
  });

  it("and without a token nothing is answered (401)", async () => {
    for (const [method, path] of [["GET", `/api/sessions/${A.done.id}`], ["POST", `/api/accounts/${A.account}/sessions`], ["GET", `/api/sessions/${A.done.id}/report.xlsx`]]) {
      const got = await json(await as(undefined, path, { method }));
      expect(got.status, path).toBe(401);
    }
  });
});

describe("the session object's rules (on a twin of the finished session)", () => {
  const twinName = () => `${A.account}/twin`;
  let twin;
  let record;
  let original; // the view of the session the twin copies
  const work = (step, slice, unit = 0) => ({ object: `${A.account}/${record.view.period_end}`, session: record.view.id, step, unit, slice });

  beforeAll(async () => {
    const real = object(`${A.account}/${A.done.period_end}`);
    const state = await real.state();
    expect(state.status).toBe(200);
    // The finished session's record, as it was started: a new id, state created, slice 0.
    original = state.body.view;
    expect(original.state).toBe("completed");
    record = structuredClone(state.body);
    record.view = { ...record.view, id: "f".repeat(32), state: "created", reason: null, summary: null, report: null, notification: null, slices: 0, checkpoint_bytes: 0, finished_at: null };
    record.next = { step: "optimize", unit: 0, slice: 0 };
    record.sent = false;
    record.failures = 0;
    record.report_keys = null;
    twin = object(twinName());
    const started = await twin.start(record);
    expect(started.status).toBe(201);
  });

  it("runs only the awaited slice: duplicates, stale, future and other-unit messages change nothing", async () => {
    expect(await twin.step(work("optimize", 0))).toEqual({ outcome: "ran" });
    const after0 = (await twin.state()).body;
    for (const stray of [work("optimize", 0), work("optimize", 5), work("report", 0), work("optimize", 1, 1), { ...work("optimize", 1), session: "0".repeat(32) }]) {
      expect(await twin.step(stray), JSON.stringify(stray)).toEqual({ outcome: "ignored" });
    }
    const still = (await twin.state()).body;
    expect(still.next).toEqual({ step: "optimize", unit: 0, slice: 1 });
    expect(still.view.slices).toBe(after0.view.slices);
  });

  it("the watchdog sends the awaited message again when the session has not moved", async () => {
    const before = (await twin.state()).body.watchdog_resends;
    await sleep(1_100); // WATCHDOG_SECONDS is 1 in the tests
    expect(await runDurableObjectAlarm(twin.stub)).toBe(true);
    expect((await twin.state()).body.watchdog_resends).toBe(before + 1);
  });

  it("resumes from its checkpoint after an eviction and ends with the real session's result", async () => {
    let slice = 1;
    for (;;) {
      if (slice % 3 === 0) await evictDurableObject(twin.stub);
      expect(await twin.step(work("optimize", slice))).toEqual({ outcome: "ran" });
      const state = (await twin.state()).body;
      if (state.next.step !== "optimize") break;
      slice += 1;
      expect(slice).toBeLessThan(10_000);
    }
    expect(await twin.step(work("report", 0))).toEqual({ outcome: "ran" });
    expect(await twin.step(work("report", 0))).toEqual({ outcome: "ignored" });
    for (let k = 0; (await twin.state()).body.next.step === "results"; k++) {
      expect(await twin.step(work("results", k))).toEqual({ outcome: "ran" });
    }
    expect(await twin.step(work("notify", 0))).toEqual({ outcome: "ran" });
    const done = (await twin.state()).body.view;
    expect(done.state).toBe("completed");
    expect(done.summary).toEqual(original.summary);
    expect(done.slices).toBe(original.slices);
    // Finished: nothing runs, no alarm is left.
    expect(await twin.step(work("notify", 0))).toEqual({ outcome: "ignored" });
    expect(await runDurableObjectAlarm(twin.stub)).toBe(false);
    // D1 holds the twin's view, under A.
    const got = await json(await as(A.token, `/api/sessions/${done.id}`));
    expect(got.body.state).toBe("completed");
  });

  it("a dead letter fails a running session with its reason; a new start is then allowed", async () => {
    const again = structuredClone(record);
    again.view.id = "e".repeat(32);
    const started = await twin.start(again);
    expect(started.status).toBe(201);
    const busy = await twin.start({ ...again, view: { ...again.view, id: "d".repeat(32) } });
    expect(busy.status).toBe(409);
    expect(busy.body.session.id).toBe(again.view.id);
    await twin.fail({ ...work("optimize", 0), session: again.view.id }, "the queue gave up");
    const state = (await twin.state()).body.view;
    expect(state.state).toBe("failed");
    expect(state.reason).toBe("the queue gave up");
    expect(await twin.step({ ...work("optimize", 0), session: again.view.id })).toEqual({ outcome: "ignored" });
    const got = await json(await as(A.token, `/api/sessions/${again.view.id}`));
    expect(got.body.state).toBe("failed");
  });

  it("a step that keeps failing is retried with backoff, then fails the session with a dead letter", async () => {
    const stuck = structuredClone(record);
    stuck.view.id = "b".repeat(32);
    stuck.view.state = "notifying";
    stuck.next = { step: "notify", unit: 0, slice: 0 };
    stuck.inputs.notify_webhook = "http://127.0.0.1:9/hook"; // nothing listens there
    expect((await twin.start(stuck)).status).toBe(201);
    const notify = { ...work("notify", 0), session: stuck.view.id };
    const delays = [];
    for (let i = 0; i < 4; i++) {
      const outcome = await twin.step(notify);
      expect(outcome.outcome).toBe("retry");
      delays.push(outcome.delay_seconds);
    }
    expect(delays).toEqual([2, 4, 8, 16]);
    expect(await twin.step(notify)).toEqual({ outcome: "failed" });
    const view = (await twin.state()).body.view;
    expect(view.state).toBe("failed");
    expect(view.reason).toMatch(/^the notify step \(slice 0\) failed 5 times in a row; the last error: /);
    const dead = await env.DB.prepare("SELECT message, reason FROM dead_letters WHERE session_id = ?1").bind(stuck.view.id).all();
    expect(dead.results.length).toBe(1);
    expect(JSON.parse(dead.results[0].message)).toEqual(notify);
    expect(dead.results[0].reason).toBe(view.reason);
  });

  it("input that is gone from R2 fails the session at once, naming the file", async () => {
    const gone = structuredClone(record);
    gone.view.id = "c".repeat(32);
    gone.inputs.sims.key = `${record.inputs.sims.key}.missing`;
    expect((await twin.start(gone)).status).toBe(201);
    expect(await twin.step({ ...work("optimize", 0), session: gone.view.id })).toEqual({ outcome: "failed" });
    const view = (await twin.state()).body.view;
    expect(view.state).toBe("failed");
    expect(view.reason).toContain(".missing");
  });
});
