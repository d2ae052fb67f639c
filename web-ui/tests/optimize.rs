//! `OptimizeJob`: the optimizer stepped under a budget from JavaScript.
//!
//! * Parity: every case under `tests/fixtures/cases/` optimized through the bindings gives its
//!   `optimize.json` golden file (written by the native CLI) byte for byte — run straight, cut
//!   into slices of 1 to 7 quanta with encode → resume between them, or resumed from the
//!   committed native checkpoint.
//! * A generated fleet of 2,000 SIMs (many quanta) sliced and resumed gives the document of an
//!   uninterrupted run.
//! * Bad checkpoints are `CheckpointError`s with the core's code; bad options and budgets are
//!   `ArgumentError`s; bad input is an `InputError`.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod support;

use js_sys::Uint8Array;
use serde_json::{json, Value};
use simopt_core::optimize::{Job, Method, Options};
use simopt_core::random::SplitMix64;
use simopt_core::synthetic::FleetSpec;
use simopt_core::{input, InputFiles, SettingsInput, SourceFile};
use simopt_wasm::{CheckpointInput, CostFiles, CostSettings, OptimizeJob};
use support::{get, js, name_and_message, to_json, Fixture};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

const BASIC_GOLDEN: &str = include_str!("../../tests/fixtures/cases/basic/optimize.json");
/// A checkpoint of the basic case written by the native build, 3 quanta into a default run.
const BASIC_CHECKPOINT: &[u8] = include_bytes!("../../tests/fixtures/checkpoints/basic-v2.ckpt");
const SYNTHETIC_SETTINGS: &str = r#"{"periodEnd": "2026-11-22T00:00", "timeZone": "America/New_York", "asOf": "2026-11-20T12:00"}"#;

/// The input of a run, passed again to every `resume`.
trait Source {
    fn files(&self) -> CostFiles;
    fn settings(&self) -> CostSettings;
}

impl Source for Fixture {
    fn files(&self) -> CostFiles {
        Fixture::files(self)
    }
    fn settings(&self) -> CostSettings {
        support::settings(self.settings)
    }
}

/// A fleet from the synthetic generator, as CSV text.
struct Synthetic {
    sims: String,
    plans: String,
    eligibility: String,
}

impl Synthetic {
    fn new(sims: u64, seed: u64) -> Synthetic {
        let date = |text| simopt_core::period::parse_local(text).expect("a date");
        let spec = FleetSpec {
            sims,
            comm_plans: 3,
            plans_per_comm_plan: 5,
            prorated_per_mille: 80,
            seed,
            period_end: date("2026-11-22T00:00"),
            as_of: date("2026-11-20T12:00"),
        };
        let (mut p, mut s, mut e) = (Vec::new(), Vec::new(), Vec::new());
        spec.write_plans(&mut p).expect("plans");
        spec.write_sims(&mut s).expect("sims");
        spec.write_eligibility(&mut e).expect("eligibility");
        let text = |b: Vec<u8>| String::from_utf8(b).expect("UTF-8");
        Synthetic {
            sims: text(s),
            plans: text(p),
            eligibility: text(e),
        }
    }
}

impl Source for Synthetic {
    fn files(&self) -> CostFiles {
        support::files(
            support::text_file("sims.csv", &self.sims),
            support::text_file("plans.csv", &self.plans),
            Some(support::text_file("eligibility.csv", &self.eligibility)),
        )
    }
    fn settings(&self) -> CostSettings {
        support::settings(SYNTHETIC_SETTINGS)
    }
}

fn basic() -> Fixture {
    fixture!("cases/basic", "sims.csv", "plans.csv", "eligibility.csv")
}

fn start(input: &dyn Source, options: &str) -> OptimizeJob {
    OptimizeJob::start(input.files(), input.settings(), Some(js(options)))
        .unwrap_or_else(|e| panic!("start: {:?}", name_and_message(&e)))
}

fn resume(input: &dyn Source, checkpoint: &[u8]) -> Result<OptimizeJob, js_sys::Error> {
    let bytes: CheckpointInput = Uint8Array::from(checkpoint).unchecked_into();
    OptimizeJob::resume(input.files(), input.settings(), bytes, None)
}

/// One `runSlice` with the budget given as JSON; the answer as JSON.
fn slice(job: &mut OptimizeJob, budget: &str) -> Value {
    let answer = job
        .run_slice(js(budget))
        .unwrap_or_else(|e| panic!("runSlice({budget}): {:?}", name_and_message(&e)));
    to_json(answer)
}

