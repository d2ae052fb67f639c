//! The Excel report of DESIGN §6, built the same way by the command line (`--xlsx`), the browser
//! (`toXlsx()`) and the Worker (`?format=xlsx`).
//!
//! Sheets:
//!
//! * **Summary** — the account, the billing period and the run; the bill now and optimized, the
//!   savings, the lower bound and its gap, the changes; the cost per plan now and after with a
//!   chart of it; the diagnostics by kind.
//! * **Statistics** — per communication plan and rate plan, now and after: SIMs, usage,
//!   allowance, base, overage, SMS, total and average per SIM, with a subtotal per
//!   communication plan and a grand total.
//! * **Pools** — every shared pool now and after: SIMs, usage, allowance, usage over it, overage
//!   blocks and charge.
//! * **Assignments** — one row per SIM: ICCID, MSISDN, communication plan, usage, SMS, plan now
//!   and after, base, overage share, SMS charge, cost after and now, saving, and why it moves
//!   (the break-even usage between its old and new plan). Split over `Assignments 2`, ... past
//!   [`MAX_ROWS_PER_SHEET`] SIMs.
//! * **Changes** — only the SIMs that move, as a carrier's bulk change upload takes them:
//!   `ICCID`, `Rate Plan` (split like Assignments).
//! * **Diagnostics** — the data-quality warnings kept, when there are any.
//!
//! A report of the current bill (no optimization) has the same sheets without the "after"
//! columns and without Changes.
//!
//! Amounts are numbers with the currency's decimals, usage numbers in MB. Every totals row is a
//! `SUBTOTAL` formula over the lines, so a filter shows the total of what is visible (and a grand
//! total leaves the subtotals above it out): `SUBTOTAL(109, …)` on the per-SIM sheets, which also
//! leaves out rows hidden by hand, `SUBTOTAL(9, …)` on Statistics, Pools and Summary. Its cached
//! value is the engine's own sum, exact to the cent. The same report gives the same bytes: the
//! document's date is the run's `as_of`, never the clock.
//!
//! rust_xlsxwriter writes every sheet but the SIM rows of the per-SIM sheets, which simopt
//! streams into its package itself (`package`, `rows`): plain cells with inline strings,
//! compressed as they are written. A million SIMs take a few seconds and a few MB beyond the
//! bill, with the same bytes on every platform and at every size.

mod assignments;
mod diagnostics;
mod package;
mod rows;
mod statistics;
mod style;
mod summary;

use std::io;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};

use super::Report;
use style::Styles;

/// Rows of an Excel sheet.
const EXCEL_ROWS: u32 = 1_048_576;

/// The most SIM rows one Assignments or Changes sheet takes: Excel's row limit less the
/// totals and header rows.
pub const MAX_ROWS_PER_SHEET: u32 = EXCEL_ROWS - 2;

/// The default deflate level: about twice as fast as zip's usual 6 on a million-SIM workbook,
/// for a file about a fifth larger.
pub const DEFAULT_COMPRESSION: u8 = 2;

/// How to write the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The account's name for the title (none: the title names no account).
    pub account_name: Option<String>,
    /// SIM rows per Assignments / Changes sheet, at most [`MAX_ROWS_PER_SHEET`] (larger values
    /// are taken as it); more SIMs continue on `Assignments 2`, ...
    pub rows_per_sheet: u32,
    /// Deflate level of the zip container, 1 (fastest) to 9 (smallest); values outside are
    /// taken as the nearest.
    pub compression_level: u8,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            account_name: None,
            rows_per_sheet: MAX_ROWS_PER_SHEET,
            compression_level: DEFAULT_COMPRESSION,
        }
    }
}

/// The report could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum XlsxError {
    /// The writer refused the workbook or could not write it out.
    #[error("cannot write the Excel report: {0}")]
    Write(String),
}

impl XlsxError {
    /// The stable code of the error.
    pub const fn code(&self) -> &'static str {
        match self {
            XlsxError::Write(_) => "xlsx-write",
        }
    }
}

impl From<rust_xlsxwriter::XlsxError> for XlsxError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        XlsxError::Write(e.to_string())
    }
}

