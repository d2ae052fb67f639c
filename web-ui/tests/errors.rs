//! Invalid input and malformed arguments come back as `Error` objects with a stable `name`:
//! `InputError` (with the core's diagnostics: file, row, column, message, hint) or
//! `ArgumentError`.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod support;

use serde_json::{json, Value};
use simopt_wasm::CostRun;
use support::{get, name_and_message, to_json};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

const PLANS: &str =
    "plan_id,name,monthly_charge,included_mb,overage_rate,overage_block_mb,pooled\n\
                     S5,Small,2.50,5,0.50,1,false\n";
const SETTINGS: &str = r#"{"periodEnd": "2026-11-22T00:00", "timeZone": "America/New_York", "asOf": "2026-11-20T12:00"}"#;

fn run_text(sims: &str, settings: &str) -> Result<CostRun, js_sys::Error> {
    CostRun::new(
        support::files(
            support::text_file("sims.csv", sims),
            support::text_file("plans.csv", PLANS),
            None,
        ),
        support::settings(settings),
    )
}

fn expect_error(result: Result<CostRun, js_sys::Error>) -> js_sys::Error {
    match result {
        Ok(run) => panic!("expected an error, got a bill of {}", run.total()),
        Err(error) => error,
    }
}

/// The diagnostics of an `InputError`, as JSON.
fn diagnostics(error: &js_sys::Error) -> Vec<Value> {
    match to_json(get(error, "diagnostics")) {
        Value::Array(items) => items,
        other => panic!("diagnostics is not an array: {other}"),
    }
}

#[wasm_bindgen_test]
fn negative_usage_and_unknown_plan_name_their_rows_and_columns() {
    let sims = "iccid,current_plan,usage_mb\n\
                8901000000000000001,S5,-3\n\
                8901000000000000002,NOPE,1\n";
    let error = expect_error(run_text(sims, SETTINGS));
    let (name, message) = name_and_message(&error);
    assert_eq!(name, "InputError");
    assert!(
        message.starts_with("the input has 2 errors; nothing was computed"),
        "{message}"
    );
    assert!(
        message.contains("sims.csv, row 2, column usage_mb: usage_mb is -3, below zero"),
        "{message}"
    );
    assert_eq!(
        get(&error, "code").as_string().as_deref(),
        Some("invalid-input")
    );
    assert_eq!(get(&error, "errorCount").as_f64(), Some(2.0));
    // Thrown errors are real `Error`s, so `instanceof Error` and stack traces work.
    assert!(error.is_instance_of::<js_sys::Error>());

    let found = diagnostics(&error);
    let at = |code: &str| {
        found
            .iter()
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("no {code} in {found:?}"))
    };
    let negative = at("negative-amount");
    assert_eq!(negative["severity"], "error");
    assert_eq!(negative["file"], "sims.csv");
    assert_eq!(negative["row"], 2);
    assert_eq!(negative["column"], "usage_mb");
    assert!(!negative["hint"].as_str().unwrap_or_default().is_empty());
    let unknown = at("unknown-plan");
    assert_eq!(
        (&unknown["file"], &unknown["row"], &unknown["column"]),
        (&json!("sims.csv"), &json!(3), &json!("current_plan"))
    );
    assert!(
        unknown["message"]
            .as_str()
            .unwrap_or_default()
            .contains("NOPE"),
        "{unknown}"
    );
}

#[wasm_bindgen_test]
fn bad_setting_values_are_input_errors_naming_the_setting() {
    let settings = r#"{"asOf": "2026-11-20T12:00", "timeZone": "Mars/Olympus", "marginPct": -1}"#;
    let error = expect_error(run_text("iccid,current_plan,usage_mb\n1,S5,1\n", settings));
    let (name, message) = name_and_message(&error);
    assert_eq!(name, "InputError");
    assert!(
        message.contains("unknown time zone \"Mars/Olympus\""),
        "{message}"
    );
    let found = diagnostics(&error);
    let columns: Vec<&Value> = found
        .iter()
        .filter(|d| d["file"] == "settings")
        .map(|d| &d["column"])
        .collect();
    assert!(columns.contains(&&json!("time_zone")), "{columns:?}");
    assert!(columns.contains(&&json!("margin_pct")), "{columns:?}");
}

#[wasm_bindgen_test]
fn a_missing_as_of_is_an_input_error() {
    let error = expect_error(run_text(
        "iccid,current_plan,usage_mb\n1,S5,1\n",
        r#"{"periodEnd": "2026-11-22T00:00"}"#,
    ));
    let (name, message) = name_and_message(&error);
    assert_eq!(name, "InputError");
    assert!(message.contains("as_of"), "{message}");
}

