// The page's pure modules (compiled by scripts/test-web into $WEB_UNIT): CSV edits, what-if
// scenarios, the break-even geometry, account.toml, and the per-SIM table's views.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

const unit = (name) => import(pathToFileURL(`${process.env.WEB_UNIT ?? "target/web-unit"}/${name}`).href);
const { parseCsv, toCsv, filterCsv } = await unit("csv.js");
const { editPlans, editEligibility, isEmpty, WhatIfError } = await unit("whatif.js");
const { cheapestByUsage, costAt } = await unit("envelope.js");
const { parseFlatToml } = await unit("toml.js");
const { computeView } = await unit("view.js");

test("CSV: quotes, doubled quotes, CRLF and a BOM round-trip", () => {
  const rows = parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\n3,\n');
  assert.deepEqual(rows, [["a", "b"], ["x, y", 'say "hi"'], ["3", ""]]);
  assert.equal(toCsv(rows), 'a,b\n"x, y","say ""hi"""\n3,\n');
  assert.equal(filterCsv('id,changed,why\n1,true,"a, b"\n2,false,c\n3,true,"multi\nline"\n', "changed", "true"),
    'id,changed,why\n1,true,"a, b"\n3,true,"multi\nline"\n');
  assert.throws(() => filterCsv("id\n1\n", "changed", "true"), /no changed column/);
});

const PLANS = "plan_id,name,monthly_charge,included_mb,overage_rate,overage_block_mb,pooled,pool_id,sms_rate,plan_type\n" +
  "S5,Small 5 MB,2.50,5,0.50,1,false,,0.05,M2M\nUNL,Unlimited,45.00,0,,,false,,0.05,M2M\n";

test("what-if: edits change only the named plan's cells; a new plan is appended", () => {
  const scenario = {
    edits: [{ plan: "S5", monthlyCharge: "2.00", overageRate: "" }],
    added: [{ plan: "M20", name: "", monthlyCharge: "3.20", includedMb: "20", overageRate: "0.15", overageBlockMb: "", planType: "M2M", smsRate: "0.05", commPlans: ["CP-A"] }],
  };
  assert.equal(isEmpty(scenario), false);
  assert.equal(isEmpty({ edits: [{ plan: "S5" }], added: [] }), true);
  const rows = parseCsv(editPlans(PLANS, scenario));
  assert.deepEqual(rows[1], ["S5", "Small 5 MB", "2.00", "5", "", "1", "false", "", "0.05", "M2M"]);
  assert.deepEqual(rows[2], parseCsv(PLANS)[2], "other plans untouched");
  assert.deepEqual(rows[3], ["M20", "M20", "3.20", "20", "0.15", "1", "false", "", "0.05", "M2M"]);
  assert.equal(editEligibility("comm_plan,plan_id\nCP-A,S5\n", scenario), "comm_plan,plan_id\nCP-A,S5\nCP-A,M20\n");
  assert.equal(editEligibility(null, scenario), null, "no eligibility file: every plan allowed");
});

test("what-if: impossible scenarios are refused with a message", () => {
  const added = (plan, commPlans = ["CP-A"]) => ({ plan, name: "", monthlyCharge: "1", includedMb: "1", overageRate: "", overageBlockMb: "", planType: "", smsRate: "0", commPlans });
  assert.throws(() => editPlans(PLANS, { edits: [{ plan: "NOPE", monthlyCharge: "1" }], added: [] }), (e) => e instanceof WhatIfError && /NOPE is not in the plans file/.test(e.message));
  assert.throws(() => editPlans(PLANS, { edits: [], added: [added("S5")] }), /already in the plans file/);
  assert.throws(() => editPlans(PLANS, { edits: [], added: [added(" ")] }), /plan ID/);
  assert.throws(() => editEligibility("comm_plan,plan_id\n", { edits: [], added: [added("X", [])] }), /at least one communication plan/);
  // A column the file lacks is added (empty for the other plans).
  const rows = parseCsv(editPlans("plan_id,monthly_charge,included_mb\nA,1,1\n", { edits: [{ plan: "A", overageRate: "0.5" }], added: [] }));
  assert.deepEqual(rows, [["plan_id", "monthly_charge", "included_mb", "overage_rate"], ["A", "1", "1", "0.5"]]);
});

test("break-evens: S5 vs M50 cross at 12 MB, as the engine explains the basic case", () => {
  const s5 = { charge: 2.5, includedMb: 5, rate: 0.5, blockMb: 1 };
  const m50 = { charge: 6, includedMb: 50, rate: 0.1, blockMb: 1 };
  const unl = { charge: 45, includedMb: 0, rate: null, blockMb: null };
  assert.equal(costAt(s5, 12.25), 2.5 + 0.5 * 7.25);
  const segments = cheapestByUsage([s5, m50, unl], 1000);
  assert.deepEqual(segments.map((s) => s.plan), [0, 1, 2]);
  assert.ok(Math.abs(segments[1].fromMb - 12) < 1e-9, `${segments[1].fromMb}`);
  // M50 reaches 45 at 50 + 39 / 0.1 = 440 MB.
  assert.ok(Math.abs(segments[2].fromMb - 440) < 1e-9, `${segments[2].fromMb}`);
  assert.equal(segments[2].toMb, 1000);
  assert.deepEqual(cheapestByUsage([], 10), []);
});

test("account.toml: the flat keys of the sample fleet's settings", () => {
  const settings = parseFlatToml('# c\nperiod_end = "2026-11-22T00:00"   # end\nproration = "on"\nmargin_pct = 1\nx = true\n');
  assert.deepEqual(settings, { period_end: "2026-11-22T00:00", proration: "on", margin_pct: 1, x: true });
  assert.throws(() => parseFlatToml("[table]\n"), /line 1/);
  assert.throws(() => parseFlatToml("a = [1]\n"), /cannot read the value of a/);
});

test("the table's view: search, changed only, sort by saving or plan", () => {
  const t = {
    count: 4,
    iccidList: ["8901", "8902", "8903", "7704"],
    plans: ["S5", "M50", "A1"],
    reasons: ["", "break-even 12.0 MB: M50 is cheaper above it", "locked: keeps its plan"],
    usageBytes: new Float64Array([1, 4, 3, 2]),
    currentPlan: new Uint32Array([0, 0, 1, 2]),
    plan: new Uint32Array([0, 1, 0, 2]),
    currentCost: new Float64Array([10, 30, 20, 5]),
    cost: new Float64Array([10, 10, 15, 5]),
    reason: new Uint32Array([0, 1, 0, 2]),
  };
  const view = (q) => [...computeView(t, { search: "", changedOnly: false, sort: "file", descending: false, ...q })];
  assert.deepEqual(view({}), [0, 1, 2, 3]);
  assert.deepEqual(view({ sort: "saving", descending: true }), [1, 2, 0, 3], "saving 20, 5, 0, 0 (ties in file order)");
  assert.deepEqual(view({ changedOnly: true }), [1, 2]);
  assert.deepEqual(view({ search: "890" }), [0, 1, 2]);
  assert.deepEqual(view({ search: "m50" }), [1, 2], "plan code now or after");
  assert.deepEqual(view({ search: "locked" }), [3], "the explanation");
  assert.deepEqual(view({ sort: "plan" }), [3, 1, 0, 2], "A1, M50, S5, S5");
  assert.deepEqual(view({ sort: "usage", descending: true }), [1, 2, 3, 0]);
  assert.deepEqual(view({ sort: "iccid" }), [3, 0, 1, 2]);
  assert.deepEqual(view({ sort: "file", descending: true }), [3, 2, 1, 0]);
});
