//! Spreadsheet input (DESIGN §7: "the browser also takes xlsx"): the first sheet of an `.xlsx`
//! workbook as CSV text, so the core reads it exactly as it reads a CSV export and its
//! diagnostics keep naming the sheet's rows and columns.
//!
//! * Row numbers are kept: row *n* of the sheet is line *n* of the CSV text (rows above the
//!   first used one, and blank rows, become blank lines, which the core skips but counts).
//! * Numbers are written as Excel shows them in the General format: the shortest decimal that
//!   reads back as the same double, at most 15 significant digits (`2.1`, not
//!   `2.1000000000000001`; a formula's `0.30000000000000004` as `0.3`).
//! * Dates are `YYYY-MM-DD`, date-times `YYYY-MM-DDTHH:MM:SS` (the sheet's own clock time; the
//!   account's zone applies, as for CSV).
//! * A cell the conversion cannot represent faithfully is an error naming the file, row, column
//!   and cell, never a silently different value: an error value (`#N/A`), or a whole number of
//!   more than 15 digits (a spreadsheet keeps 15: a 19-digit ICCID typed as a number has already
//!   lost its last digits).

use std::fmt::Write as _;
use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::INPUT_ERROR;

/// One reason a workbook cannot be turned into CSV text, shaped like the core's `Diagnostic`
/// (the page shows both in the same table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SheetProblem {
    /// Always `error`.
    pub severity: &'static str,
    /// Stable code: `unreadable-file`, `empty-workbook`, `cell-error`, `imprecise-number`.
    pub code: &'static str,
    /// The file's name as the user gave it.
    pub file: String,
    /// The sheet's row (1 = the first row), when the problem is in a cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// The column: its header's text and the cell (`iccid (B5)`), when in a cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// At most this many cell problems are reported (the rest are counted).
pub const MAX_PROBLEMS: usize = 100;

/// The first sheet of the `.xlsx` workbook `bytes` as CSV text.
///
/// # Errors
/// Every problem found (at most [`MAX_PROBLEMS`]) and their total count: a file that is not an
/// xlsx workbook, a workbook without sheets, cells holding errors or numbers too long to be
/// exact.
pub fn first_sheet_csv(file: &str, bytes: &[u8]) -> Result<String, (Vec<SheetProblem>, usize)> {
    let problem = |code, message: String, hint: &str| SheetProblem {
        severity: "error",
        code,
        file: file.to_owned(),
        row: None,
        column: None,
        message,
        hint: hint.to_owned(),
    };
    let unreadable = |why: String| {
        (
            vec![problem(
                "unreadable-file",
                format!("{file} cannot be read as an Excel workbook (.xlsx): {why}"),
                "save it from Excel as \"Excel Workbook (.xlsx)\" or as \"CSV UTF-8\", and choose it again",
            )],
            1,
        )
    };
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
    let Some(sheet) = workbook.sheet_names().first().cloned() else {
        return Err((
            vec![problem(
                "empty-workbook",
                format!("{file} has no worksheet"),
                "put the table on the workbook's first sheet",
            )],
            1,
        ));
    };
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| unreadable(format!("sheet {sheet:?}: {e}")))?;
    range_to_csv(file, &range)
}

/// The cells of `range` as CSV text, row numbers kept.
fn range_to_csv(file: &str, range: &Range<Data>) -> Result<String, (Vec<SheetProblem>, usize)> {
    let Some((first_row, first_col)) = range.start() else {
        return Ok(String::new());
    };
    let mut out = String::with_capacity(range.width() * range.height() * 8);
    for _ in 0..first_row {
        out.push('\n');
    }
    let mut header: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    let mut count = 0usize;
    for (i, cells) in range.rows().enumerate() {
        let row = u64::from(first_row) + i as u64 + 1;
        if cells.iter().all(|c| matches!(c, Data::Empty)) {
            out.push('\n');
            continue;
        }
        let mut fields = Vec::with_capacity(cells.len());
        for (j, cell) in cells.iter().enumerate() {
            let col = first_col as usize + j;
            match cell_text(cell) {
                Ok(text) => fields.push(text),
                Err((code, message, hint)) => {
                    count += 1;
                    if problems.len() < MAX_PROBLEMS {
                        let name = header.get(j).filter(|h| !h.is_empty());
                        let cell_ref = format!("{}{row}", column_letters(col));
                        problems.push(SheetProblem {
                            severity: "error",
                            code,
                            file: file.to_owned(),
                            row: Some(row),
                            column: Some(match name {
                                Some(name) => format!("{name} ({cell_ref})"),
                                None => cell_ref,
                            }),
                            message,
                            hint: hint.to_owned(),
                        });
                    }
                    fields.push(String::new());
                }
            }
        }
        if header.is_empty() {
            header = fields.iter().map(|f| f.trim().to_owned()).collect();
        }
        for (j, field) in fields.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_csv_field(&mut out, field);
        }
        out.push('\n');
    }
    if count > 0 {
        Err((problems, count))
    } else {
        Ok(out)
    }
}

type CellProblem = (&'static str, String, &'static str);

/// A cell's text as a CSV export would hold it.
fn cell_text(cell: &Data) -> Result<String, CellProblem> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Bool(b) => b.to_string(),
        Data::Int(i) => {
            if i.unsigned_abs() >= 1_000_000_000_000_000 {
                return Err(long_number(&i.to_string()));
            }
            i.to_string()
        }
        Data::Float(f) => number_text(*f)?,
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, _ms) = dt.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
            }
        }
        // A duration: its number of days, as the cell holds it.
        Data::DateTime(dt) => number_text(dt.as_f64())?,
        Data::Error(e) => {
            return Err((
                "cell-error",
                format!("the cell holds the error {e}, not a value"),
                "fix the formula (or type the value) in the workbook, or leave the cell empty",
            ))
        }
    })
}

