//! Helpers for simopt's cross-crate tests: fixture folders, running the CLI in-process on a
//! case, temporary files of their own, and golden files with a `BLESS=1` switch.
//!
//! Layout: `tests/fixtures/cases/<case>/` holds inputs (`sims.csv`, `plans.csv`, optionally
//! `eligibility.csv`, `settings.json` with the account flags) and the expected outputs
//! (`cost.json`, `summary.txt`); `tests/fixtures/invalid/<case>/` holds bad inputs and the
//! expected error text (`stderr.txt`).

use std::path::{Path, PathBuf};

/// The `tests/fixtures` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The case folders under `tests/fixtures/<group>`, sorted.
pub fn cases(group: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures().join(group))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// The fleet of the `basic` case, loaded through the core (its CSV files and settings.json).
pub fn basic_fleet() -> simopt_core::Fleet {
    let case = fixtures().join("cases/basic");
    let read = |f: &str| std::fs::read(case.join(f)).expect("fixture");
    let settings = serde_json::from_slice(&read("settings.json")).expect("settings.json");
    load(
        &read("sims.csv"),
        &read("plans.csv"),
        Some(&read("eligibility.csv")),
        &settings,
    )
    .output
}

/// The fleet of these `sims.csv`, `plans.csv` and `eligibility.csv` bytes, loaded through the
/// core with `settings`, and its warnings.
///
/// # Panics
/// When the files do not load.
pub fn load(
    sims: &[u8],
    plans: &[u8],
    eligibility: Option<&[u8]>,
    settings: &simopt_core::SettingsInput,
) -> simopt_core::Warned<simopt_core::Fleet> {
    use simopt_core::{InputFiles, SourceFile};
    let files = InputFiles {
        sims: SourceFile {
            name: "sims.csv",
            bytes: sims,
        },
        plans: SourceFile {
            name: "plans.csv",
            bytes: plans,
        },
        eligibility: eligibility.map(|bytes| SourceFile {
            name: "eligibility.csv",
            bytes,
        }),
    };
    simopt_core::input::load(&files, settings).expect("the files load")
}

/// What a CLI run printed and returned.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `simopt <args>` in-process.
pub fn simopt(args: &[String]) -> Run {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let mut argv = vec!["simopt".to_owned()];
    argv.extend(args.iter().cloned());
    let code = simopt_cli::run(argv, &mut stdout, &mut stderr);
    Run {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// The `simopt cost` arguments for a case folder: its files, and its `settings.json` as account
/// flags.
pub fn cost_args(case: &Path) -> Vec<String> {
    let mut args = vec!["cost".to_owned()];
    for (flag, file) in [
        ("--sims", "sims"),
        ("--plans", "plans"),
        ("--eligibility", "eligibility"),
    ] {
        for ext in ["csv", "json"] {
            let path = case.join(format!("{file}.{ext}"));
            if path.exists() {
                args.push(flag.to_owned());
                args.push(path.display().to_string());
            }
        }
    }
    let settings =
        std::fs::read_to_string(case.join("settings.json")).unwrap_or_else(|_| "{}".into());
    let settings: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&settings)
        .unwrap_or_else(|e| panic!("{}: settings.json: {e}", case.display()));
    for (key, value) in settings {
        let flag = match key.as_str() {
            "period_end" => "--period-end",
            "time_zone" => "--tz",
            "as_of" => "--as-of",
            "proration" => "--proration",
            "charge_type" => "--charge-type",
            "projection" => "--projection",
            "margin_pct" => "--margin",
            other => panic!("{}: settings.json key {other} has no flag", case.display()),
        };
        args.push(flag.to_owned());
        args.push(match value {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
    }
    args
}

/// The `simopt <command>` arguments for a case folder: [`cost_args`] with `command` in place of
/// `cost` and, for `optimize`, the flags of the case's `optimize-args` file (constraints only
/// `optimize` takes).
pub fn command_args(case: &Path, command: &str) -> Vec<String> {
    let mut args = cost_args(case);
    args[0] = command.into();
    if command == "optimize" {
        if let Ok(extra) = std::fs::read_to_string(case.join("optimize-args")) {
            args.extend(extra.split_whitespace().map(str::to_owned));
        }
    }
    args
}

/// A temporary file path of its own, ending in `name`: unique per call, as the tests run in
/// parallel, several on the same case.
pub fn temp(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("simopt-test-{}-{n}-{name}", std::process::id()))
}

/// Compares `actual` with the golden file `path`; with `BLESS=1` in the environment, writes it
/// instead. Panics with a readable diff on a mismatch.
pub fn golden(path: &Path, actual: &str) {
    if std::env::var_os("BLESS").is_some_and(|v| v == "1") {
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1 to create it)", path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output at line {}:\n  expected: {}\n  actual:   {}\n(run with BLESS=1 to accept the new output after checking it)",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end of file>"),
            actual.lines().nth(line).unwrap_or("<end of output>")
        );
    }
}
