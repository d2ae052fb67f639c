//! The Excel report and the CSV export, read back.
//!
//! * Every case, costed and optimized through the CLI: the workbook's sheets and headers, every
//!   total against the engine (the JSON document of the same run), and the per-SIM lines adding
//!   up to the totals to the cent; the CSV's lines against the JSON document's.
//! * The unzipped XML parts of the `basic` and `constrained` reports, and their bytes, against
//!   golden files (`BLESS=1 cargo test -p simopt-tests --test xlsx` rewrites them).
//! * The same run gives the same bytes; past the row limit the SIMs continue on more sheets.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};
use serde_json::Value;
use simopt_tests::{cases, command_args, fixtures, golden, simopt, temp};

/// What one CLI run wrote.
struct Outputs {
    json: Value,
    xlsx: Vec<u8>,
    csv: String,
}

/// Runs `simopt <command>` on a case with --json, --xlsx and --csv.
fn run(case: &Path, command: &str) -> Outputs {
    let tag = format!(
        "{}-{command}",
        case.file_name().and_then(|n| n.to_str()).unwrap_or("case")
    );
    let (json, xlsx, csv) = (
        temp(&format!("{tag}.json")),
        temp(&format!("{tag}.xlsx")),
        temp(&format!("{tag}.csv")),
    );
    let mut args = command_args(case, command);
    for (flag, path) in [("--json", &json), ("--xlsx", &xlsx), ("--csv", &csv)] {
        args.push(flag.into());
        args.push(path.display().to_string());
    }
    args.push("--account-name=Acme Logistics".into());
    args.push("-q".into());
    let run = simopt(&args);
    assert_eq!(run.code, 0, "{}: {}", case.display(), run.stderr);
    let read = |p: &PathBuf| std::fs::read(p).expect("written");
    let out = Outputs {
        json: serde_json::from_slice(&read(&json)).expect("JSON"),
        xlsx: read(&xlsx),
        csv: String::from_utf8(read(&csv)).expect("UTF-8"),
    };
    for p in [json, xlsx, csv] {
        let _ = std::fs::remove_file(p);
    }
    out
}

/// Cents of a decimal string (`"175.41"`), exactly.
fn cents(text: &str) -> i64 {
    let (units, fraction) = text.split_once('.').unwrap_or((text, ""));
    let negative = units.starts_with('-');
    let units: i64 = units.trim_start_matches('-').parse().expect("units");
    let mut fraction = fraction.to_owned();
    fraction.push_str("00");
    assert!(
        fraction[2..].chars().all(|c| c == '0'),
        "{text} is not whole cents"
    );
    let c = units * 100 + fraction[..2].parse::<i64>().expect("cents");
    if negative {
        -c
    } else {
        c
    }
}

fn json_cents(v: &Value) -> i64 {
    cents(v.as_str().unwrap_or_else(|| panic!("{v} is not money")))
}

struct Book {
    sheets: Vec<String>,
    ranges: BTreeMap<String, Range<Data>>,
    formulas: BTreeMap<String, Range<String>>,
}

fn open(bytes: &[u8]) -> Book {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an xlsx");
    let sheets = book.sheet_names();
    let mut ranges = BTreeMap::new();
    let mut formulas = BTreeMap::new();
    for name in &sheets {
        ranges.insert(name.clone(), book.worksheet_range(name).expect("a sheet"));
        formulas.insert(
            name.clone(),
            book.worksheet_formula(name).expect("formulas"),
        );
    }
    Book {
        sheets,
        ranges,
        formulas,
    }
}

impl Book {
    fn get(&self, sheet: &str, row: u32, col: u32) -> &Data {
        self.ranges[sheet]
            .get_value((row, col))
            .unwrap_or(&Data::Empty)
    }

    fn text(&self, sheet: &str, row: u32, col: u32) -> String {
        match self.get(sheet, row, col) {
            Data::String(s) => s.clone(),
            Data::Empty => String::new(),
            other => other.to_string(),
        }
    }

