//! What the page shows besides the document: `simTable()`, `planLines()`, `catalogue()` and the
//! what-if locks (`lockIccids`), checked against the native golden files of the basic case
//! (`optimize.json` after, `cost.json` before) and its input files.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod support;

use js_sys::{Float64Array, Uint32Array, Uint8Array};
use serde_json::Value;
use simopt_wasm::{CheckpointInput, OptimizeJob};
use support::{get, js, name_and_message, to_json, Fixture};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const OPTIMIZED: &str = include_str!("../../tests/fixtures/cases/basic/optimize.json");
const CURRENT: &str = include_str!("../../tests/fixtures/cases/basic/cost.json");
const PLANS_CSV: &str = include_str!("../../tests/fixtures/cases/basic/plans.csv");
const ELIGIBILITY_CSV: &str = include_str!("../../tests/fixtures/cases/basic/eligibility.csv");

fn basic() -> Fixture {
    fixture!("cases/basic", "sims.csv", "plans.csv", "eligibility.csv")
}

fn start(options: &str) -> Result<OptimizeJob, js_sys::Error> {
    let fixture = basic();
    OptimizeJob::start(
        fixture.files(),
        support::settings(fixture.settings),
        Some(js(options)),
    )
}

fn finished(options: &str) -> OptimizeJob {
    let mut job = start(options).unwrap_or_else(|e| panic!("start: {:?}", name_and_message(&e)));
    job.run_slice(js(r#"{"maxQuanta": 1e12}"#))
        .expect("runSlice");
    assert!(job.finished());
    job
}

/// Decimal text to micros, exactly ("2.70" → 2700000).
fn micros(text: &str) -> f64 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac = format!("{frac:0<6}");
    let negative = int.starts_with('-');
    let value = int
        .trim_start_matches('-')
        .parse::<i64>()
        .expect("integer part")
        * 1_000_000
        + frac.parse::<i64>().expect("fraction");
    (if negative { -value } else { value }) as f64
}

struct Table {
    value: JsValue,
}

impl Table {
    fn of(job: &OptimizeJob) -> Table {
        let value: JsValue = job
            .sim_table()
            .unwrap_or_else(|e| panic!("simTable: {:?}", name_and_message(&e)))
            .into();
        Table { value }
    }
    fn strings(&self, key: &str) -> Vec<String> {
        serde_wasm_bindgen::from_value(get(&self.value, key)).expect("strings")
    }
    fn u32s(&self, key: &str) -> Vec<u32> {
        get(&self.value, key)
            .dyn_into::<Uint32Array>()
            .unwrap_or_else(|_| panic!("{key} is a Uint32Array"))
            .to_vec()
    }
    fn f64s(&self, key: &str) -> Vec<f64> {
        get(&self.value, key)
            .dyn_into::<Float64Array>()
            .unwrap_or_else(|_| panic!("{key} is a Float64Array"))
            .to_vec()
    }
    fn u8s(&self, key: &str) -> Vec<u8> {
        get(&self.value, key)
            .dyn_into::<Uint8Array>()
            .unwrap_or_else(|_| panic!("{key} is a Uint8Array"))
            .to_vec()
    }
    fn iccids(&self) -> Vec<String> {
        get(&self.value, "iccids")
            .as_string()
            .expect("iccids is a string")
            .split('\n')
            .map(str::to_owned)
            .collect()
    }
}

#[wasm_bindgen_test]
fn the_sim_table_is_the_documents_sims_as_columns() {
    let job = finished("{}");
    let table = Table::of(&job);
    let after: Value = serde_json::from_str(OPTIMIZED).expect("golden");
    let before: Value = serde_json::from_str(CURRENT).expect("golden");
    let sims = after["sims"].as_array().expect("sims");
    let n = sims.len();
    assert_eq!(get(&table.value, "count").as_f64(), Some(n as f64));
    assert_eq!(get(&table.value, "moneyScale").as_f64(), Some(1e6));
    assert_eq!(get(&table.value, "currencyDecimals").as_f64(), Some(2.0));
    let plans = table.strings("plans");
    let codes: Vec<&str> = PLANS_CSV
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().expect("code"))
        .collect();
    assert_eq!(plans, codes, "plans in the file's order");
    let comm_plans = table.strings("commPlans");
    let reasons = table.strings("reasons");
    assert_eq!(reasons[0], "", "index 0 is the SIM that simply stays");
    let (iccids, comm, usage) = (
        table.iccids(),
        table.u32s("commPlan"),
        table.f64s("usageBytes"),
    );
    let (current_plan, plan) = (table.u32s("currentPlan"), table.u32s("plan"));
    let (current_cost, cost) = (table.f64s("currentCost"), table.f64s("cost"));
    let (reason, locked) = (table.u32s("reason"), table.u8s("locked"));
    for column in [&comm, &current_plan, &plan, &reason] {
        assert_eq!(column.len(), n);
    }
    let sims_csv: Vec<&str> = include_str!("../../tests/fixtures/cases/basic/sims.csv")
        .lines()
        .skip(1)
        .collect();
    for (i, sim) in sims.iter().enumerate() {
        let iccid = sim["iccid"].as_str().expect("iccid");
        assert_eq!(iccids[i], iccid);
        assert_eq!(
            plans[current_plan[i] as usize], sim["current_plan"],
            "{iccid}"
        );
        assert_eq!(plans[plan[i] as usize], sim["plan"], "{iccid}");
        assert_eq!(Some(usage[i]), sim["usage_bytes"].as_f64(), "{iccid}");
        assert_eq!(
            cost[i],
            micros(sim["cost"].as_str().expect("cost")),
            "{iccid}"
        );
        assert_eq!(before["sims"][i]["iccid"], iccid);
        assert_eq!(
            current_cost[i],
            micros(before["sims"][i]["cost"].as_str().expect("cost")),
            "{iccid} now"
        );
        let comm_plan = sims_csv[i].split(',').nth(2).expect("comm_plan");
        assert_eq!(comm_plans[comm[i] as usize], comm_plan, "{iccid}");
        assert_eq!(locked[i], 0, "{iccid}");
        let why = &reasons[reason[i] as usize];
        if sim["plan"] != sim["current_plan"] {
            assert!(!why.is_empty(), "{iccid} moves and says why");
        }
    }
    // The move of SIM 2 (12.25 MB, S5 → M50) is explained by its break-even, as the report has it.
    assert_eq!(
        reasons[reason[1] as usize],
        "break-even 12.0 MB: M50 is cheaper above it"
    );
}

