//! The getters of `CostRun` tell the same story as its JSON document, as plain JavaScript
//! objects with camelCase keys and money as exact decimal text.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod support;

use serde_json::{json, Value};
use support::to_json;
use wasm_bindgen_test::wasm_bindgen_test;

fn basic() -> (simopt_wasm::CostRun, Value) {
    let run = fixture!("cases/basic", "sims.csv", "plans.csv", "eligibility.csv")
        .run()
        .expect("the basic case is valid");
    let document: Value = serde_json::from_str(&run.to_json()).expect("toJson() is JSON");
    (run, document)
}

#[wasm_bindgen_test]
fn total_and_sim_count_match_the_document() {
    let (run, document) = basic();
    assert_eq!(json!(run.total()), document["current_cost"]);
    assert_eq!(json!(run.sim_count()), document["sim_count"]);
}

#[wasm_bindgen_test]
fn plan_lines_match_the_document() {
    let (run, document) = basic();
    let raw = run.to_json();
    let lines = to_json(run.plans().expect("plan lines"));
    let (Value::Array(lines), Value::Array(expected)) = (lines, &document["plans"]) else {
        panic!("plans are not arrays");
    };
    assert_eq!(lines.len(), expected.len());
    for (line, want) in lines.iter().zip(expected) {
        assert_eq!(line["plan"], want["plan"]);
        assert_eq!(line["name"], want["name"]);
        assert_eq!(line.get("pool"), want.get("pool"), "{}", want["plan"]);
        assert_eq!(line["simCount"], want["sim_count"]);
        // Data sizes come as exact decimal text; the document writes the same digits as a JSON
        // number (which serde_json reads only to f64 precision, hence the text search).
        for (key, field) in [("usageMb", "usage_mb"), ("allowanceMb", "allowance_mb")] {
            let text = line[key].as_str().unwrap_or_default();
            assert_eq!(text.parse::<f64>().ok(), want[field].as_f64(), "{key}");
            assert!(
                raw.contains(&format!("\"{field}\": {text},")),
                "{key} {text}"
            );
        }
        for money in ["base", "overage", "sms", "total"] {
            assert_eq!(line[money], want[money], "{} {money}", want["plan"]);
        }
    }
}

#[wasm_bindgen_test]
fn totals_and_period_match_the_document() {
    let (run, document) = basic();
    let totals = to_json(run.totals().expect("totals"));
    for money in ["base", "overage", "sms", "total"] {
        assert_eq!(totals[money], document["totals"][money], "{money}");
    }
    assert_eq!(totals["simCount"], document["sim_count"]);
    let period = to_json(run.period().expect("period"));
    let want = &document["period"];
    assert_eq!(
        period,
        json!({
            "start": want["start"], "end": want["end"], "timeZone": want["time_zone"],
            "days": want["days"], "asOf": want["as_of"], "closed": want["closed"],
        })
    );
}

#[wasm_bindgen_test]
fn warnings_are_the_documents_warnings() {
    let (run, document) = basic();
    assert_eq!(
        to_json(run.warnings().expect("warnings")),
        document["warnings"]["items"]
    );
    let counted: u64 = document["warnings"]["counts"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["count"].as_u64()).sum())
        .unwrap_or_default();
    assert_eq!(run.warning_count(), counted as f64);
}

#[wasm_bindgen_test]
fn settings_take_camel_case_snake_case_numbers_and_booleans() {
    let fixture = fixture!("cases/basic", "sims.csv", "plans.csv", "eligibility.csv");
    let as_json = fixture.run().expect("valid").to_json();
    let settings = r#"{"periodEnd": "2026-11-22T00:00", "time_zone": "America/New_York",
        "asOf": "2026-11-20T12:00", "proration": true, "chargeType": "rate-and-overage",
        "projection": "on", "marginPct": 1, "currencyDecimals": null}"#;
    let run = simopt_wasm::CostRun::new(fixture.files(), support::settings(settings))
        .expect("valid settings");
    assert_eq!(run.to_json(), as_json);
}

#[wasm_bindgen_test]
fn eligibility_may_be_null() {
    let fixture = fixture!("cases/basic", "sims.csv", "plans.csv");
    let files = fixture.files();
    js_sys::Reflect::set(&files, &"eligibility".into(), &wasm_bindgen::JsValue::NULL).expect("set");
    let run = simopt_wasm::CostRun::new(files, support::settings(fixture.settings))
        .expect("no eligibility file is fine");
    assert_eq!(run.sim_count(), 12);
}
