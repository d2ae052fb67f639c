//! Spreadsheet input: `xlsxToCsv` turns the first sheet of a workbook into CSV text that bills
//! exactly as the CSV export it stands for, and whose diagnostics name the sheet's rows; cells
//! it cannot convert faithfully are errors naming file, row, column and cell.
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod support;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::Value;
use simopt_wasm::spreadsheet::xlsx_to_csv;
use simopt_wasm::CostRun;
use support::{get, name_and_message, settings, text_file, to_json};
use wasm_bindgen_test::wasm_bindgen_test;

fn basic() -> support::Fixture {
    fixture!("cases/basic", "sims.csv", "plans.csv", "eligibility.csv")
}

/// Columns written as text even when they look like numbers (identifiers).
const TEXT_COLUMNS: [&str; 4] = ["iccid", "msisdn", "plan_id", "pool_id"];

/// A workbook holding `csv` on its first sheet, from row `first_row` (0-based): numbers as
/// numbers, dates and date-times as date cells with a date format, the rest as text — what a
/// person gets by opening the CSV in Excel and saving it as .xlsx.
fn workbook_of(csv: &str, first_row: u32) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let sheet = workbook.add_worksheet();
    let mut header: Vec<String> = Vec::new();
    for (i, line) in csv.lines().enumerate() {
        let row = first_row + i as u32;
        for (c, field) in line.split(',').enumerate() {
            let col = c as u16;
            if i == 0 {
                header.push(field.to_owned());
                sheet.write_string(row, col, field).expect("header");
                continue;
            }
            let column = header[c].as_str();
            if field.is_empty() {
                continue;
            }
            if TEXT_COLUMNS.contains(&column) {
                sheet.write_string(row, col, field).expect("text");
            } else if let Ok(number) = field.parse::<f64>() {
                sheet.write_number(row, col, number).expect("number");
            } else if field.len() == 10 && field.as_bytes()[4] == b'-' {
                let value = ExcelDateTime::parse_from_str(field).expect("a date");
                sheet
                    .write_datetime_with_format(row, col, &value, &date)
                    .expect("date");
            } else if field.len() == 16 && field.as_bytes()[10] == b'T' {
                let value =
                    ExcelDateTime::parse_from_str(&field.replace('T', " ")).expect("a date-time");
                sheet
                    .write_datetime_with_format(row, col, &value, &datetime)
                    .expect("date-time");
            } else {
                sheet.write_string(row, col, field).expect("text");
            }
        }
    }
    workbook.save_to_buffer().expect("an xlsx file")
}

fn text(file: support::File) -> &'static str {
    std::str::from_utf8(file.1).expect("UTF-8 fixture")
}

fn converted(file: support::File, xlsx_name: &str) -> String {
    xlsx_to_csv(&workbook_of(text(file), 0), xlsx_name).expect("converts")
}

fn cost(
    sims: (&str, &str),
    plans: (&str, &str),
    eligibility: (&str, &str),
) -> Result<CostRun, js_sys::Error> {
    CostRun::new(
        support::files(
            text_file(sims.0, sims.1),
            text_file(plans.0, plans.1),
            Some(text_file(eligibility.0, eligibility.1)),
        ),
        settings(basic().settings),
    )
}

#[wasm_bindgen_test]
fn the_basic_fixture_as_xlsx_bills_as_its_csv() {
    let sims = converted(basic().sims, "sims.xlsx");
    let plans = converted(basic().plans, "plans.xlsx");
    let eligibility = converted(basic().eligibility.expect("has one"), "eligibility.xlsx");
    // Dates come back as the CSV wrote them; numbers in their shortest form.
    let first_sim = sims.lines().nth(1).expect("a SIM");
    assert_eq!(first_sim, "89012600000000000001,15550000001,CP-TRACK,S5,active,2025-01-10,3.5,2026-11-20T10:00:00,4,M2M");
    assert!(
        plans
            .lines()
            .nth(1)
            .expect("a plan")
            .starts_with("S5,Small 5 MB,2.5,5,0.5,1,false,,0.05,M2M"),
        "{plans}"
    );

    let from_xlsx = cost(
        ("sims.xlsx", &sims),
        ("plans.xlsx", &plans),
        ("eligibility.xlsx", &eligibility),
    )
    .expect("the converted files are valid");
    let from_csv = basic().run().expect("the fixture is valid");
    assert_eq!(from_xlsx.total(), from_csv.total());
    assert_eq!(from_xlsx.sim_count(), from_csv.sim_count());
    assert_eq!(
        to_json(from_xlsx.totals().expect("totals")),
        to_json(from_csv.totals().expect("totals"))
    );
}