#[wasm_bindgen_test]
fn plan_lines_are_the_bills_before_and_after() {
    let job = finished("{}");
    let lines = to_json(job.plan_lines().expect("planLines"));
    let after: Value = serde_json::from_str(OPTIMIZED).expect("golden");
    let before: Value = serde_json::from_str(CURRENT).expect("golden");
    let lines = lines.as_array().expect("an array");
    assert_eq!(lines.len(), after["plans"].as_array().expect("plans").len());
    for (i, line) in lines.iter().enumerate() {
        for (side, document) in [("after", &after), ("before", &before)] {
            let want = &document["plans"][i];
            assert_eq!(line["plan"], want["plan"]);
            assert_eq!(line["name"], want["name"]);
            assert_eq!(line["pool"], want["pool"], "{}", line["plan"]);
            assert_eq!(line[side]["simCount"], want["sim_count"], "{side}");
            for key in ["base", "overage", "sms", "total"] {
                assert_eq!(line[side][key], want[key], "{} {side} {key}", line["plan"]);
            }
            assert_eq!(
                line[side]["usageMb"].as_str().map(str::parse::<f64>),
                Some(Ok(want["usage_mb"].as_f64().expect("usage"))),
            );
        }
    }
}

#[wasm_bindgen_test]
fn the_catalogue_has_the_plans_terms_and_each_comm_plans_plans() {
    let job = finished("{}");
    let catalogue = to_json(job.catalogue().expect("catalogue"));
    let plans = catalogue["plans"].as_array().expect("plans");
    for (plan, line) in plans.iter().zip(PLANS_CSV.lines().skip(1)) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(plan["plan"], f[0]);
        assert_eq!(plan["name"], f[1]);
        assert_eq!(plan["monthlyCharge"], f[2]);
        assert_eq!(plan["includedMb"], f[3]);
        if f[4].is_empty() {
            assert_eq!(plan["overageRate"], Value::Null, "{}", f[0]);
            assert_eq!(plan["overageBlockMb"], Value::Null, "{}", f[0]);
        } else {
            assert_eq!(plan["overageRate"], f[4]);
            assert_eq!(plan["overageBlockMb"], f[5]);
        }
        assert_eq!(plan["pooled"], f[6] == "true");
        assert_eq!(plan["smsRate"], f[8]);
    }
    let codes: Vec<&str> = plans.iter().filter_map(|p| p["plan"].as_str()).collect();
    let comm_plans = catalogue["commPlans"].as_array().expect("commPlans");
    let total: u64 = comm_plans.iter().filter_map(|c| c["sims"].as_u64()).sum();
    assert_eq!(total, 12);
    for comm in comm_plans {
        let name = comm["name"].as_str().expect("name");
        let mut want: Vec<&str> = ELIGIBILITY_CSV
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(','))
            .filter(|(c, _)| *c == name)
            .map(|(_, p)| p)
            .collect();
        want.sort_by_key(|p| codes.iter().position(|c| c == p));
        let got: Vec<&str> = comm["plans"]
            .as_array()
            .expect("plans")
            .iter()
            .map(|i| codes[i.as_u64().expect("index") as usize])
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[wasm_bindgen_test]
fn a_what_if_lock_keeps_a_sim_on_its_plan() {
    // SIM 2 moves S5 → M50 unlocked; locked, it stays, and says why.
    let job = finished(r#"{"lockIccids": ["89012600000000000002"]}"#);
    let table = Table::of(&job);
    let (plan, current, locked) = (
        table.u32s("plan"),
        table.u32s("currentPlan"),
        table.u8s("locked"),
    );
    assert_eq!(plan[1], current[1], "the locked SIM stays");
    assert_eq!(locked[1], 1);
    assert_eq!(locked.iter().map(|&l| u32::from(l)).sum::<u32>(), 1);
    assert_eq!(
        table.strings("reasons")[table.u32s("reason")[1] as usize],
        "locked: keeps its plan"
    );
    let result = to_json(job.result().expect("result"));
    assert_eq!(result["lockedSims"], 1);
    let unlocked = to_json(finished("{}").result().expect("result"));
    assert!(
        micros(result["optimizedCost"].as_str().expect("cost"))
            >= micros(unlocked["optimizedCost"].as_str().expect("cost")),
        "a lock never makes the bill cheaper"
    );

    // Resumed with the same locks, a job ends where an uninterrupted one does.
    let fixture = basic();
    let mut sliced =
        start(r#"{"lockIccids": ["89012600000000000002"]}"#).expect("start with a lock");
    sliced.run_slice(js(r#"{"maxQuanta": 2}"#)).expect("slice");
    let bytes: CheckpointInput = Uint8Array::from(&sliced.encode()[..]).unchecked_into();
    let mut resumed = OptimizeJob::resume(
        fixture.files(),
        support::settings(fixture.settings),
        bytes,
        Some(vec!["89012600000000000002".to_owned()]),
    )
    .unwrap_or_else(|e| panic!("resume: {:?}", name_and_message(&e)));
    resumed
        .run_slice(js(r#"{"maxQuanta": 1e12}"#))
        .expect("runSlice");
    assert_eq!(
        resumed.to_json().expect("toJson"),
        job.to_json().expect("toJson")
    );
}

#[wasm_bindgen_test]
fn locking_an_unknown_iccid_is_an_argument_error() {
    for options in [
        r#"{"lockIccids": ["8901"]}"#,
        r#"{"lockIccids": "89012600000000000002"}"#,
    ] {
        let error = match start(options) {
            Ok(_) => panic!("{options}: expected an error"),
            Err(error) => error,
        };
        let (name, message) = name_and_message(&error);
        assert_eq!(name, "ArgumentError", "{options}: {message}");
    }
    let error = match start(r#"{"lockIccids": ["8901"]}"#) {
        Ok(_) => panic!("expected an error"),
        Err(error) => error,
    };
    assert_eq!(
        name_and_message(&error).1,
        r#"lockIccids: no SIM has ICCID "8901"; give ICCIDs from the SIMs file"#
    );
}

#[wasm_bindgen_test]
fn the_job_states_its_period_and_warnings_as_cost_run_does() {
    let fixture = basic();
    let job = finished("{}");
    let run = fixture.run().expect("CostRun");
    assert_eq!(
        to_json(job.period().expect("period")),
        to_json(run.period().expect("period"))
    );
    assert_eq!(
        to_json(job.warnings().expect("warnings")),
        serde_json::json!([])
    );
    assert_eq!(job.warning_count(), 0.0);

    // A paused SIM is a warning of the SIMs file, row 5 (as CostRun reports it).
    let sims = include_str!("../../tests/fixtures/cases/basic/sims.csv").replace(
        ",P100,active,2025-03-01,180,",
        ",P100,paused,2025-03-01,180,",
    );
    let files = support::files(
        support::text_file("fleet.csv", &sims),
        support::bytes_file(fixture.plans),
        None,
    );
    let job = OptimizeJob::start(files, support::settings(fixture.settings), None)
        .unwrap_or_else(|e| panic!("start: {:?}", name_and_message(&e)));
    let warnings = to_json(job.warnings().expect("warnings"));
    assert!(job.warning_count() >= 1.0);
    assert_eq!(warnings[0]["file"], "fleet.csv");
    assert_eq!(warnings[0]["row"], 5);
    assert_eq!(warnings[0]["column"], "status");
}