/// Writes the Excel report of `report` to `out`.
///
/// # Errors
/// [`XlsxError`] when the workbook cannot be built or written (including the writer's errors).
pub fn write(out: impl io::Write, report: &Report<'_>, options: &Options) -> Result<(), XlsxError> {
    let level = options.compression_level.clamp(1, 9);
    let (mut workbook, streamed) = build(report, options, level)?;
    let mut laid_out = Vec::new();
    workbook.save_to_writer(&mut laid_out)?;
    drop(workbook);
    if report.source.is_some() {
        // Lines from a source are read on this thread (it may hold what threads cannot share).
        return package::assemble(out, &laid_out, &streamed, level, |sheet, styles, out| {
            Ok(assignments::write_rows(report, sheet, styles, out)?)
        });
    }
    // The fleet and bills in memory, which threads can share.
    let (fleet, current, optimization, warnings) = (
        report.fleet,
        report.current,
        report.optimization,
        report.warnings,
    );
    let rows = package::on_a_second_thread(move |sheet, styles, out| {
        let report = Report {
            fleet,
            current,
            optimization,
            warnings,
            source: None,
        };
        Ok(assignments::write_rows(&report, sheet, styles, out)?)
    });
    package::assemble(out, &laid_out, &streamed, level, rows)
}

/// The Excel report of `report` as bytes.
///
/// # Errors
/// [`XlsxError`] when the workbook cannot be built.
pub fn to_bytes(report: &Report<'_>, options: &Options) -> Result<Vec<u8>, XlsxError> {
    let mut bytes = Vec::new();
    write(&mut bytes, report, options)?;
    Ok(bytes)
}

/// Lays out every sheet, compressed at `level` (1 to 9); the per-SIM sheets' rows are left to
/// stream.
fn build(
    report: &Report<'_>,
    options: &Options,
    level: u8,
) -> Result<(Workbook, Vec<package::Streamed<assignments::Lines>>), XlsxError> {
    let mut workbook = Workbook::new();
    workbook.set_properties(&properties(report, options)?);
    workbook.set_zip_compression_level(level);
    let styles = Styles::new(report.fleet.settings.currency_decimals);
    let per_sheet = options.rows_per_sheet.clamp(1, MAX_ROWS_PER_SHEET);

    // What the layout needs of the lines, in one walk over them (from a line source, a walk
    // reads every stored chunk): the statistics, each Assignments sheet's sums, the changes.
    let mut stats = statistics::Aggregates::new(report);
    let mut sums =
        vec![assignments::Sums::default(); assignments::sheets(report.sim_count(), per_sheet)];
    let (mut at, mut changes) = (0, 0);
    report.each_sim_line(&mut |line| {
        stats.add(line);
        sums[at / per_sheet as usize].add(line);
        changes += usize::from(line.changed());
        at += 1;
        Ok(())
    })?;

    summary::write(workbook.add_worksheet(), report, options, &styles)?;
    statistics::write_plans(workbook.add_worksheet(), report, &stats, &styles)?;
    statistics::write_pools(workbook.add_worksheet(), report, &styles)?;
    let mut streamed = Vec::new();
    assignments::write(
        &mut workbook,
        report,
        per_sheet,
        &sums,
        &styles,
        &mut streamed,
    )?;
    if report.optimization.is_some() {
        assignments::write_changes(&mut workbook, changes, per_sheet, &styles, &mut streamed)?;
    }
    if !report.warnings.counts.is_empty() {
        diagnostics::write(workbook.add_worksheet(), report, &styles)?;
    }
    Ok((workbook, streamed))
}

/// The document properties: title, subject, and the run's time as the creation date (so the
/// same run gives the same bytes).
fn properties(report: &Report<'_>, options: &Options) -> Result<DocProperties, XlsxError> {
    let s = &report.fleet.settings;
    let created = ExcelDateTime::from_timestamp(s.as_of)?;
    Ok(DocProperties::new()
        .set_title(title(report, options))
        .set_subject(format!(
            "Billing period {} to {} ({})",
            s.period.start_date,
            s.period.end_date,
            s.period.zone.name()
        ))
        .set_author("simopt")
        .set_comment("Written by simopt; amounts as the carrier bills them, to the cent.")
        .set_creation_datetime(&created))
}