    fn number(&self, sheet: &str, row: u32, col: u32) -> f64 {
        match self.get(sheet, row, col) {
            Data::Float(f) => *f,
            Data::Int(i) => *i as f64,
            Data::Empty => 0.0,
            other => panic!("{sheet} ({row}, {col}) is not a number: {other:?}"),
        }
    }

    /// A money cell in cents (the double nearest to whole cents).
    fn cents(&self, sheet: &str, row: u32, col: u32) -> i64 {
        (self.number(sheet, row, col) * 100.0).round() as i64
    }

    fn formula(&self, sheet: &str, row: u32, col: u32) -> String {
        self.formulas[sheet]
            .get_value((row, col))
            .cloned()
            .unwrap_or_default()
    }

    /// Column index of a header in a row.
    fn column(&self, sheet: &str, row: u32, header: &str) -> u32 {
        let width = self.ranges[sheet].end().map_or(0, |(_, c)| c);
        (0..=width)
            .find(|&c| self.text(sheet, row, c) == header)
            .unwrap_or_else(|| panic!("{sheet}: no column {header:?} in row {row}"))
    }

    /// The first row whose column `col` reads `text`.
    fn row_with(&self, sheet: &str, col: u32, text: &str) -> u32 {
        let height = self.ranges[sheet].end().map_or(0, |(r, _)| r);
        (0..=height)
            .find(|&r| self.text(sheet, r, col) == text)
            .unwrap_or_else(|| panic!("{sheet}: no {text:?} in column {col}"))
    }

    fn last_row(&self, sheet: &str) -> u32 {
        self.ranges[sheet].end().map_or(0, |(r, _)| r)
    }
}

const ASSIGNMENT_HEADERS: [&str; 14] = [
    "ICCID",
    "MSISDN",
    "Comm. plan",
    "Current plan",
    "New plan",
    "Usage MB",
    "SMS count",
    "Base",
    "Overage",
    "SMS",
    "New cost",
    "Cost now",
    "Saving",
    "Why",
];