#[wasm_bindgen_test]
fn settings_of_the_wrong_shape_are_argument_errors() {
    for (settings, wanted) in [
        (
            r#"{"asOf": "2026-11-20T12:00", "asof": "x"}"#,
            "unknown field `asof`",
        ),
        (r#"{"asOf": {"date": "2026-11-20"}}"#, "settings:"),
        (r#""2026-11-20T12:00""#, "settings: expected an object"),
        ("[1, 2]", "settings:"),
    ] {
        let result = run_text("iccid,current_plan,usage_mb\n1,S5,1\n", settings);
        assert!(result.is_err(), "{settings} was accepted");
        let error = expect_error(result);
        let (name, message) = name_and_message(&error);
        assert_eq!(name, "ArgumentError", "{settings}: {message}");
        assert!(message.contains(wanted), "{settings}: {message}");
    }
}

#[wasm_bindgen_test]
fn files_of_the_wrong_shape_are_argument_errors() {
    let sims = support::text_file("sims.csv", "iccid,current_plan,usage_mb\n1,S5,1\n");
    let plans = support::text_file("plans.csv", PLANS);
    let no_contents = support::settings(r#"{"name": "plans.csv"}"#);
    let misspelt = support::files(sims.clone(), plans.clone(), None);
    js_sys::Reflect::set(&misspelt, &"eligibilty".into(), &sims).expect("set");
    let cases = [
        (misspelt, "files: unknown field `eligibilty`"),
        (
            support::files(sims.clone(), no_contents.into(), None),
            "files.plans needs exactly one of",
        ),
        (
            support::settings(r#"{"sims": {"name": "s.csv", "text": ""}}"#).unchecked_into(),
            "missing field `plans`",
        ),
        (
            support::files(
                sims.clone(),
                plans.clone(),
                Some(wasm_bindgen::JsValue::from(7)),
            ),
            "files:",
        ),
    ];
    for (files, wanted) in cases {
        let error = expect_error(CostRun::new(files, support::settings(SETTINGS)));
        let (name, message) = name_and_message(&error);
        assert_eq!(name, "ArgumentError", "{message}");
        assert!(message.contains(wanted), "{message}");
    }
}

/// Every malformed fixture under `tests/fixtures/invalid/` fails through the bindings with the
/// locations the native CLI reports (each line of its `expect-location` appears in the message).
macro_rules! invalid_case {
    ($test:ident, $dir:literal, $sims:literal) => {
        #[wasm_bindgen_test]
        fn $test() {
            let fixture = fixture!($dir, $sims, "plans.csv", "eligibility.csv");
            let expected = include_str!(concat!("../../tests/fixtures/", $dir, "/expect-location"));
            let error = expect_error(fixture.run());
            let (name, message) = name_and_message(&error);
            assert_eq!(name, "InputError", "{}: {message}", $dir);
            for wanted in expected.lines().filter(|l| !l.is_empty()) {
                assert!(
                    message.contains(wanted),
                    "{}: message lacks {wanted:?}:\n{message}",
                    $dir
                );
            }
            assert!(
                diagnostics(&error).iter().any(|d| d["severity"] == "error"),
                "{}: no error diagnostics",
                $dir
            );
        }
    };
}

invalid_case!(
    bad_activation_date,
    "invalid/bad-activation-date",
    "sims.csv"
);
invalid_case!(bad_locked_flag, "invalid/bad-locked-flag", "sims.csv");
invalid_case!(bad_pooled_flag, "invalid/bad-pooled-flag", "sims.csv");
invalid_case!(bad_price, "invalid/bad-price", "sims.csv");
invalid_case!(bad_settings, "invalid/bad-settings", "sims.csv");
invalid_case!(bad_sms_count, "invalid/bad-sms-count", "sims.csv");
invalid_case!(
    bad_usage_timestamp,
    "invalid/bad-usage-timestamp",
    "sims.csv"
);
invalid_case!(duplicate_column, "invalid/duplicate-column", "sims.csv");
invalid_case!(duplicate_iccid, "invalid/duplicate-iccid", "sims.csv");
invalid_case!(duplicate_plan, "invalid/duplicate-plan", "sims.csv");
invalid_case!(
    eligibility_unknown_plan,
    "invalid/eligibility-unknown-plan",
    "sims.csv"
);
invalid_case!(empty_plans_file, "invalid/empty-plans-file", "sims.csv");
invalid_case!(header_only_sims, "invalid/header-only-sims", "sims.csv");
invalid_case!(
    json_negative_usage,
    "invalid/json-negative-usage",
    "sims.json"
);
invalid_case!(malformed_json, "invalid/malformed-json", "sims.json");
invalid_case!(
    many_errors_at_once,
    "invalid/many-errors-at-once",
    "sims.csv"
);
invalid_case!(missing_column, "invalid/missing-column", "sims.csv");
invalid_case!(missing_iccid, "invalid/missing-iccid", "sims.csv");
invalid_case!(negative_price, "invalid/negative-price", "sims.csv");
invalid_case!(negative_usage, "invalid/negative-usage", "sims.csv");
invalid_case!(not_utf8, "invalid/not-utf8", "sims.csv");
invalid_case!(
    overage_without_block,
    "invalid/overage-without-block",
    "sims.csv"
);
invalid_case!(pool_mismatch, "invalid/pool-mismatch", "sims.csv");
invalid_case!(price_not_a_number, "invalid/price-not-a-number", "sims.csv");
invalid_case!(ragged_row, "invalid/ragged-row", "sims.csv");
invalid_case!(too_precise_rate, "invalid/too-precise-rate", "sims.csv");
invalid_case!(unknown_plan, "invalid/unknown-plan", "sims.csv");
