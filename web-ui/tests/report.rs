//! The Excel report and the CSV export through the bindings: `toXlsx()` gives the bytes the
//! native command line writes for the same run (the golden workbooks under
//! `tests/fixtures/cases/basic/xlsx/`), `toCsv()` one row per SIM.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod support;

use simopt_wasm::{CostRun, OptimizeJob};
use support::{js, settings, Fixture};
use wasm_bindgen_test::wasm_bindgen_test;

const COST_XLSX: &[u8] = include_bytes!("../../tests/fixtures/cases/basic/xlsx/cost.xlsx");
const OPTIMIZE_XLSX: &[u8] = include_bytes!("../../tests/fixtures/cases/basic/xlsx/optimize.xlsx");

fn basic() -> Fixture {
    fixture!("cases/basic", "sims.csv", "plans.csv", "eligibility.csv")
}

/// The fixture's settings with the account name the golden workbooks were written with.
fn settings_with_account(fixture: &Fixture) -> simopt_wasm::CostSettings {
    let text = fixture
        .settings
        .replacen('{', r#"{"accountName": "Acme Logistics","#, 1);
    settings(&text)
}

fn assert_same_workbook(what: &str, got: &[u8], golden: &[u8]) {
    assert!(got.starts_with(b"PK"), "{what}: not a zip");
    assert_eq!(
        got.len(),
        golden.len(),
        "{what}: size differs from the native workbook"
    );
    assert!(
        got == golden,
        "{what}: bytes differ from the native workbook"
    );
}

#[wasm_bindgen_test]
fn cost_run_writes_the_native_workbook() {
    let fixture = basic();
    let run = CostRun::new(fixture.files(), settings_with_account(&fixture)).expect("valid");
    assert_same_workbook("cost", &run.to_xlsx().expect("written"), COST_XLSX);
    let csv = run.to_csv().expect("written");
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .is_some_and(|h| h.starts_with("iccid,msisdn,comm_plan,usage_mb")));
    assert_eq!(lines.count(), run.sim_count());
}

#[wasm_bindgen_test]
fn optimize_job_writes_the_native_workbook() {
    let fixture = basic();
    let mut job =
        OptimizeJob::start(fixture.files(), settings_with_account(&fixture), None).expect("valid");
    while !job.finished() {
        job.run_slice(js(r#"{"maxQuanta": 1000}"#))
            .expect("a slice");
    }
    assert_same_workbook("optimize", &job.to_xlsx().expect("written"), OPTIMIZE_XLSX);
    let csv = job.to_csv().expect("written");
    let moved = csv.lines().filter(|l| l.contains(",true,")).count();
    assert_eq!(moved, 5, "{csv}");
}
