//! The per-SIM sheets: Assignments (every SIM) and Changes (the SIMs that move, as a carrier's
//! bulk change upload takes them), split over several sheets past the row limit.
//!
//! rust_xlsxwriter lays each sheet out (widths, totals and header rows, frozen panes,
//! autofilter, print setup) with a probe row of blank cells in the formats of the SIM rows;
//! [`write_rows`] then streams the SIM rows themselves into the package ([`super::package`]).

use std::io::{self, Write};
use std::ops::Range;

use rust_xlsxwriter::{Workbook, Worksheet};

use super::package::Streamed;
use super::rows::Rows;
use super::style::Styles;
use super::{landscape, subtotal, Num, XlsxError};
use crate::money::{Bytes, Money};
use crate::report::{Report, SimLine};

/// What a column of the Assignments sheet shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Iccid,
    Msisdn,
    CommPlan,
    Usage,
    SmsCount,
    CurrentPlan,
    Plan,
    Base,
    Overage,
    Sms,
    Cost,
    CostNow,
    Saving,
    Why,
}

/// The columns of an optimization's Assignments sheet: field, header, width.
const OPTIMIZED: [(Field, &str, f64); 14] = [
    (Field::Iccid, "ICCID", 22.0),
    (Field::Msisdn, "MSISDN", 14.0),
    (Field::CommPlan, "Comm. plan", 13.0),
    (Field::CurrentPlan, "Current plan", 11.0),
    (Field::Plan, "New plan", 11.0),
    (Field::Usage, "Usage MB", 11.0),
    (Field::SmsCount, "SMS count", 9.0),
    (Field::Base, "Base", 10.0),
    (Field::Overage, "Overage", 10.0),
    (Field::Sms, "SMS", 9.0),
    (Field::Cost, "New cost", 11.0),
    (Field::CostNow, "Cost now", 11.0),
    (Field::Saving, "Saving", 10.0),
    (Field::Why, "Why", 60.0),
];

/// The columns of a current bill's Assignments sheet.
const CURRENT: [(Field, &str, f64); 10] = [
    (Field::Iccid, "ICCID", 22.0),
    (Field::Msisdn, "MSISDN", 14.0),
    (Field::CommPlan, "Comm. plan", 13.0),
    (Field::Plan, "Plan", 11.0),
    (Field::Usage, "Usage MB", 11.0),
    (Field::SmsCount, "SMS count", 9.0),
    (Field::Base, "Base", 10.0),
    (Field::Overage, "Overage", 10.0),
    (Field::Sms, "SMS", 9.0),
    (Field::Cost, "Cost", 11.0),
];

const TOTALS_ROW: u32 = 0;
const HEADER_ROW: u32 = 1;
const FIRST_ROW: u32 = 2;

/// The SIM lines of a streamed sheet.
#[derive(Debug, Clone)]
pub(super) enum Lines {
    /// SIMs `range` on Assignments, with these columns.
    Assignments {
        range: Range<usize>,
        columns: &'static [(Field, &'static str, f64)],
    },
    /// The SIMs that move, after the first `skip` of them, on Changes.
    Changes { skip: usize },
}

/// A new sheet and its 1-based position.
fn add_sheet(workbook: &mut Workbook) -> (usize, &mut Worksheet) {
    let index = workbook.worksheets().len() + 1;
    (index, workbook.add_worksheet())
}

/// `Name`, then `Name 2`, `Name 3`... for the sheets a long list continues on.
fn sheet_name(name: &str, part: usize) -> String {
    if part == 0 {
        name.to_owned()
    } else {
        format!("{name} {}", part + 1)
    }
}

/// The sums of a run of SIM lines (an Assignments sheet's).
#[derive(Debug, Default, Clone)]
pub(super) struct Sums {
    sims: u64,
    usage: Bytes,
    sms_count: u64,
    base: Money,
    overage: Money,
    sms: Money,
    cost: Money,
    cost_now: Money,
}

impl Sums {
    /// Counts one SIM's line in.
    pub fn add(&mut self, line: &SimLine<'_>) {
        self.sims += 1;
        self.usage += line.sim.usage;
        self.sms_count += u64::from(line.sim.sms_count);
        self.base += line.charge.base;
        self.overage += line.charge.overage;
        self.sms += line.charge.sms;
        self.cost += line.cost();
        self.cost_now += line.current_cost();
    }

