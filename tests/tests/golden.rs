//! Golden files: `simopt cost` and `simopt optimize` on every case folder give exactly the
//! committed JSON documents and summaries, and every malformed input gives exit code 2 with the committed error text.
//! `BLESS=1 cargo test -p simopt-tests --test golden` rewrites them (check the diff!).

use std::path::Path;

use simopt_tests::{cases, command_args, cost_args, golden, simopt, temp};

/// Runs `simopt <command>` on a case with `--json`; returns the document and the summary.
fn document_and_summary(case: &Path, command: &str) -> (String, String) {
    let json = temp(&format!(
        "golden-{command}-{}.json",
        case.file_name().and_then(|n| n.to_str()).unwrap_or("case")
    ));
    let mut args = command_args(case, command);
    args.push("--json".into());
    args.push(json.display().to_string());
    let run = simopt(&args);
    assert_eq!(run.code, 0, "{}: {}", case.display(), run.stderr);
    let document = std::fs::read_to_string(&json).expect("the JSON document was written");
    let _ = std::fs::remove_file(&json);
    (document, run.stdout)
}

#[test]
fn cost_and_optimize_match_their_golden_files() {
    let all = cases("cases");
    assert!(!all.is_empty(), "no cases under tests/fixtures/cases");
    for case in all {
        let (document, summary) = document_and_summary(&case, "cost");
        golden(&case.join("cost.json"), &document);
        golden(&case.join("summary.txt"), &summary);

        // The optimizer is deterministic: its document and summary are pinned too.
        let (document, summary) = document_and_summary(&case, "optimize");
        golden(&case.join("optimize.json"), &document);
        golden(&case.join("optimize.txt"), &summary);
        let parsed: serde_json::Value = serde_json::from_str(&document).expect("JSON");
        let money = |key: &str| {
            parsed[key]
                .as_str()
                .unwrap_or_default()
                .parse::<f64>()
                .unwrap_or(f64::NAN)
        };
        let name = case.display();
        assert!(money("lower_bound") <= money("optimized_cost"), "{name}");
        assert!(money("optimized_cost") <= money("current_cost"), "{name}");
    }
}

#[test]
fn the_constrained_case_keeps_its_locks_and_limits() {
    let case = simopt_tests::fixtures().join("cases/constrained");
    let (document, summary) = document_and_summary(&case, "optimize");
    let doc: serde_json::Value = serde_json::from_str(&document).expect("JSON");
    assert_eq!(doc["max_changes"], 2);
    assert_eq!(doc["min_saving"], "0.25");
    // Two SIMs carry locked=yes; three more are on P100, a locked plan (one of them too).
    assert_eq!(doc["locked_sims"], 4);
    let sims = doc["sims"].as_array().expect("sims");
    let moved: Vec<&str> = sims
        .iter()
        .filter(|s| s["plan"] != s["current_plan"])
        .map(|s| s["iccid"].as_str().unwrap_or_default())
        .collect();
    assert!(moved.len() <= 2, "{moved:?}");
    assert_eq!(doc["changes"], moved.len());
    for s in sims {
        if s["current_plan"] == "P100"
            || ["89012600000000000002", "89012600000000000005"]
                .contains(&s["iccid"].as_str().unwrap_or_default())
        {
            assert_eq!(s["plan"], s["current_plan"], "a locked SIM moved: {s}");
        }
    }
    assert!(summary.contains("Constraints:     4 SIMs locked to their plan; each change saves at least 0.25; at most 2 changes"), "{summary}");

    // Bad constraint flags are bad input.
    for (flag, value) in [
        ("--min-saving", "cheap"),
        ("--min-saving", "-1"),
        ("--max-changes", "-3"),
    ] {
        let mut args = cost_args(&case);
        args[0] = "optimize".into();
        args.push(format!("{flag}={value}"));
        let run = simopt(&args);
        assert_eq!(run.code, 2, "{flag} {value}: {}", run.stderr);
        assert!(run.stderr.contains(flag), "{flag} {value}: {}", run.stderr);
    }
}

#[test]
fn malformed_inputs_exit_2_naming_row_and_column() {
    let all = cases("invalid");
    assert!(!all.is_empty(), "no cases under tests/fixtures/invalid");
    for case in all {
        let mut args = cost_args(&case);
        args.push("--json".into());
        args.push(
            std::env::temp_dir()
                .join("simopt-never-written.json")
                .display()
                .to_string(),
        );
        let run = simopt(&args);
        let name = case.display();
        assert_eq!(run.code, 2, "{name}: exit code; stderr: {}", run.stderr);
        assert!(
            run.stdout.is_empty(),
            "{name}: nothing on stdout for bad input"
        );
        // Paths differ per machine: compare with the folder written as <case>.
        let stderr = run.stderr.replace(&case.display().to_string(), "<case>");
        golden(&case.join("stderr.txt"), &stderr);
        let expects_location = std::fs::read_to_string(case.join("expect-location"))
            .map(|t| t.trim().to_owned())
            .unwrap_or_default();
        for wanted in expects_location.lines().filter(|l| !l.is_empty()) {
            assert!(
                stderr.contains(wanted),
                "{name}: stderr lacks {wanted:?}:\n{stderr}"
            );
        }
    }
}

#[test]
fn the_bundled_sample_fleet_is_what_the_generator_makes() {
    let out = temp("sample");
    let run = simopt(&[
        "gen".into(),
        "--sims".into(),
        "5000".into(),
        "--seed".into(),
        "2026".into(),
        "--out".into(),
        out.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sample = simopt_tests::fixtures().join("../../samples/fleet");
    for file in ["sims.csv", "plans.csv", "eligibility.csv"] {
        let made = std::fs::read(out.join(file)).expect("generated");
        let kept = std::fs::read(sample.join(file)).expect("bundled");
        assert!(
            made == kept,
            "samples/fleet/{file} differs from `simopt gen --sims 5000 --seed 2026`"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
    // And it costs without errors through the README's account file.
    let run = simopt(&[
        "cost".into(),
        "--sims".into(),
        sample.join("sims.csv").display().to_string(),
        "--plans".into(),
        sample.join("plans.csv").display().to_string(),
        "--eligibility".into(),
        sample.join("eligibility.csv").display().to_string(),
        "--account".into(),
        sample.join("account.toml").display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Current bill: "), "{}", run.stdout);
}
