//! The per-SIM sheets: Assignments (every SIM) and Changes (the SIMs that move, as a carrier's
//! bulk change upload takes them). Written row by row, so the writer's constant-memory mode can
//! stream them; split over several sheets past the row limit.

use rust_xlsxwriter::{Workbook, Worksheet};

use super::statistics::landscape;
use super::style::Styles;
use super::{subtotal, Num, XlsxError};
use crate::money::{Bytes, Money};
use crate::report::{Report, SimLine};

/// What a column of the Assignments sheet shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
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

/// A new sheet: streamed through a temporary file when `low_memory` (native builds only).
///
/// # Errors
/// When the temporary file cannot be made.
fn add_sheet(workbook: &mut Workbook, low_memory: bool) -> Result<&mut Worksheet, XlsxError> {
    #[cfg(not(target_arch = "wasm32"))]
    if low_memory {
        return Ok(workbook.add_worksheet_with_constant_memory()?);
    }
    let _ = low_memory;
    Ok(workbook.add_worksheet())
}

/// `Name`, then `Name 2`, `Name 3`... for the sheets a long list continues on.
fn sheet_name(name: &str, part: usize) -> String {
    if part == 0 {
        name.to_owned()
    } else {
        format!("{name} {}", part + 1)
    }
}

/// The sums of a run of SIM lines.
#[derive(Debug, Default)]
struct Sums {
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
    fn of<'a>(lines: impl Iterator<Item = SimLine<'a>>) -> Sums {
        let mut s = Sums::default();
        for line in lines {
            s.sims += 1;
            s.usage += line.sim.usage;
            s.sms_count += line.sim.sms_count;
            s.base += line.charge.base;
            s.overage += line.charge.overage;
            s.sms += line.charge.sms;
            s.cost += line.cost();
            s.cost_now += line.current_cost;
        }
        s
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

/// The Assignments sheet(s): one row per SIM, `per_sheet` rows a sheet.
pub(super) fn write(
    workbook: &mut Workbook,
    report: &Report<'_>,
    per_sheet: u32,
    low_memory: bool,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let fleet = report.fleet;
    let columns: &[(Field, &str, f64)] = if report.optimization.is_some() {
        &OPTIMIZED
    } else {
        &CURRENT
    };
    let last_col = columns.len() as u16 - 1;
    let sims = fleet.sims.len();
    let per_sheet = per_sheet as usize;
    let parts = sims.div_ceil(per_sheet).max(1);
    for part in 0..parts {
        let range = part * per_sheet..((part + 1) * per_sheet).min(sims);
        let sheet = add_sheet(workbook, low_memory)?;
        sheet.set_name(sheet_name("Assignments", part))?;
        for (col, (_, _, width)) in columns.iter().enumerate() {
            sheet.set_column_width(col as u16, *width)?;
        }
        let rows = range.len() as u32;
        let data = FIRST_ROW..=FIRST_ROW + rows - 1;

        // The totals row first (constant-memory mode writes rows in order): sums of this sheet.
        let sums = Sums::of(range.clone().map(|i| SimLine::of(report, i)));
        let t = &styles.total;
        sheet.write_string_with_format(TOTALS_ROW, 0, "Total", &t.label)?;
        for (col, (field, _, _)) in columns.iter().enumerate().skip(1) {
            let col = col as u16;
            match (field, sums.of_field(*field)) {
                (Field::Msisdn, _) => {
                    // The SIMs shown: COUNTA of the visible ICCIDs.
                    let sims_format = t.count.clone().set_num_format("#,##0\" SIMs\"");
                    let count = Num::count(sums.sims);
                    let data = *data.start()..=*data.end();
                    // SUBTOTAL over column A (the ICCIDs), written in this column.
                    counta(sheet, col, data, &count, &sims_format)?;
                }
                (Field::Usage, Some(value)) => {
                    subtotal(sheet, (TOTALS_ROW, col), 109, data.clone(), &value, &t.mb)?;
                }
                (Field::SmsCount, Some(value)) => {
                    subtotal(
                        sheet,
                        (TOTALS_ROW, col),
                        109,
                        data.clone(),
                        &value,
                        &t.count,
                    )?;
                }
                (_, Some(value)) => {
                    subtotal(
                        sheet,
                        (TOTALS_ROW, col),
                        109,
                        data.clone(),
                        &value,
                        &t.money,
                    )?;
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

        let mut why = String::new();
        for (row, index) in (FIRST_ROW..).zip(range) {
            let line = SimLine::of(report, index);
            for (col, (field, _, _)) in columns.iter().enumerate() {
                let col = col as u16;
                match field {
                    Field::Iccid => {
                        sheet.write_string(row, col, &*line.sim.iccid)?;
                    }
                    Field::Msisdn => {
                        if let Some(msisdn) = &line.sim.msisdn {
                            sheet.write_string(row, col, &**msisdn)?;
                        }
                    }
                    Field::CommPlan => {
                        if !line.comm_plan.is_empty() {
                            sheet.write_string(row, col, line.comm_plan)?;
                        }
                    }
                    Field::Usage => {
                        let value = Num::mb(line.sim.usage).value;
                        sheet.write_number_with_format(row, col, value, &styles.mb)?;
                    }
                    Field::SmsCount => {
                        let value = line.sim.sms_count as f64;
                        sheet.write_number_with_format(row, col, value, &styles.count)?;
                    }
                    Field::CurrentPlan => {
                        sheet.write_string(row, col, &fleet.plan(line.current_plan).code)?;
                    }
                    Field::Plan => {
                        let code = &fleet.plan(line.plan).code;
                        if line.changed() {
                            sheet.write_string_with_format(row, col, code, &styles.text_changed)?;
                        } else {
                            sheet.write_string(row, col, code)?;
                        }
                    }
                    Field::Why => {
                        why.clear();
                        use std::fmt::Write as _;
                        let _ = write!(why, "{}", line.why(fleet));
                        if !why.is_empty() {
                            sheet.write_string_with_format(row, col, &why, &styles.why)?;
                        }
                    }
                    money_field => {
                        let amount = match money_field {
                            Field::Base => line.charge.base,
                            Field::Overage => line.charge.overage,
                            Field::Sms => line.charge.sms,
                            Field::Cost => line.cost(),
                            Field::CostNow => line.current_cost,
                            _ => line.saving(),
                        };
                        let value = Num::money(amount).value;
                        sheet.write_number_with_format(row, col, value, &styles.money)?;
                    }
                }
            }
        }
        sheet.autofilter(HEADER_ROW, 0, HEADER_ROW + rows, last_col)?;
        sheet.set_freeze_panes(FIRST_ROW, 1)?;
        landscape(sheet, HEADER_ROW)?;
    }
    Ok(())
}

/// The Changes sheet(s): `ICCID` and `Rate Plan` of every SIM that moves, `per_sheet` a sheet.
pub(super) fn write_changes(
    workbook: &mut Workbook,
    report: &Report<'_>,
    per_sheet: u32,
    low_memory: bool,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let fleet = report.fleet;
    let mut changes = report.lines().filter(SimLine::changed).peekable();
    let mut part = 0;
    loop {
        let sheet = add_sheet(workbook, low_memory)?;
        sheet.set_name(sheet_name("Changes", part))?;
        sheet.set_column_width(0, 24.0)?;
        sheet.set_column_width(1, 16.0)?;
        sheet.write_string_with_format(0, 0, "ICCID", &styles.header_left)?;
        sheet.write_string_with_format(0, 1, "Rate Plan", &styles.header_left)?;
        let mut rows = 0;
        while rows < per_sheet {
            let Some(line) = changes.next() else { break };
            rows += 1;
            sheet.write_string(rows, 0, &*line.sim.iccid)?;
            sheet.write_string(rows, 1, &fleet.plan(line.plan).code)?;
        }
        sheet.autofilter(0, 0, rows, 1)?;
        sheet.set_freeze_panes(1, 0)?;
        sheet.set_repeat_rows(0, 0)?;
        if changes.peek().is_none() {
            return Ok(());
        }
        part += 1;
    }
}

/// `SUBTOTAL(103, the ICCIDs)` (how many rows are visible) in the totals row.
fn counta(
    sheet: &mut Worksheet,
    col: u16,
    rows: std::ops::RangeInclusive<u32>,
    count: &Num,
    format: &rust_xlsxwriter::Format,
) -> Result<(), XlsxError> {
    if rows.is_empty() {
        sheet.write_number_with_format(TOTALS_ROW, col, count.value, format)?;
        return Ok(());
    }
    let range = rust_xlsxwriter::cell_range(*rows.start(), 0, *rows.end(), 0);
    super::formula(
        sheet,
        TOTALS_ROW,
        col,
        &format!("SUBTOTAL(103,{range})"),
        count,
        format,
    )
}