    fn of_field(&self, field: Field) -> Option<Num> {
        Some(match field {
            Field::Usage => Num::mb(self.usage),
            Field::SmsCount => Num::count(self.sms_count),
            Field::Base => Num::money(self.base),
            Field::Overage => Num::money(self.overage),
            Field::Sms => Num::money(self.sms),
            Field::Cost => Num::money(self.cost),
            Field::CostNow => Num::money(self.cost_now),
            Field::Saving => Num::money(self.cost_now - self.cost),
            _ => return None,
        })
    }
}

/// How many Assignments sheets `sims` SIMs take, `per_sheet` a sheet (one, even empty).
pub(super) fn sheets(sims: usize, per_sheet: u32) -> usize {
    sims.div_ceil(per_sheet as usize).max(1)
}

/// Lays out the Assignments sheet(s), `per_sheet` SIMs a sheet, with the sums of each sheet's
/// SIMs (`sums`, a sheet's at its index), and adds them to `streamed`.
pub(super) fn write(
    workbook: &mut Workbook,
    report: &Report<'_>,
    per_sheet: u32,
    sums: &[Sums],
    styles: &Styles,
    streamed: &mut Vec<Streamed<Lines>>,
) -> Result<(), XlsxError> {
    let columns: &'static [(Field, &str, f64)] = if report.optimization.is_some() {
        &OPTIMIZED
    } else {
        &CURRENT
    };
    let last_col = columns.len() as u16 - 1;
    let sims = report.sim_count();
    let parts = sheets(sims, per_sheet);
    let per_sheet = per_sheet as usize;
    for part in 0..parts {
        let range = part * per_sheet..((part + 1) * per_sheet).min(sims);
        let (index, sheet) = add_sheet(workbook);
        sheet.set_name(sheet_name("Assignments", part))?;
        for (col, (_, _, width)) in columns.iter().enumerate() {
            sheet.set_column_width(col as u16, *width)?;
        }
        let rows = range.len() as u32;
        let data = FIRST_ROW..=FIRST_ROW + rows - 1;

        // The totals row: the sums of this sheet's SIMs.
        let sums = &sums[part];
        let t = &styles.total;
        sheet.write_string_with_format(TOTALS_ROW, 0, "Total", &t.label)?;
        for (col, (field, _, _)) in columns.iter().enumerate().skip(1) {
            let col = col as u16;
            match (field, sums.of_field(*field)) {
                (Field::Msisdn, _) => {
                    // The SIMs shown: COUNTA of the visible ICCIDs (column A), in this column.
                    let sims_format = t.count.clone().set_num_format("#,##0\" SIMs\"");
                    let count = Num::count(sums.sims);
                    let over = (0, data.clone());
                    subtotal(sheet, (TOTALS_ROW, col), 103, over, &count, &sims_format)?;
                }
                (field, Some(value)) => {
                    let format = match field {
                        Field::Usage => &t.mb,
                        Field::SmsCount => &t.count,
                        _ => &t.money,
                    };
                    let over = (col, data.clone());
                    subtotal(sheet, (TOTALS_ROW, col), 109, over, &value, format)?;
                }
                (_, None) => {
                    sheet.write_blank(TOTALS_ROW, col, &t.blank)?;
                }
            }
        }
        for (col, (field, header, _)) in columns.iter().enumerate() {
            let format = match field {
                Field::Iccid
                | Field::Msisdn
                | Field::CommPlan
                | Field::CurrentPlan
                | Field::Plan => &styles.header_left,
                Field::Why => &styles.header_why,
                _ => &styles.header,
            };
            sheet.write_string_with_format(HEADER_ROW, col as u16, *header, format)?;
        }
        sheet.set_row_height(HEADER_ROW, 30)?;

        // The probe row: the formats of the SIM rows, in the order `write_rows` takes them.
        for (col, format) in [
            &styles.mb,
            &styles.count,
            &styles.money,
            &styles.text_changed,
            &styles.why,
        ]
        .into_iter()
        .enumerate()
        {
            sheet.write_blank(FIRST_ROW, col as u16, format)?;
        }
        sheet.autofilter(HEADER_ROW, 0, HEADER_ROW + rows, last_col)?;
        sheet.set_freeze_panes(FIRST_ROW, 1)?;
        landscape(sheet, HEADER_ROW)?;
        streamed.push(Streamed {
            index,
            first_row: FIRST_ROW,
            rows,
            probe: true,
            lines: Lines::Assignments {
                range: range.clone(),
                columns,
            },
        });
    }
    Ok(())
}

