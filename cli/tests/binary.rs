//! The installed `simopt` binary: exit codes and streams, as scripts see them.

use std::path::PathBuf;
use std::process::Command;

fn fixture(file: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/cases/basic")
        .join(file)
        .display()
        .to_string()
}

fn simopt(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_simopt"))
        .args(args)
        .output()
        .expect("simopt runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const FLAGS: &[&str] = &[
    "--period-end",
    "2026-11-22T00:00",
    "--tz",
    "America/New_York",
    "--as-of",
    "2026-11-20T12:00",
];

#[test]
fn json_to_stdout_keeps_the_summary_on_stderr() {
    let (sims, plans) = (fixture("sims.csv"), fixture("plans.csv"));
    let mut args = vec!["cost", "--sims", &sims, "--plans", &plans, "--json", "-"];
    args.extend(FLAGS);
    let (code, stdout, stderr) = simopt(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with('{') && stdout.contains("\"current_cost\""),
        "{stdout}"
    );
    assert!(stderr.contains("Current bill:"), "{stderr}");
}

#[test]
fn a_missing_file_is_bad_input() {
    let plans = fixture("plans.csv");
    let (code, stdout, stderr) = simopt(&["cost", "--sims", "no-such-sims.csv", "--plans", &plans]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("cannot read the SIMs file no-such-sims.csv"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: check the path given to --sims"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let (code, _, stderr) = simopt(&["cost", "--sims"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = simopt(&["frobnicate"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, stdout, _) = simopt(&["cost", "--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--period-end",
        "--tz",
        "--as-of",
        "--proration",
        "--charge-type",
        "--projection",
        "--margin",
        "--json",
    ] {
        assert!(stdout.contains(flag), "help lists {flag}");
    }
}

#[test]
fn an_unwritable_json_path_is_an_internal_failure() {
    let (sims, plans) = (fixture("sims.csv"), fixture("plans.csv"));
    let mut args = vec![
        "cost",
        "--sims",
        &sims,
        "--plans",
        &plans,
        "--json",
        "/nonexistent-dir/out.json",
    ];
    args.extend(FLAGS);
    let (code, _, stderr) = simopt(&args);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("cannot write /nonexistent-dir/out.json"),
        "{stderr}"
    );
}

#[test]
fn a_bad_account_file_is_bad_input() {
    let dir = std::env::temp_dir().join(format!("simopt-account-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let account = dir.join("account.toml");
    std::fs::write(&account, "period_end = \"2026-11-22T00:00\"\nbogus = 1\n").expect("write");
    let (sims, plans, account) = (
        fixture("sims.csv"),
        fixture("plans.csv"),
        account.display().to_string(),
    );
    let (code, _, stderr) = simopt(&[
        "cost",
        "--sims",
        &sims,
        "--plans",
        &plans,
        "--account",
        &account,
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bogus"), "{stderr}");
}

#[test]
fn optimize_writes_the_contract_and_a_time_limit_stops_early() {
    let (sims, plans) = (fixture("sims.csv"), fixture("plans.csv"));
    let mut args = vec![
        "optimize", "--sims", &sims, "--plans", &plans, "--json", "-",
    ];
    args.extend(FLAGS);
    let (code, stdout, stderr) = simopt(&args);
    assert_eq!(code, 0, "{stderr}");
    for key in [
        "\"current_cost\"",
        "\"optimized_cost\"",
        "\"lower_bound\"",
        "\"gap\"",
        "\"sim_count\"",
        "\"sims\"",
    ] {
        assert!(stdout.contains(key), "{key} in {stdout}");
    }
    assert!(stderr.contains("Optimized bill:"), "{stderr}");

    args.extend(["--time-limit-ms", "0"]);
    let (code, stdout, stderr) = simopt(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"complete\": false"), "{stdout}");
    assert!(stderr.contains("time limit"), "{stderr}");
}

#[test]
fn the_classic_method_runs_and_is_never_better_than_default() {
    let (sims, plans) = (fixture("sims.csv"), fixture("plans.csv"));
    let run = |method: &str| {
        let mut args = vec![
            "optimize",
            "--sims",
            &sims,
            "--plans",
            &plans,
            "--json",
            "-",
            "-q",
            "--optimizer",
            method,
        ];
        args.extend(FLAGS);
        let (code, stdout, stderr) = simopt(&args);
        assert_eq!(code, 0, "{stderr}");
        let cost = stdout
            .lines()
            .find(|l| l.contains("\"optimized_cost\""))
            .and_then(|l| l.split('"').nth(3))
            .and_then(|v| v.parse::<f64>().ok())
            .expect("optimized_cost");
        (cost, stdout)
    };
    let (classic, document) = run("classic");
    assert!(
        document.contains("\"optimizer\": \"classic\"")
            && document.contains("\"lower_bound\": null"),
        "{document}"
    );
    let (default, _) = run("default");
    assert!(default <= classic, "default {default} > classic {classic}");
}

#[test]
fn optimize_rejects_an_unknown_method() {
    let (sims, plans) = (fixture("sims.csv"), fixture("plans.csv"));
    let (code, _, stderr) = simopt(&[
        "optimize",
        "--sims",
        &sims,
        "--plans",
        &plans,
        "--optimizer",
        "magic",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("default"), "{stderr}");
}

#[test]
fn two_outputs_on_stdout_are_refused() {
    let (sims, plans) = (fixture("sims.csv"), fixture("plans.csv"));
    let mut args = vec![
        "cost", "--sims", &sims, "--plans", &plans, "--json", "-", "--csv", "-",
    ];
    args.extend(FLAGS);
    let (code, stdout, stderr) = simopt(&args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("--json and --csv all ask for standard output"),
        "{stderr}"
    );
}

#[test]
fn xlsx_to_stdout_is_the_golden_workbook() {
    // The arguments tests/tests/xlsx.rs writes the golden workbook with (the case's settings.json).
    let (sims, plans, eligibility) = (
        fixture("sims.csv"),
        fixture("plans.csv"),
        fixture("eligibility.csv"),
    );
    let mut args = vec![
        "cost",
        "--sims",
        &sims,
        "--plans",
        &plans,
        "--eligibility",
        &eligibility,
        "--proration",
        "on",
        "--charge-type",
        "rate-and-overage",
        "--projection",
        "on",
        "--margin",
        "1",
        "--account-name=Acme Logistics",
        "-q",
        "--xlsx",
        "-",
    ];
    args.extend(FLAGS);
    let out = Command::new(env!("CARGO_BIN_EXE_simopt"))
        .args(&args)
        .output()
        .expect("simopt runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let golden = std::fs::read(fixture("xlsx/cost.xlsx")).expect("the golden workbook");
    assert!(
        out.stdout == golden,
        "--xlsx - wrote {} bytes, not those of tests/fixtures/cases/basic/xlsx/cost.xlsx",
        out.stdout.len()
    );
}

#[test]
fn a_period_end_day_starts_the_period_where_the_last_one_ended() {
    let (sims, plans) = (fixture("sims.csv"), fixture("plans.csv"));
    let base = [
        "cost",
        "--sims",
        &sims,
        "--plans",
        &plans,
        "--json",
        "-",
        "--tz",
        "UTC",
        "--as-of",
        "2026-04-20T12:00",
        "--period-end",
    ];
    let run = |end: &str, day: &[&str]| {
        let mut args = base.to_vec();
        args.push(end);
        args.extend(day);
        simopt(&args)
    };
    let (code, stdout, stderr) = run("2026-04-30T00:00", &["--period-end-day", "31"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(r#""start": "2026-03-31T00:00:00+00:00""#),
        "{stdout}"
    );
    // Without the day: one month before the end.
    let (code, stdout, _) = run("2026-04-30T00:00", &[]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains(r#""start": "2026-03-30T00:00:00+00:00""#),
        "{stdout}"
    );
    // An end that is not on the day is bad input naming both settings.
    let (code, _, stderr) = run("2026-04-29T00:00", &["--period-end-day", "31"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("period_end") && stderr.contains("day 31"),
        "{stderr}"
    );
}