/// The `optimizer` getter's text.
fn optimizer(job: &OptimizeJob) -> String {
    job.optimizer().as_string().unwrap_or_default()
}

fn document(job: &OptimizeJob) -> String {
    job.to_json()
        .unwrap_or_else(|e| panic!("toJson: {:?}", name_and_message(&e)))
}

/// Runs to the end in one slice.
fn straight(input: &dyn Source, options: &str) -> String {
    let mut job = start(input, options);
    let answer = slice(&mut job, r#"{"maxQuanta": 1e12}"#);
    assert_eq!(answer["finished"], true);
    document(&job)
}

/// Runs in slices of 1 to `most` quanta (drawn from `seed`), encoding and resuming between them;
/// the final document and the number of slices.
fn sliced(input: &dyn Source, options: &str, seed: u64, most: u64) -> (String, usize) {
    let mut rng = SplitMix64::new(seed);
    let mut job = start(input, options);
    let mut slices = 0;
    loop {
        let quanta = rng.between(1, most);
        let answer = slice(&mut job, &format!(r#"{{"maxQuanta": {quanta}}}"#));
        if answer["finished"] == true {
            break;
        }
        slices += 1;
        let progress = &answer["progress"];
        assert_eq!(
            progress,
            &to_json(job.progress().expect("progress")),
            "runSlice's progress is the progress getter's"
        );
        let money = |key: &str| progress[key].as_str().and_then(|m| m.parse::<f64>().ok());
        assert!(money("bestCost") <= money("currentCost"), "{progress}");
        let bytes = job.encode();
        job =
            resume(input, &bytes).unwrap_or_else(|e| panic!("resume: {:?}", name_and_message(&e)));
        assert_eq!(job.encode(), bytes, "encode ∘ resume is the identity");
        assert!(!job.finished());
    }
    assert!(job.finished());
    (document(&job), slices)
}

fn assert_same_document(what: &str, got: &str, want: &str) {
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
        panic!(
            "{what}: documents differ at line {}:\n  got:  {:?}\n  want: {:?}",
            line + 1,
            got.lines().nth(line),
            want.lines().nth(line)
        );
    }
}

fn expect_error(result: Result<OptimizeJob, js_sys::Error>) -> js_sys::Error {
    match result {
        Ok(_) => panic!("expected an error, got a job"),
        Err(error) => error,
    }
}

// --- Parity with the native CLI ------------------------------------------------------------

macro_rules! golden_case {
    ($test:ident, $dir:literal, $sims:literal, $plans:literal, $eligibility:literal) => {
        golden_case!($test, $dir, $sims, $plans, $eligibility, "{}");
    };
    // With the options that match the case's `optimize-args` flags.
    ($test:ident, $dir:literal, $sims:literal, $plans:literal, $eligibility:literal, $options:literal) => {
        #[wasm_bindgen_test]
        fn $test() {
            let fixture = fixture!($dir, $sims, $plans, $eligibility);
            let golden = include_str!(concat!("../../tests/fixtures/", $dir, "/optimize.json"));
            assert_same_document($dir, &straight(&fixture, $options), golden);
        }
    };
}

golden_case!(
    basic_matches_the_cli,
    "cases/basic",
    "sims.csv",
    "plans.csv",
    "eligibility.csv"
);
golden_case!(
    constrained_matches_the_cli,
    "cases/constrained",
    "sims.csv",
    "plans.csv",
    "eligibility.csv",
    r#"{"minSaving": "0.25", "maxChanges": 2}"#
);
golden_case!(
    closed_period_matches_the_cli,
    "cases/closed-period",
    "sims.csv",
    "plans.csv",
    "eligibility.csv"
);
golden_case!(
    json_input_matches_the_cli,
    "cases/json-input",
    "sims.json",
    "plans.json",
    "eligibility.json"
);
golden_case!(
    messy_export_matches_the_cli,
    "cases/messy-export",
    "sims.csv",
    "plans.csv",
    "eligibility.csv"
);
golden_case!(
    overage_only_no_proration_matches_the_cli,
    "cases/overage-only-no-proration",
    "sims.csv",
    "plans.csv",
    "eligibility.csv"
);
golden_case!(
    rate_only_no_projection_matches_the_cli,
    "cases/rate-only-no-projection",
    "sims.csv",
    "plans.csv",
    "eligibility.csv"
);

#[wasm_bindgen_test]
fn basic_sliced_and_resumed_matches_the_cli() {
    let fixture = basic();
    for seed in 1..=3 {
        let (json, slices) = sliced(&fixture, "{}", seed, 7);
        assert!(slices > 5, "seed {seed}: only {slices} slices");
        assert_same_document(&format!("basic, seed {seed}"), &json, BASIC_GOLDEN);
    }
}

#[wasm_bindgen_test]
fn the_committed_native_checkpoint_resumes_to_the_cli_document() {
    let fixture = basic();
    let mut job = resume(&fixture, BASIC_CHECKPOINT).expect("the native checkpoint resumes");
    assert_eq!(optimizer(&job), "default");
    assert!(!job.finished());
    assert_eq!(slice(&mut job, r#"{"maxQuanta": 1e12}"#)["finished"], true);
    assert_same_document("resumed native checkpoint", &document(&job), BASIC_GOLDEN);
}

#[wasm_bindgen_test]
fn a_generated_fleet_sliced_and_resumed_equals_an_uninterrupted_run() {
    let fleet = Synthetic::new(2_000, 11);
    let options = "{}";
    let want = straight(&fleet, options);
    let (json, slices) = sliced(&fleet, options, 7, 7);
    assert!(slices > 20, "only {slices} slices");
    assert_same_document("2,000 SIMs", &json, &want);
    let summary: Value = serde_json::from_str(&want).expect("JSON");
    assert_eq!(summary["sim_count"], 2_000);
    assert_eq!(summary["complete"], true);
    assert!(
        summary["changes"].as_u64() > Some(0),
        "{}",
        summary["changes"]
    );
}

// --- The handle's answers ------------------------------------------------------------------

#[wasm_bindgen_test]
fn an_unfinished_job_answers_with_its_best_so_far() {
    let mut job = start(&basic(), "{}");
    let progress = to_json(job.progress().expect("progress"));
    assert_eq!(progress["phase"], "classic start");
    assert_eq!(progress["done"], 0.0);
    assert_eq!(progress["lowerBound"], Value::Null);
    assert_eq!(progress["gap"], Value::Null);
    assert_eq!(progress["currentCost"], "175.41");

    let answer = slice(&mut job, r#"{"maxQuanta": 1}"#);
    assert_eq!(answer["finished"], false);
    let mut keys: Vec<&String> = answer["progress"]
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    keys.sort();
    assert_eq!(
        keys,
        [
            "bestCost",
            "currentCost",
            "done",
            "gap",
            "lowerBound",
            "phase"
        ]
    );
    let result = to_json(job.result().expect("result"));
    let document: Value = serde_json::from_str(&document(&job)).expect("JSON");
    assert_eq!(result["complete"], false);
    assert_eq!(document["complete"], false);
    assert_eq!(
        result,
        json!({
            "optimizedCost": document["optimized_cost"],
            "currentCost": document["current_cost"],
            "savings": document["savings"],
            "lowerBound": document["lower_bound"],
            "gap": document["gap"],
            "changes": document["changes"],
            "lockedSims": document["locked_sims"],
            "complete": false,
        })
    );
    assert_eq!(result["optimizedCost"], answer["progress"]["bestCost"]);
}

#[wasm_bindgen_test]
fn a_finished_job_answers_with_the_final_result_and_stays_finished() {
    let mut job = start(&basic(), "{}");
    let answer = slice(&mut job, r#"{"maxQuanta": 1e12}"#);
    assert_eq!(answer["finished"], true);
    assert!(job.finished());
    // The golden document as JavaScript reads it (a whole number, such as a gap of 0, then
    // reads as the job's answers do).
    let golden = to_json(js_sys::JSON::parse(BASIC_GOLDEN).expect("JSON"));
    assert_eq!(
        answer["progress"],
        json!({
            "phase": "done", "done": 1, "currentCost": golden["current_cost"],
            "bestCost": golden["optimized_cost"],
            "lowerBound": golden["lower_bound"], "gap": golden["gap"],
        })
    );
    assert_eq!(
        to_json(job.result().expect("result")),
        json!({
            "optimizedCost": golden["optimized_cost"], "currentCost": golden["current_cost"],
            "savings": golden["savings"],
            "lowerBound": golden["lower_bound"], "gap": golden["gap"], "changes": golden["changes"],
            "lockedSims": golden["locked_sims"], "complete": true,
        })
    );
    // Another slice does no work and says so.
    assert_eq!(slice(&mut job, r#"{"maxQuanta": 1}"#), answer);
    // A checkpoint of a finished job resumes finished.
    let done = resume(&basic(), &job.encode()).expect("resumes");
    assert!(done.finished());
    assert_same_document("resumed when done", &document(&done), BASIC_GOLDEN);
}

#[wasm_bindgen_test]
fn a_time_budget_slices_too() {
    let fixture = basic();
    let mut job = start(&fixture, "{}");
    // `maxMillis: 0` stops after the first quantum, however fast.
    let first = slice(&mut job, r#"{"maxMillis": 0}"#);
    assert_eq!(first["finished"], false);
    let mut slices = 1;
    while slice(&mut job, r#"{"maxMillis": 2, "maxQuanta": 3}"#)["finished"] == false {
        slices += 1;
    }
    assert!(slices > 2, "{slices} slices");
    assert_same_document("time-sliced", &document(&job), BASIC_GOLDEN);
}

#[wasm_bindgen_test]
fn the_classic_method_is_chosen_by_options_and_survives_resuming() {
    let fixture = basic();
    let want = straight(&fixture, r#"{"method": "classic"}"#);
    let doc: Value = serde_json::from_str(&want).expect("JSON");
    assert_eq!(doc["simopt"], "optimize");
    assert_eq!(doc["optimizer"], "classic");
    assert_eq!(doc["lower_bound"], Value::Null);
    assert_eq!(doc["gap"], Value::Null);
    assert_eq!(doc["complete"], true);

    // The core's classic method, run here directly, finds the same bill.
    let settings: SettingsInput = serde_json::from_str(fixture.settings).expect("settings");
    let source = |(name, bytes): support::File| SourceFile { name, bytes };
    let files = InputFiles {
        sims: source(fixture.sims),
        plans: source(fixture.plans),
        eligibility: fixture.eligibility.map(source),
    };
    let fleet = input::load(&files, &settings).expect("valid").output;
    let classic = Job::new(
        &fleet,
        Options {
            method: Method::Classic,
            ..Options::default()
        },
    )
    .run();
    assert_eq!(doc["optimized_cost"], classic.cost.to_decimal_string());

    // On the basic case the classic method is done in two quanta (its placements, then the
    // tally of the assignment's totals); a finished classic job resumes as one.
    let mut job = start(&fixture, r#"{"method": "classic", "dualIterations": null}"#);
    assert_eq!(optimizer(&job), "classic");
    assert_eq!(slice(&mut job, r#"{"maxQuanta": 1}"#)["finished"], false);
    assert_eq!(slice(&mut job, r#"{"maxQuanta": 1}"#)["finished"], true);
    let job = resume(&fixture, &job.encode()).expect("resumes");
    assert_eq!(optimizer(&job), "classic", "finished");
    assert_same_document("classic, resumed", &document(&job), &want);

    // A larger fleet takes many quanta: resumed mid-run, the job is still classic.
    let fleet = Synthetic::new(2_000, 3);
    let options = r#"{"method": "classic"}"#;
    let want = straight(&fleet, options);
    let mut job = start(&fleet, options);
    assert_eq!(slice(&mut job, r#"{"maxQuanta": 1}"#)["finished"], false);
    let job = resume(&fleet, &job.encode()).expect("resumes");
    assert_eq!(optimizer(&job), "classic", "mid-run");
    assert_eq!(
        to_json(job.progress().expect("progress"))["phase"],
        "classic: plan sequences"
    );
    let (json, slices) = sliced(&fleet, options, 5, 2);
    assert!(slices > 2, "{slices} slices");
    assert_same_document("classic, sliced", &json, &want);
    assert!(want.contains("\"optimizer\": \"classic\""));
}

#[wasm_bindgen_test]
fn explicit_default_options_are_the_defaults() {
    let fixture = basic();
    for options in [
        r#"{"method": "default", "dualIterations": 100}"#,
        "null",
        r#"{"method": null}"#,
    ] {
        assert_same_document(options, &straight(&fixture, options), BASIC_GOLDEN);
    }
    let mut job = OptimizeJob::start(fixture.files(), fixture.settings(), None).expect("valid");
    slice(&mut job, r#"{"maxQuanta": 1e12}"#);
    assert_same_document("no options", &document(&job), BASIC_GOLDEN);
}

#[wasm_bindgen_test]
fn the_iteration_limit_travels_in_the_checkpoint() {
    let fleet = Synthetic::new(300, 9);
    for options in [r#"{"dualIterations": 0}"#, r#"{"dualIterations": 3}"#] {
        let want = straight(&fleet, options);
        let (json, _) = sliced(&fleet, options, 9, 3);
        assert_same_document(options, &json, &want);
        let document: Value = serde_json::from_str(&want).expect("JSON");
        assert_eq!(document["complete"], true, "{options}");
        assert!(document["lower_bound"].is_string(), "{options}");
    }
}

#[wasm_bindgen_test]
fn constraints_travel_in_the_checkpoint_and_are_kept() {
    let fleet = Synthetic::new(400, 4);
    let free: Value = serde_json::from_str(&straight(&fleet, "{}")).expect("JSON");
    let options = r#"{"minSaving": "0.40", "maxChanges": 25}"#;
    let want = straight(&fleet, options);
    let (json, slices) = sliced(&fleet, options, 7, 3);
    assert!(slices > 2, "{slices} slices");
    assert_same_document(options, &json, &want);
    let document: Value = serde_json::from_str(&want).expect("JSON");
    assert_eq!(document["min_saving"], "0.40");
    assert_eq!(document["max_changes"], 25);
    let changes = document["changes"].as_u64().expect("changes");
    assert!(changes <= 25, "{changes} changes");
    assert!(
        free["changes"].as_u64() > Some(25),
        "the limit binds: {}",
        free["changes"]
    );
    let moved = document["sims"]
        .as_array()
        .expect("sims")
        .iter()
        .filter(|s| s["plan"] != s["current_plan"])
        .count() as u64;
    assert_eq!(moved, changes);
}

// --- Errors --------------------------------------------------------------------------------

#[wasm_bindgen_test]
fn damaged_checkpoints_are_checkpoint_errors_with_the_cores_code() {
    let fixture = basic();
    let mut job = start(&fixture, "{}");
    slice(&mut job, r#"{"maxQuanta": 3}"#);
    let bytes = job.encode();

    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    let mut future = bytes.clone();
    future[8] = 99;
    let retired: &[u8] = include_bytes!("../../tests/fixtures/checkpoints/basic-v1.ckpt");
    let cases: [(&str, &[u8], &str); 5] = [
        ("flipped", &flipped, "checkpoint-corrupt"),
        ("future", &future, "checkpoint-future-version"),
        ("retired", retired, "checkpoint-old-version"),
        ("cut", &bytes[..bytes.len() - 3], "checkpoint-truncated"),
        (
            "foreign",
            b"not a checkpoint at all",
            "checkpoint-bad-magic",
        ),
    ];
    for (what, checkpoint, code) in cases {
        let error = expect_error(resume(&fixture, checkpoint));
        let (name, message) = name_and_message(&error);
        assert_eq!(name, "CheckpointError", "{what}: {message}");
        assert_eq!(
            get(&error, "code").as_string().as_deref(),
            Some(code),
            "{what}"
        );
        assert!(error.is_instance_of::<js_sys::Error>());
    }
    let (_, message) = name_and_message(&expect_error(resume(&fixture, &flipped)));
    assert_eq!(message, "the checkpoint is corrupt (checksum mismatch)");
    assert!(resume(&fixture, &bytes).is_ok());
}

#[wasm_bindgen_test]
fn a_checkpoint_of_another_fleet_is_invalid() {
    let other = Synthetic::new(300, 5);
    let mut job = start(&other, "{}");
    slice(&mut job, r#"{"maxQuanta": 2}"#);
    let error = expect_error(resume(&basic(), &job.encode()));
    let (name, message) = name_and_message(&error);
    assert_eq!(name, "CheckpointError");
    assert_eq!(
        get(&error, "code").as_string().as_deref(),
        Some("checkpoint-invalid")
    );
    assert!(message.contains("another input"), "{message}");
}

#[wasm_bindgen_test]
fn a_checkpoint_may_be_an_array_buffer_but_not_anything_else() {
    let fixture = basic();
    let buffer = Uint8Array::from(BASIC_CHECKPOINT).buffer();
    let job = OptimizeJob::resume(
        fixture.files(),
        fixture.settings(),
        buffer.unchecked_into(),
        None,
    )
    .expect("an ArrayBuffer resumes");
    // An older format re-encodes in the current one, which resumes to the same state.
    let bytes = job.encode();
    assert_eq!(&bytes[..8], b"SIMOPTCK");
    let again = resume(&fixture, &bytes).expect("resumes");
    assert_eq!(again.encode(), bytes);
    for bad in [r#""SIMOPTCK""#, "[83, 73]", "null"] {
        let error = expect_error(OptimizeJob::resume(
            fixture.files(),
            fixture.settings(),
            js(bad),
            None,
        ));
        let (name, message) = name_and_message(&error);
        assert_eq!(name, "ArgumentError", "{bad}: {message}");
        assert!(message.starts_with("checkpoint:"), "{bad}: {message}");
    }
}

#[wasm_bindgen_test]
fn bad_options_are_argument_errors() {
    let fixture = basic();
    for (options, wanted) in [
        (r#"{"method": "fast"}"#, "unknown variant `fast`"),
        (r#"{"method": "Classic"}"#, "unknown variant `Classic`"),
        (r#"{"method": 1}"#, "options:"),
        (r#"{"methd": "classic"}"#, "options: unknown field `methd`"),
        (
            r#"{"dual_iterations": 5}"#,
            "unknown field `dual_iterations`",
        ),
        (r#"{"dualIterations": -1}"#, "options:"),
        (r#"{"dualIterations": 2.5}"#, "options:"),
        (r#"{"dualIterations": "5"}"#, "options:"),
        (r#"{"dualIterations": 1000001}"#, "at most 1000000"),
        (
            r#"{"minSaving": "cheap"}"#,
            "options.minSaving is \"cheap\"",
        ),
        (r#"{"minSaving": "-1"}"#, "at least 0"),
        (r#"{"minSaving": 0.5}"#, "options:"),
        (r#"{"maxChanges": -1}"#, "options:"),
        (r#"{"maxChanges": 2.5}"#, "options:"),
        (r#"{"max_changes": 2}"#, "unknown field `max_changes`"),
        (r#""classic""#, "options: expected an object"),
        ("[1]", "options: expected an object"),
    ] {
        let result = OptimizeJob::start(fixture.files(), fixture.settings(), Some(js(options)));
        let error = expect_error(result);
        let (name, message) = name_and_message(&error);
        assert_eq!(name, "ArgumentError", "{options}: {message}");
        assert!(message.contains(wanted), "{options}: {message}");
    }
}

#[wasm_bindgen_test]
fn bad_budgets_are_argument_errors_and_do_no_work() {
    let mut job = start(&basic(), "{}");
    let before = job.encode();
    for (budget, wanted) in [
        ("{}", "give maxMillis"),
        (r#"{"maxQuanta": null}"#, "give maxMillis"),
        ("undefined", "budget: expected an object"),
        ("5", "budget: expected an object"),
        (r#"{"maxQuanta": 0}"#, "maxQuanta is 0"),
        (r#"{"maxQuanta": 1.5}"#, "budget:"),
        (r#"{"maxQuanta": -2}"#, "budget:"),
        (r#"{"maxMillis": -1}"#, "maxMillis is -1"),
        (r#"{"maxMillis": "5"}"#, "budget:"),
        (r#"{"maxSlices": 1}"#, "budget: unknown field `maxSlices`"),
    ] {
        let value = if budget == "undefined" {
            wasm_bindgen::JsValue::UNDEFINED.unchecked_into()
        } else {
            js(budget)
        };
        let error = match job.run_slice(value) {
            Ok(answer) => panic!("{budget} was accepted: {:?}", to_json(answer)),
            Err(error) => error,
        };
        let (name, message) = name_and_message(&error);
        assert_eq!(name, "ArgumentError", "{budget}: {message}");
        assert!(message.contains(wanted), "{budget}: {message}");
    }
    // An infinite time budget is refused too (NaN and Infinity are not JSON).
    let infinite = js_sys::Object::new();
    js_sys::Reflect::set(&infinite, &"maxMillis".into(), &f64::INFINITY.into()).expect("set");
    let error = job
        .run_slice(infinite.unchecked_into())
        .err()
        .expect("Infinity is refused");
    assert_eq!(name_and_message(&error).0, "ArgumentError");
    assert_eq!(job.encode(), before, "no work was done");
}

#[wasm_bindgen_test]
fn invalid_input_is_an_input_error_when_starting_and_resuming() {
    let fixture = fixture!(
        "invalid/negative-usage",
        "sims.csv",
        "plans.csv",
        "eligibility.csv"
    );
    for result in [
        OptimizeJob::start(fixture.files(), fixture.settings(), None),
        resume(&fixture, BASIC_CHECKPOINT),
    ] {
        let error = expect_error(result);
        let (name, message) = name_and_message(&error);
        assert_eq!(name, "InputError", "{message}");
        assert_eq!(
            get(&error, "code").as_string().as_deref(),
            Some("invalid-input")
        );
        assert!(get(&error, "diagnostics").is_object());
    }
}