/// Lays out the Changes sheet(s) (`ICCID` and `Rate Plan` of each of the `changes` SIMs that
/// move), `per_sheet` a sheet, and adds them to `streamed`.
pub(super) fn write_changes(
    workbook: &mut Workbook,
    changes: usize,
    per_sheet: u32,
    styles: &Styles,
    streamed: &mut Vec<Streamed<Lines>>,
) -> Result<(), XlsxError> {
    let per_sheet = per_sheet as usize;
    for part in 0..changes.div_ceil(per_sheet).max(1) {
        let skip = part * per_sheet;
        let rows = (changes - skip).min(per_sheet) as u32;
        let (index, sheet) = add_sheet(workbook);
        sheet.set_name(sheet_name("Changes", part))?;
        sheet.set_column_width(0, 24.0)?;
        sheet.set_column_width(1, 16.0)?;
        sheet.write_string_with_format(0, 0, "ICCID", &styles.header_left)?;
        sheet.write_string_with_format(0, 1, "Rate Plan", &styles.header_left)?;
        sheet.autofilter(0, 0, rows, 1)?;
        sheet.set_freeze_panes(1, 0)?;
        sheet.set_repeat_rows(0, 0)?;
        streamed.push(Streamed {
            index,
            first_row: 1,
            rows,
            probe: false,
            lines: Lines::Changes { skip },
        });
    }
    Ok(())
}

/// Streams the SIM rows of `sheet` to `out`; `styles` are the style numbers of the probe row.
///
/// # Errors
/// When `out` refuses the bytes.
pub(super) fn write_rows(
    report: &Report<'_>,
    sheet: &Streamed<Lines>,
    styles: &[u32],
    out: &mut dyn Write,
) -> io::Result<()> {
    let fleet = report.fleet;
    let mut rows = Rows::new(out);
    match &sheet.lines {
        Lines::Changes { skip } => {
            let (mut row, end, mut skip) = (sheet.first_row, sheet.first_row + sheet.rows, *skip);
            report.each_sim_line(&mut |line| {
                if !line.changed() || row == end {
                    return Ok(());
                }
                if skip > 0 {
                    skip -= 1;
                    return Ok(());
                }
                rows.start(row);
                rows.text(0, 0, &line.sim.iccid);
                rows.text(1, 0, &fleet.plan(line.plan).code);
                row += 1;
                rows.end()
            })?;
        }
        Lines::Assignments { range, columns } => {
            let style = |i: usize| styles.get(i).copied().unwrap_or(0);
            let (mb, count, money, changed, why_style) =
                (style(0), style(1), style(2), style(3), style(4));
            let mut why = String::new();
            let mut row = sheet.first_row;
            report.each_line(range.clone(), &mut |line| {
                rows.start(row);
                row += 1;
                for (col, (field, _, _)) in columns.iter().enumerate() {
                    let col = col as u16;
                    match field {
                        Field::Iccid => rows.text(col, 0, &line.sim.iccid),
                        Field::Msisdn => {
                            if let Some(msisdn) = &line.sim.msisdn {
                                rows.text(col, 0, msisdn);
                            }
                        }
                        Field::CommPlan => {
                            if !line.comm_plan.is_empty() {
                                rows.text(col, 0, line.comm_plan);
                            }
                        }
                        Field::Usage => rows.number(col, mb, line.sim.usage.to_mb_f64()),
                        Field::SmsCount => rows.number(col, count, line.sim.sms_count as f64),
                        Field::CurrentPlan => {
                            rows.text(col, 0, &fleet.plan(line.current_plan).code);
                        }
                        Field::Plan => {
                            let style = if line.changed() { changed } else { 0 };
                            rows.text(col, style, &fleet.plan(line.plan).code);
                        }
                        Field::Why => {
                            why.clear();
                            use std::fmt::Write as _;
                            let _ = write!(why, "{}", line.why(fleet));
                            if !why.is_empty() {
                                rows.text(col, why_style, &why);
                            }
                        }
                        money_field => {
                            let amount = match money_field {
                                Field::Base => line.charge.base,
                                Field::Overage => line.charge.overage,
                                Field::Sms => line.charge.sms,
                                Field::Cost => line.cost(),
                                Field::CostNow => line.current_cost(),
                                _ => line.saving(),
                            };
                            rows.number(col, money, amount.to_f64());
                        }
                    }
                }
                rows.end()
            })?;
        }
    }
    rows.finish()
}