/// Checks an optimization's workbook against its JSON document and the current bill's.
fn check_optimized(name: &str, book: &Book, doc: &Value, current: &Value) {
    let mut expected = vec!["Summary", "Statistics", "Pools", "Assignments", "Changes"];
    if doc["warnings"]["counts"]
        .as_array()
        .is_some_and(|c| !c.is_empty())
    {
        expected.push("Diagnostics");
    }
    assert_eq!(book.sheets, expected, "{name}");

    // Summary: the key figures are the engine's.
    let s = "Summary";
    let value_of = |label: &str| book.row_with(s, 0, label);
    assert_eq!(
        book.cents(s, value_of("Current bill"), 1),
        json_cents(&doc["current_cost"]),
        "{name}"
    );
    assert_eq!(
        book.cents(s, value_of("Optimized bill"), 1),
        json_cents(&doc["optimized_cost"]),
        "{name}"
    );
    assert_eq!(
        book.cents(s, value_of("Savings"), 1),
        json_cents(&doc["savings"]),
        "{name}"
    );
    if doc["lower_bound"].is_string() {
        // The bound is exact to the millionth, not a bill line.
        let bound: f64 = doc["lower_bound"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .expect("bound");
        assert_eq!(book.number(s, value_of("Lower bound"), 1), bound, "{name}");
    }
    // The cost-per-plan table: each plan's line and the total row.
    let header = book.row_with(s, 0, "Plan");
    let total_row = book.row_with(s, 0, "Total");
    assert!(
        book.formula(s, total_row, 5).starts_with("SUBTOTAL(9,"),
        "{name}"
    );
    assert_eq!(
        book.cents(s, total_row, 5),
        json_cents(&doc["current_cost"]),
        "{name}"
    );
    assert_eq!(
        book.cents(s, total_row, 6),
        json_cents(&doc["optimized_cost"]),
        "{name}"
    );
    let plan_cost = |d: &Value, code: &str| {
        d["plans"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["plan"] == code))
            .map_or(0, |p| json_cents(&p["total"]))
    };
    let (mut now, mut after) = (0, 0);
    for row in header + 1..total_row {
        let code = book.text(s, row, 0);
        assert_eq!(
            book.cents(s, row, 5),
            plan_cost(current, &code),
            "{name} {code}"
        );
        assert_eq!(
            book.cents(s, row, 6),
            plan_cost(doc, &code),
            "{name} {code}"
        );
        now += book.cents(s, row, 5);
        after += book.cents(s, row, 6);
    }
    assert_eq!(now, book.cents(s, total_row, 5), "{name}");
    assert_eq!(after, book.cents(s, total_row, 6), "{name}");

    // Statistics: the grand total row now and after.
    let st = "Statistics";
    let head = book.row_with(st, 0, "Comm. plan");
    let total = book.row_with(st, 1, "Total");
    for (block, d) in [(4, current), (12, doc)] {
        for (offset, key) in [(3, "base"), (4, "overage"), (5, "sms"), (6, "total")] {
            let col = block + offset;
            assert_eq!(
                book.text(st, head, col),
                ["Base", "Overage", "SMS", "Total"][offset as usize - 3]
            );
            assert!(
                book.formula(st, total, col).starts_with("SUBTOTAL(9,"),
                "{name}"
            );
            assert_eq!(
                book.cents(st, total, col),
                json_cents(&d["totals"][key]),
                "{name}: Statistics {key}"
            );
        }
        assert_eq!(
            book.number(st, total, block),
            d["sim_count"].as_f64().unwrap_or(-1.0),
            "{name}"
        );
    }

    // Pools: every pool's overage now and after.
    let p = "Pools";
    for (block, d) in [(2, current), (8, doc)] {
        for pool in d["pools"].as_array().into_iter().flatten() {
            let row = book.row_with(p, 0, pool["pool"].as_str().unwrap_or_default());
            assert_eq!(
                book.cents(p, row, block + 5),
                json_cents(&pool["overage"]),
                "{name}"
            );
            assert_eq!(
                book.number(p, row, block),
                pool["sim_count"].as_f64().unwrap_or(-1.0)
            );
        }
    }

    // Assignments: headers, totals, and the lines adding up to them.
    let a = "Assignments";
    for (col, header) in ASSIGNMENT_HEADERS.iter().enumerate() {
        assert_eq!(book.text(a, 1, col as u32), *header, "{name}");
    }
    let sims = doc["sims"].as_array().expect("sims");
    assert_eq!(book.last_row(a) as usize, sims.len() + 1, "{name}");
    let col = |h: &str| book.column(a, 1, h);
    for (header, key) in [
        ("Base", "base"),
        ("Overage", "overage"),
        ("SMS", "sms"),
        ("New cost", "total"),
    ] {
        let c = col(header);
        assert!(book.formula(a, 0, c).starts_with("SUBTOTAL(109,"), "{name}");
        assert_eq!(
            book.cents(a, 0, c),
            json_cents(&doc["totals"][key]),
            "{name} {header}"
        );
        let lines: i64 = (2..book.last_row(a) + 1).map(|r| book.cents(a, r, c)).sum();
        assert_eq!(
            lines,
            book.cents(a, 0, c),
            "{name}: the {header} lines add up"
        );
    }
    let cost_now = col("Cost now");
    assert_eq!(
        book.cents(a, 0, cost_now),
        json_cents(&doc["current_cost"]),
        "{name}"
    );
    assert_eq!(
        book.cents(a, 0, col("Saving")),
        json_cents(&doc["savings"]),
        "{name}"
    );
    let mut moved = Vec::new();
    for (i, sim) in sims.iter().enumerate() {
        let row = i as u32 + 2;
        assert_eq!(
            book.text(a, row, 0),
            sim["iccid"].as_str().unwrap_or_default()
        );
        assert_eq!(
            book.text(a, row, col("Current plan")),
            sim["current_plan"].as_str().unwrap_or_default()
        );
        assert_eq!(
            book.text(a, row, col("New plan")),
            sim["plan"].as_str().unwrap_or_default()
        );
        assert_eq!(
            book.cents(a, row, col("New cost")),
            json_cents(&sim["cost"]),
            "{name}"
        );
        let now_line = &current["sims"][i];
        assert_eq!(
            book.cents(a, row, cost_now),
            json_cents(&now_line["cost"]),
            "{name}"
        );
        if sim["plan"] != sim["current_plan"] {
            moved.push((sim["iccid"].clone(), sim["plan"].clone()));
            assert!(
                !book.text(a, row, col("Why")).is_empty(),
                "{name}: a move says why"
            );
        }
    }

    // Summary's count of changes is the SIMs that move.
    assert_eq!(
        book.number(s, value_of("SIMs changing plan"), 1),
        moved.len() as f64,
        "{name}"
    );

    // Changes: the moves, as an upload takes them, and nothing else.
    let c = "Changes";
    assert_eq!(book.text(c, 0, 0), "ICCID");
    assert_eq!(book.text(c, 0, 1), "Rate Plan");
    let listed: Vec<(Value, Value)> = (1..=moved.len() as u32)
        .map(|r| {
            (
                Value::from(book.text(c, r, 0)),
                Value::from(book.text(c, r, 1)),
            )
        })
        .collect();
    assert_eq!(listed, moved, "{name}");
    // Row 0 is the header.
    assert_eq!(book.last_row(c) as usize, moved.len(), "{name}");
}