impl Options {
    /// The default options with the account's name for the title (none: the title names no
    /// account).
    pub fn for_account(account_name: Option<&str>) -> Options {
        Options {
            account_name: account_name.map(str::to_owned),
            ..Options::default()
        }
    }

    /// The account's name as the report shows it: trimmed, none when blank.
    fn account(&self) -> Option<&str> {
        self.account_name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty())
    }
}

/// The report's title (the document's and the Summary sheet's): what it is, and the account's
/// name when there is one.
fn title(report: &Report<'_>, options: &Options) -> String {
    let what = if report.optimization.is_some() {
        "SIM plan optimization"
    } else {
        "SIM fleet bill"
    };
    match options.account() {
        Some(name) => format!("{what} — {name}"),
        None => what.to_owned(),
    }
}

/// A number as a cell holds it (a double) with the exact decimal text a formula caches for it.
#[derive(Debug, Clone, PartialEq)]
struct Num {
    value: f64,
    text: String,
}

impl Num {
    /// An amount: the nearest double to the exact decimal, and the decimal itself.
    fn money(m: crate::money::Money) -> Num {
        Num {
            value: m.to_f64(),
            text: m.to_string(),
        }
    }

    /// Bytes in MB: the double and the exact decimal.
    fn mb(bytes: crate::money::Bytes) -> Num {
        Num {
            value: bytes.to_mb_f64(),
            text: bytes.to_mb_string(),
        }
    }

    /// A count.
    fn count(n: u64) -> Num {
        Num {
            value: n as f64,
            text: n.to_string(),
        }
    }

    /// A computed ratio.
    fn ratio(value: f64) -> Num {
        Num {
            value,
            text: value.to_string(),
        }
    }
}

/// The A1 name of a cell (0-based row and column).
fn cell(row: u32, col: u16) -> String {
    rust_xlsxwriter::row_col_to_cell(row, col)
}

/// Print setup of every sheet: A4, one page wide, the sheet's name and the page number in the
/// footer.
fn print_a4(sheet: &mut rust_xlsxwriter::Worksheet) {
    sheet.set_paper_size(9); // A4
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_footer("&L&A&R&P / &N");
}

/// Print setup of a wide table: landscape, [`print_a4`], the header row (and the one above it)
/// on every page.
fn landscape(sheet: &mut rust_xlsxwriter::Worksheet, header_row: u32) -> Result<(), XlsxError> {
    sheet.set_landscape();
    print_a4(sheet);
    sheet.set_repeat_rows(header_row.saturating_sub(1), header_row)?;
    Ok(())
}

/// A cell holding `formula` (text after `=`) with `cached` as its result.
fn formula(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    formula: &str,
    cached: &Num,
    format: &rust_xlsxwriter::Format,
) -> Result<(), XlsxError> {
    let formula = rust_xlsxwriter::Formula::new(format!("={formula}")).set_result(&cached.text);
    sheet.write_formula_with_format(row, col, formula, format)?;
    Ok(())
}

/// A totals cell at `(row, col)`: `SUBTOTAL(function, column source over rows)` (0-based rows)
/// caching `total`, the engine's figure; the plain value when there are no rows. Every function
/// leaves out the rows a filter hides: 9 sums the rest, 109 sums those not hidden by hand
/// either, 103 counts the non-empty cells 109 would sum.
fn subtotal(
    sheet: &mut rust_xlsxwriter::Worksheet,
    (row, col): (u32, u16),
    function: u8,
    (source, rows): (u16, std::ops::RangeInclusive<u32>),
    total: &Num,
    format: &rust_xlsxwriter::Format,
) -> Result<(), XlsxError> {
    if rows.is_empty() {
        sheet.write_number_with_format(row, col, total.value, format)?;
        return Ok(());
    }
    let range = rust_xlsxwriter::cell_range(*rows.start(), source, *rows.end(), source);
    formula(
        sheet,
        row,
        col,
        &format!("SUBTOTAL({function},{range})"),
        total,
        format,
    )
}