fn long_number(shown: &str) -> CellProblem {
    (
        "imprecise-number",
        format!(
            "the cell holds the number {shown}, which has more digits than a spreadsheet keeps \
             (15): its last digits may already be wrong"
        ),
        "format the column as Text and type the values again (or export the file as CSV from \
         the system it comes from)",
    )
}

/// A number as Excel's General format shows it: the shortest round-trip decimal, rounded to
/// 15 significant digits when it has more.
fn number_text(f: f64) -> Result<String, CellProblem> {
    if !f.is_finite() {
        return Err((
            "cell-error",
            format!("the cell holds {f}, not a number a spreadsheet can show"),
            "type the value again",
        ));
    }
    if f.fract() == 0.0 && f.abs() >= 1e15 {
        return Err(long_number(&format!("{f:e}")));
    }
    let shortest = format!("{f}");
    if significant_digits(&shortest) <= 15 {
        return Ok(shortest);
    }
    // Round to 15 significant digits (`d.dddddddddddddde±x`), then write it without exponent.
    let sci = format!("{f:.14e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exponent + 1; // digits before the decimal point
    let mut text = String::new();
    if negative {
        text.push('-');
    }
    if point <= 0 {
        text.push_str("0.");
        text.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
        text.push_str(&digits);
    } else if point as usize >= digits.len() {
        text.push_str(&digits);
        text.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        let (int, frac) = digits.split_at(point as usize);
        let _ = write!(text, "{int}.{frac}");
    }
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(trimmed);
    }
    Ok(text)
}

fn significant_digits(text: &str) -> usize {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let trimmed = digits.trim_start_matches('0');
    let trimmed = if text.contains('.') {
        trimmed
    } else {
        trimmed.trim_end_matches('0')
    };
    trimmed.len()
}

/// `A`, `B`, …, `Z`, `AA`, … for a 0-based column.
fn column_letters(mut col: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

fn push_csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// `xlsxToCsv(bytes, fileName)`: the first sheet of an `.xlsx` workbook as CSV text (see the
/// module's documentation for how cells are written). Give the result to `CostRun` or
/// `OptimizeJob.start` as `{ name: fileName, text }`: their diagnostics then name the sheet's
/// rows.
///
/// # Errors
/// An `Error` named `InputError` with `diagnostics` (file, row, column with the cell, message,
/// hint) and `errorCount`, as the core's own input errors.
#[wasm_bindgen(js_name = xlsxToCsv)]
pub fn xlsx_to_csv(bytes: &[u8], file_name: &str) -> Result<String, js_sys::Error> {
    first_sheet_csv(file_name, bytes).map_err(|(problems, count)| {
        let first = problems
            .first()
            .map(|p| match (p.row, &p.column) {
                (Some(row), Some(column)) => {
                    format!("{}, row {row}, column {column}: {}", p.file, p.message)
                }
                _ => p.message.clone(),
            })
            .unwrap_or_default();
        let more = if count > 1 {
            format!(" (and {} more)", count - 1)
        } else {
            String::new()
        };
        let error = js_sys::Error::new(&format!("{first}{more}"));
        error.set_name(INPUT_ERROR);
        let set = |key: &str, value: &JsValue| {
            let _ = js_sys::Reflect::set(&error, &JsValue::from_str(key), value);
        };
        set("code", &JsValue::from_str("invalid-input"));
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let list = problems
            .serialize(&serializer)
            .unwrap_or_else(|_| js_sys::Array::new().into());
        set("diagnostics", &list);
        set("errorCount", &JsValue::from_f64(count as f64));
        error
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn numbers_as_excel_shows_them() {
        let cases = [
            (2.1, "2.1"),
            (12.0, "12"),
            (0.1 + 0.2, "0.3"),
            (3.401696, "3.401696"),
            (-0.000125, "-0.000125"),
            (123456789012.5, "123456789012.5"),
            (1.0 / 3.0, "0.333333333333333"),
            (2.0 / 3.0 * 1000.0, "666.666666666667"),
            (1e-7 / 3.0, "0.0000000333333333333333"),
            (999999999999999.0, "999999999999999"),
        ];
        for (value, want) in cases {
            assert_eq!(number_text(value).expect("a number"), want, "{value:?}");
        }
        assert_eq!(
            number_text(8.901260260000001e18).unwrap_err().0,
            "imprecise-number"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn column_letters_count_like_a_spreadsheet() {
        for (col, want) in [
            (0, "A"),
            (1, "B"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (701, "ZZ"),
            (702, "AAA"),
        ] {
            assert_eq!(column_letters(col), want);
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fields_are_quoted_when_needed() {
        let mut out = String::new();
        for (i, f) in ["plain", "a,b", "say \"hi\"", "two\nlines"]
            .iter()
            .enumerate()
        {
            if i > 0 {
                out.push(',');
            }
            push_csv_field(&mut out, f);
        }
        assert_eq!(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn not_a_workbook_is_an_error_naming_the_file() {
        let (problems, count) = first_sheet_csv("sims.xlsx", b"iccid,usage_mb\n1,2\n").unwrap_err();
        assert_eq!(count, 1);
        assert_eq!(problems[0].code, "unreadable-file");
        assert!(
            problems[0].message.starts_with("sims.xlsx cannot be read"),
            "{}",
            problems[0].message
        );
    }
}