/// Checks a current bill's workbook against its JSON document.
fn check_current(name: &str, book: &Book, doc: &Value) {
    assert_eq!(
        &book.sheets[..4],
        ["Summary", "Statistics", "Pools", "Assignments"],
        "{name}"
    );
    assert!(!book.sheets.iter().any(|s| s == "Changes"), "{name}");
    let a = "Assignments";
    let headers: Vec<String> = (0..10).map(|c| book.text(a, 1, c)).collect();
    assert_eq!(
        headers,
        [
            "ICCID",
            "MSISDN",
            "Comm. plan",
            "Plan",
            "Usage MB",
            "SMS count",
            "Base",
            "Overage",
            "SMS",
            "Cost"
        ],
        "{name}"
    );
    assert_eq!(
        book.cents(a, 0, 9),
        json_cents(&doc["current_cost"]),
        "{name}"
    );
    let lines: i64 = (2..book.last_row(a) + 1).map(|r| book.cents(a, r, 9)).sum();
    assert_eq!(lines, json_cents(&doc["current_cost"]), "{name}");
    let s = "Summary";
    assert_eq!(
        book.cents(s, book.row_with(s, 0, "Current bill"), 1),
        json_cents(&doc["current_cost"]),
        "{name}"
    );
}

/// The bytes an exact MB decimal stands for (`"3.7250003814697265625"` × 2^20).
fn bytes_of_mb(text: &str) -> u64 {
    let (units, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits: u128 = format!("{units}{fraction}").parse().expect("a decimal");
    let scale = 10u128.pow(fraction.len() as u32);
    let bytes = digits * 1_048_576;
    assert_eq!(bytes % scale, 0, "{text} MB is not a whole number of bytes");
    (bytes / scale) as u64
}

/// Checks the CSV export against the JSON document of the same run.
fn check_csv(name: &str, csv: &str, doc: &Value) {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("iccid,msisdn,comm_plan,usage_mb,sms_count,current_plan,plan,changed,base,overage,sms,cost,current_cost,saving,why"),
        "{name}"
    );
    let sims = doc["sims"].as_array().expect("sims");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), sims.len(), "{name}");
    let mut total = 0;
    for (row, sim) in rows.iter().zip(sims) {
        let fields: Vec<&str> = row.split(',').collect();
        assert_eq!(
            fields[0],
            sim["iccid"].as_str().unwrap_or_default(),
            "{name}"
        );
        assert_eq!(
            Some(bytes_of_mb(fields[3])),
            sim["usage_bytes"].as_u64(),
            "{name}: exact usage"
        );
        assert_eq!(
            fields[6],
            sim["plan"].as_str().unwrap_or_default(),
            "{name}"
        );
        assert_eq!(cents(fields[11]), json_cents(&sim["cost"]), "{name}");
        total += cents(fields[11]);
    }
    assert_eq!(
        total,
        json_cents(&doc["totals"]["total"]),
        "{name}: the lines add up"
    );
}

