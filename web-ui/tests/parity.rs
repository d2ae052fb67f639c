//! The bindings give the same JSON document as the native build, byte for byte: every case under
//! `tests/fixtures/cases/` costed through `CostRun` matches its `cost.json` golden file, written
//! by the native CLI.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod support;

use support::Fixture;
use wasm_bindgen_test::wasm_bindgen_test;

fn assert_matches_golden(case: &str, fixture: &Fixture, golden: &str) {
    let run = fixture
        .run()
        .unwrap_or_else(|e| panic!("{case}: {:?}", support::name_and_message(&e)));
    let json = run.to_json();
    if json != golden {
        let line = json
            .lines()
            .zip(golden.lines())
            .position(|(a, b)| a != b)
            .map_or(json.lines().count().min(golden.lines().count()), |i| i);
        panic!(
            "{case}: toJson() differs from cost.json at line {}:\n  wasm:   {:?}\n  native: {:?}",
            line + 1,
            json.lines().nth(line),
            golden.lines().nth(line)
        );
    }
}

macro_rules! golden_case {
    ($test:ident, $dir:literal, $sims:literal, $plans:literal, $eligibility:literal) => {
        #[wasm_bindgen_test]
        fn $test() {
            let fixture = fixture!($dir, $sims, $plans, $eligibility);
            let golden = include_str!(concat!("../../tests/fixtures/", $dir, "/cost.json"));
            assert_matches_golden($dir, &fixture, golden);
        }
    };
}

golden_case!(
    basic,
    "cases/basic",
    "sims.csv",
    "plans.csv",
    "eligibility.csv"
);
golden_case!(
    constrained,
    "cases/constrained",
    "sims.csv",
    "plans.csv",
    "eligibility.csv"
);
golden_case!(
    closed_period,
    "cases/closed-period",
    "sims.csv",
    "plans.csv",
    "eligibility.csv"
);
golden_case!(
    json_input,
    "cases/json-input",
    "sims.json",
    "plans.json",
    "eligibility.json"
);
golden_case!(
    messy_export,
    "cases/messy-export",
    "sims.csv",
    "plans.csv",
    "eligibility.csv"
);
golden_case!(
    overage_only_no_proration,
    "cases/overage-only-no-proration",
    "sims.csv",
    "plans.csv",
    "eligibility.csv"
);
golden_case!(
    rate_only_no_projection,
    "cases/rate-only-no-projection",
    "sims.csv",
    "plans.csv",
    "eligibility.csv"
);

/// Text in, as well as bytes in: the same document.
#[wasm_bindgen_test]
fn text_and_bytes_give_the_same_document() {
    let fixture = fixture!("cases/basic", "sims.csv", "plans.csv", "eligibility.csv");
    let text = |(name, bytes): support::File| {
        support::text_file(name, std::str::from_utf8(bytes).expect("UTF-8 fixture"))
    };
    let files = support::files(
        text(fixture.sims),
        text(fixture.plans),
        fixture.eligibility.map(text),
    );
    let run = simopt_wasm::CostRun::new(files, support::settings(fixture.settings))
        .expect("the basic case is valid");
    assert_eq!(
        run.to_json(),
        include_str!("../../tests/fixtures/cases/basic/cost.json")
    );
}