#[wasm_bindgen_test]
fn diagnostics_name_the_sheet_rows_even_below_blank_rows() {
    // The table starts on the sheet's third row; its fourth SIM (sheet row 7) is negative.
    let mut csv = text(basic().sims).to_owned();
    csv = csv.replacen(",180,", ",-180,", 1);
    let bytes = workbook_of(&csv, 2);
    let sims = xlsx_to_csv(&bytes, "sims.xlsx").expect("converts");
    assert!(sims.starts_with("\n\niccid,"), "{:?}", &sims[..20]);
    let error = match cost(
        ("sims.xlsx", &sims),
        ("plans.csv", text(basic().plans)),
        (
            "eligibility.csv",
            text(basic().eligibility.expect("has one")),
        ),
    ) {
        Ok(run) => panic!("expected an error, got a bill of {}", run.total()),
        Err(error) => error,
    };
    assert_eq!(name_and_message(&error).0, "InputError");
    let Value::Array(items) = to_json(get(&error, "diagnostics")) else {
        panic!("no diagnostics")
    };
    let item = items
        .iter()
        .find(|d| d["severity"] == "error")
        .expect("an error");
    assert_eq!(item["file"], "sims.xlsx");
    assert_eq!(item["row"], 7, "{item}");
    assert_eq!(item["column"], "usage_mb");
}

#[wasm_bindgen_test]
fn a_long_number_is_an_error_naming_the_cell() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, name) in ["iccid", "current_plan", "usage_mb"].iter().enumerate() {
        sheet.write_string(0, col as u16, *name).expect("header");
    }
    sheet
        .write_string(1, 0, "89012600000000000001")
        .expect("text ICCID");
    sheet
        .write_number(2, 0, 8.9012600000000000002e19)
        .expect("numeric ICCID");
    for row in 1..=2 {
        sheet.write_string(row, 1, "S5").expect("plan");
        sheet.write_number(row, 2, 1.5).expect("usage");
    }
    let bytes = workbook.save_to_buffer().expect("xlsx");
    let error = xlsx_to_csv(&bytes, "fleet.xlsx").expect_err("a 20-digit number is refused");
    let (name, message) = name_and_message(&error);
    assert_eq!(name, "InputError");
    assert!(
        message.starts_with("fleet.xlsx, row 3, column iccid (A3): the cell holds the number"),
        "{message}"
    );
    let Value::Array(items) = to_json(get(&error, "diagnostics")) else {
        panic!("no diagnostics")
    };
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["code"], "imprecise-number");
    assert_eq!(items[0]["row"], 3);
    assert_eq!(items[0]["column"], "iccid (A3)");
    assert!(items[0]["hint"]
        .as_str()
        .expect("a hint")
        .contains("format the column as Text"));
    assert_eq!(to_json(get(&error, "errorCount")), 1);
}

#[wasm_bindgen_test]
fn a_csv_file_given_as_xlsx_is_unreadable_not_a_panic() {
    let error = xlsx_to_csv(basic().sims.1, "sims.xlsx").expect_err("CSV bytes are not a workbook");
    let (name, message) = name_and_message(&error);
    assert_eq!(name, "InputError");
    assert!(
        message.contains("sims.xlsx cannot be read as an Excel workbook"),
        "{message}"
    );
    let Value::Array(items) = to_json(get(&error, "diagnostics")) else {
        panic!("no diagnostics")
    };
    assert_eq!(items[0]["code"], "unreadable-file");
    assert!(items[0]["hint"]
        .as_str()
        .expect("a hint")
        .contains("CSV UTF-8"));
}