#[test]
fn every_case_reads_back_with_the_engines_totals() {
    let all = cases("cases");
    assert!(!all.is_empty());
    for case in all {
        let name = case.display().to_string();
        let cost = run(&case, "cost");
        check_current(&name, &open(&cost.xlsx), &cost.json);
        check_csv(&name, &cost.csv, &cost.json);
        let optimized = run(&case, "optimize");
        check_optimized(&name, &open(&optimized.xlsx), &optimized.json, &cost.json);
        check_csv(&name, &optimized.csv, &optimized.json);
    }
}

/// The workbook's XML parts, each with one tag a line (readable diffs).
fn parts(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    let mut parts = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("a part");
        let mut text = String::new();
        file.read_to_string(&mut text).expect("XML text");
        parts.insert(
            file.name().expect("a UTF-8 name").into_owned(),
            text.replace("><", ">\n<"),
        );
    }
    parts
}

/// Compares the report's bytes and XML parts with `<case>/xlsx/<what>.xlsx` and
/// `<case>/xlsx/<what>/<part>`.
fn golden_workbook(case: &Path, what: &str, bytes: &[u8]) {
    let dir = case.join("xlsx");
    let parts_dir = dir.join(what);
    let bless = std::env::var_os("BLESS").is_some_and(|v| v == "1");
    if bless {
        let _ = std::fs::remove_dir_all(&parts_dir);
    }
    let parts = parts(bytes);
    for (name, text) in &parts {
        let path = parts_dir.join(name);
        if bless {
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
        }
        golden(&path, text);
    }
    // No golden part is missing from the workbook.
    let mut kept = Vec::new();
    let mut stack = vec![parts_dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("golden parts").flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                kept.push(entry.path());
            }
        }
    }
    for path in kept {
        let name = path
            .strip_prefix(&parts_dir)
            .expect("inside")
            .to_string_lossy()
            .replace('\\', "/");
        assert!(parts.contains_key(&name), "{name} is no longer written");
    }
    // The bytes themselves (the browser and Worker tests compare theirs with these).
    let file = dir.join(format!("{what}.xlsx"));
    if bless {
        std::fs::write(&file, bytes).expect("writing the golden workbook");
    } else {
        let kept = std::fs::read(&file).expect("golden workbook (BLESS=1 writes it)");
        assert!(
            kept == bytes,
            "{} differs (BLESS=1 rewrites it)",
            file.display()
        );
    }
}

#[test]
fn the_basic_and_constrained_reports_match_their_golden_parts() {
    let basic = fixtures().join("cases/basic");
    golden_workbook(&basic, "optimize", &run(&basic, "optimize").xlsx);
    golden_workbook(&basic, "cost", &run(&basic, "cost").xlsx);
    let constrained = fixtures().join("cases/constrained");
    golden_workbook(
        &constrained,
        "optimize",
        &run(&constrained, "optimize").xlsx,
    );
}

#[test]
fn the_same_run_gives_the_same_bytes() {
    let case = fixtures().join("cases/messy-export");
    let first = run(&case, "optimize");
    let second = run(&case, "optimize");
    assert!(first.xlsx == second.xlsx, "two runs, two workbooks");
    assert_eq!(first.csv, second.csv);
    // The document's date is the run's as-of, not the clock.
    let core = parts(&first.xlsx)["docProps/core.xml"].clone();
    assert!(core.contains("2026-11-20T"), "{core}");
}

#[test]
fn past_the_row_limit_the_sims_continue_on_more_sheets() {
    use simopt_core::cost;
    use simopt_core::optimize::{Job, Options, Step};
    use simopt_core::report::{xlsx, OptimizationSummary, Report};

    let fleet = simopt_tests::basic_fleet();
    let options = Options::default();
    let mut job = Job::new(&fleet, options);
    let result = loop {
        if let Step::Finished(result) = job.run_slice(&mut || false) {
            break result;
        }
    };
    let current = cost::current(&fleet);
    let bill = cost::bill(&fleet, &result.plans);
    let summary = OptimizationSummary::of(&fleet, &result, &options, true);
    let warnings = Default::default();
    let report =
        Report::of_optimization(&fleet, &current, &result.plans, &bill, &summary, &warnings);
    let bytes = xlsx::to_bytes(
        &report,
        &xlsx::Options {
            rows_per_sheet: 5,
            ..xlsx::Options::default()
        },
    )
    .expect("written");
    let book = open(&bytes);
    assert_eq!(
        book.sheets,
        [
            "Summary",
            "Statistics",
            "Pools",
            "Assignments",
            "Assignments 2",
            "Assignments 3",
            "Changes"
        ],
    );
    let cost_col = book.column("Assignments", 1, "New cost");
    let mut rows = 0;
    let mut lines = 0;
    for sheet in ["Assignments", "Assignments 2", "Assignments 3"] {
        let last = book.last_row(sheet);
        rows += last - 1;
        let here: i64 = (2..=last).map(|r| book.cents(sheet, r, cost_col)).sum();
        assert_eq!(
            here,
            book.cents(sheet, 0, cost_col),
            "{sheet}: its lines add up to its total"
        );
        lines += here;
    }
    assert_eq!(rows as usize, fleet.sims.len());
    assert_eq!(lines, bill.total().minor_units(2));
}

#[test]
fn every_report_file_made_in_parts_is_the_file() {
    use simopt_core::optimize::{Job, Options, Step};
    use simopt_core::report::{csv, part::part, xlsx, Outcome};
    use simopt_core::synthetic::FleetSpec;
    use simopt_core::SettingsInput;

    let at = |t: &str| simopt_core::period::parse_local(t).expect("date");
    let spec = FleetSpec {
        sims: 3_000,
        comm_plans: 3,
        plans_per_comm_plan: 6,
        prorated_per_mille: 80,
        seed: 5,
        period_end: at("2026-11-22T00:00"),
        as_of: at("2026-11-20T12:00"),
    };
    let (mut plans, mut sims) = (Vec::new(), Vec::new());
    spec.write_plans(&mut plans).expect("plans");
    spec.write_sims(&mut sims).expect("sims");
    let settings = SettingsInput {
        period_end: Some("2026-11-22T00:00".into()),
        as_of: Some("2026-11-20T12:00".into()),
        ..SettingsInput::default()
    };
    let loaded = simopt_tests::load(&sims, &plans, None, &settings);
    let (fleet, warnings) = (loaded.output, loaded.warnings);
    let options = Options::default();
    let mut job = Job::new(&fleet, options);
    let result = loop {
        if let Step::Finished(result) = job.run_slice(&mut || false) {
            break result;
        }
    };
    let outcome = Outcome::of(&fleet, result, &options, true);
    let report = outcome.report(&fleet, &warnings);
    let xlsx_options = xlsx::Options::default();
    type Writer<'w> = Box<dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()> + 'w>;
    let writers: [(&str, Writer<'_>); 3] = [
        (
            "xlsx",
            Box::new(|out| xlsx::write(out, &report, &xlsx_options).map_err(std::io::Error::other)),
        ),
        (
            "json",
            Box::new(|out| outcome.write_json(out, &fleet, &warnings)),
        ),
        ("csv", Box::new(|out| csv::write(out, &report))),
    ];
    for (name, write) in &writers {
        let mut whole = Vec::new();
        write(&mut whole).expect("written whole");
        assert!(whole.len() > 100_000, "{name}: {} bytes", whole.len());
        // A part length that divides nothing: the parts end in the middle of rows, of deflate
        // blocks and of zip entries.
        let len = whole.len() / 5 + 17;
        let mut joined = Vec::new();
        let mut count = 0;
        loop {
            let p = part((count * len) as u64, len, |out| write(out)).expect("a part");
            count += 1;
            assert!(
                p.bytes.len() == len || p.last,
                "{name}: part {count} has {} bytes of {len}",
                p.bytes.len()
            );
            joined.extend_from_slice(&p.bytes);
            if p.last {
                break;
            }
        }
        assert_eq!(count, 5, "{name}");
        assert!(
            joined == whole,
            "{name}: the parts join up into another file"
        );
    }
}
