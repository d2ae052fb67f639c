//! The Statistics sheet (per communication plan and rate plan, now and after) and the Pools
//! sheet (every shared pool, now and after).

use rust_xlsxwriter::Worksheet;

use super::style::{Styles, Totals};
use super::{cell, formula, landscape, subtotal, Num, XlsxError};
use crate::cost::{PlanTotals, PoolTotals};
use crate::fleet::PlanId;
use crate::report::{Report, SimLine};

/// The bill summed per (communication plan, plan), now and after. SIMs without a
/// communication plan form the last group.
pub(super) struct Aggregates {
    /// Group names: the fleet's communication plans, then "(none)" if any SIM has none.
    pub groups: Vec<String>,
    plans: usize,
    /// The group of SIMs without a communication plan: after the fleet's.
    none: usize,
    now: Vec<PlanTotals>,
    after: Option<Vec<PlanTotals>>,
}

impl Aggregates {
    /// Nothing summed yet, for `report`'s fleet (its lines are [`Aggregates::add`]ed).
    pub fn new(report: &Report<'_>) -> Self {
        let fleet = report.fleet;
        let plans = fleet.plans.len();
        let cells = || vec![PlanTotals::default(); (fleet.comm_plans.len() + 1) * plans];
        Aggregates {
            groups: fleet.comm_plans.clone(),
            plans,
            none: fleet.comm_plans.len(),
            now: cells(),
            after: report.optimization.map(|_| cells()),
        }
    }

    /// Counts one SIM's line in.
    pub fn add(&mut self, line: &SimLine<'_>) {
        let group = line.sim.comm_plan.map_or(self.none, |c| c.0 as usize);
        if group == self.none && self.groups.len() == self.none {
            self.groups.push("(none)".to_owned());
        }
        self.now[group * self.plans + line.current_plan.0 as usize]
            .add_line(line.sim, &line.current);
        if let Some(after) = &mut self.after {
            after[group * self.plans + line.plan.0 as usize].add_line(line.sim, &line.charge);
        }
    }

    /// The sides shown: now, and after an optimization.
    fn sides(&self) -> Vec<&[PlanTotals]> {
        let mut sides = vec![self.now.as_slice()];
        if let Some(after) = &self.after {
            sides.push(after);
        }
        sides
    }
}

/// The columns before the sides' blocks on the Statistics sheet.
const PLAN_COLUMNS: [&str; 4] = ["Comm. plan", "Plan", "Name", "Pool"];
/// Columns of one side's block on the Statistics sheet: header, width.
const SIDE_HEADERS: [(&str, f64); 8] = [
    ("SIMs", 9.0),
    ("Usage MB", 12.0),
    ("Allowance MB", 13.0),
    ("Base", 11.0),
    ("Overage", 11.0),
    ("SMS", 10.0),
    ("Total", 12.0),
    ("Per SIM", 10.0),
];
const FIRST_SIDE_COL: u16 = PLAN_COLUMNS.len() as u16;
const HEADER_ROW: u32 = 4;

/// The two header rows of a table with a block of columns per side after the `left` ones:
/// each side's name (`Now`, then `Optimized`) over its block, then the column headers, with a
/// `Saving` column after the blocks when there are two sides. Sets the widths of the blocks and
/// of Saving (the caller sets the left columns'). Returns the Saving column (one past the
/// blocks) and the table's last column.
///
/// Mind the order of the writes: the workbook numbers its styles in the order formats are first
/// used (group, then header_left, then header here), and the golden workbooks pin the numbers.
fn side_headers(
    sheet: &mut Worksheet,
    left: &[&str],
    block: &[(&str, f64)],
    sides: usize,
    styles: &Styles,
) -> Result<(u16, u16), XlsxError> {
    let first_side = left.len() as u16;
    let width = block.len() as u16;
    let saving_col = first_side + width * sides as u16;
    for side in 0..sides as u16 {
        for (k, (_, w)) in block.iter().enumerate() {
            sheet.set_column_width(first_side + side * width + k as u16, *w)?;
        }
    }
    for col in 0..first_side {
        sheet.write_blank(HEADER_ROW - 1, col, &styles.group)?;
    }
    for (side, name) in ["Now", "Optimized"].iter().take(sides).enumerate() {
        let first = first_side + side as u16 * width;
        sheet.merge_range(
            HEADER_ROW - 1,
            first,
            HEADER_ROW - 1,
            first + width - 1,
            name,
            &styles.group,
        )?;
    }
    for (col, name) in left.iter().enumerate() {
        sheet.write_string_with_format(HEADER_ROW, col as u16, *name, &styles.header_left)?;
    }
    for side in 0..sides as u16 {
        for (k, (name, _)) in block.iter().enumerate() {
            let col = first_side + side * width + k as u16;
            sheet.write_string_with_format(HEADER_ROW, col, *name, &styles.header)?;
        }
    }
    let mut last_col = saving_col - 1;
    if sides > 1 {
        sheet.write_blank(HEADER_ROW - 1, saving_col, &styles.group)?;
        sheet.write_string_with_format(HEADER_ROW, saving_col, "Saving", &styles.header)?;
        sheet.set_column_width(saving_col, 12.0)?;
        last_col = saving_col;
    }
    sheet.set_row_height(HEADER_ROW, 30)?;
    Ok((saving_col, last_col))
}

/// The Statistics sheet.
pub(super) fn write_plans(
    sheet: &mut Worksheet,
    report: &Report<'_>,
    stats: &Aggregates,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let fleet = report.fleet;
    let sides = stats.sides();
    let width = SIDE_HEADERS.len() as u16;
    let optimized = sides.len() > 1;

    sheet.set_name("Statistics")?;
    sheet.write_string_with_format(
        0,
        0,
        "Cost per communication plan and rate plan",
        &styles.title,
    )?;
    sheet.write_string_with_format(
        1,
        0,
        "Amounts in the account's currency; usage and allowance in MB as billed. Subtotals and \
         totals count the rows a filter shows.",
        &styles.note,
    )?;
    for (col, width) in [(0, 16.0), (1, 12.0), (2, 24.0), (3, 12.0)] {
        sheet.set_column_width(col, width)?;
    }
    let (saving_col, last_col) =
        side_headers(sheet, &PLAN_COLUMNS, &SIDE_HEADERS, sides.len(), styles)?;

    let mut row = HEADER_ROW + 1;
    let first_data = row;
    let mut grand: Vec<PlanTotals> = vec![PlanTotals::default(); sides.len()];
    for (group, name) in stats.groups.iter().enumerate() {
        let group_first = row;
        let mut group_totals: Vec<PlanTotals> = vec![PlanTotals::default(); sides.len()];
        for plan in 0..stats.plans {
            let cells: Vec<&PlanTotals> = sides
                .iter()
                .map(|side| &side[group * stats.plans + plan])
                .collect();
            if cells.iter().all(|t| t.sims == 0) {
                continue;
            }
            let p = &fleet.plans[plan];
            sheet.write_string(row, 0, name)?;
            sheet.write_string(row, 1, &p.code)?;
            sheet.write_string(row, 2, &p.name)?;
            if let Some(pool) = crate::cost::pool_of(fleet, PlanId(plan as u32)) {
                sheet.write_string(row, 3, &fleet.pools[pool.0 as usize].name)?;
            }
            for (side, t) in cells.iter().enumerate() {
                let col = FIRST_SIDE_COL + side as u16 * width;
                write_side(sheet, row, col, t, styles)?;
                group_totals[side].add(t);
            }
            if optimized {
                let saving = cells[0].total() - cells[1].total();
                let cols = (FIRST_SIDE_COL + 6, FIRST_SIDE_COL + width + 6);
                saving_cell(sheet, (row, saving_col), cols, saving, &styles.money)?;
            }
            row += 1;
        }
        if row == group_first {
            continue;
        }
        let (label, style) = if stats.groups.len() > 1 {
            ("Subtotal", &styles.subtotal)
        } else {
            ("Total", &styles.total)
        };
        totals_row(
            sheet,
            (row, label, name),
            group_first..=row - 1,
            &group_totals,
            saving_col,
            style,
        )?;
        for (g, t) in grand.iter_mut().zip(&group_totals) {
            g.add(t);
        }
        row += 1;
    }
    // The filter takes the groups (a filtered group keeps its subtotal: it names the group);
    // the grand total stays below it.
    sheet.autofilter(HEADER_ROW, 0, row - 1, last_col)?;
    if stats.groups.len() > 1 && row > first_data {
        totals_row(
            sheet,
            (row, "Total", "All"),
            first_data..=row - 1,
            &grand,
            saving_col,
            &styles.total,
        )?;
    }
    sheet.set_freeze_panes(HEADER_ROW + 1, 2)?;
    landscape(sheet, HEADER_ROW)?;
    Ok(())
}

/// One side's block of a data row.
fn write_side(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    t: &PlanTotals,
    styles: &Styles,
) -> Result<(), XlsxError> {
    if t.sims == 0 {
        return Ok(());
    }
    sheet.write_number_with_format(row, col, t.sims as f64, &styles.count)?;
    sheet.write_number_with_format(row, col + 1, t.usage.to_mb_f64(), &styles.mb)?;
    sheet.write_number_with_format(row, col + 2, t.allowance.to_mb_f64(), &styles.mb)?;
    for (k, m) in [t.base, t.overage, t.sms, t.total()]
        .into_iter()
        .enumerate()
    {
        sheet.write_number_with_format(row, col + 3 + k as u16, m.to_f64(), &styles.money)?;
    }
    per_sim(sheet, row, col, t, &styles.money)
}

/// `Per SIM`: the total over the SIMs, as a formula.
fn per_sim(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    t: &PlanTotals,
    format: &rust_xlsxwriter::Format,
) -> Result<(), XlsxError> {
    let sims = cell(row, col);
    let total = cell(row, col + 6);
    let average = if t.sims == 0 {
        0.0
    } else {
        t.total().to_f64() / t.sims as f64
    };
    formula(
        sheet,
        row,
        col + 7,
        &format!("IF({sims}=0,0,{total}/{sims})"),
        &Num::ratio(average),
        format,
    )
}

/// A subtotal or total row: `SUBTOTAL(9, …)` per column over `rows`, caching `totals`.
fn totals_row(
    sheet: &mut Worksheet,
    (row, label, group): (u32, &str, &str),
    rows: std::ops::RangeInclusive<u32>,
    totals: &[PlanTotals],
    saving_col: u16,
    style: &Totals,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(row, 0, group, &style.label)?;
    sheet.write_string_with_format(row, 1, label, &style.label)?;
    sheet.write_blank(row, 2, &style.blank)?;
    sheet.write_blank(row, 3, &style.blank)?;
    let width = SIDE_HEADERS.len() as u16;
    for (side, t) in totals.iter().enumerate() {
        let col = FIRST_SIDE_COL + side as u16 * width;
        let values = [
            (Num::count(t.sims), &style.count),
            (Num::mb(t.usage), &style.mb),
            (Num::mb(t.allowance), &style.mb),
            (Num::money(t.base), &style.money),
            (Num::money(t.overage), &style.money),
            (Num::money(t.sms), &style.money),
            (Num::money(t.total()), &style.money),
        ];
        for (k, (value, format)) in values.iter().enumerate() {
            let col = col + k as u16;
            subtotal(sheet, (row, col), 9, (col, rows.clone()), value, format)?;
        }
        per_sim(sheet, row, col, t, &style.money)?;
    }
    if totals.len() > 1 {
        let saving = totals[0].total() - totals[1].total();
        subtotal(
            sheet,
            (row, saving_col),
            9,
            (saving_col, rows),
            &Num::money(saving),
            &style.money,
        )?;
    }
    Ok(())
}

/// `Saving`: the row's amount now (column `cols.0`) less after (`cols.1`), as a formula.
fn saving_cell(
    sheet: &mut Worksheet,
    (row, col): (u32, u16),
    cols: (u16, u16),
    saving: crate::money::Money,
    format: &rust_xlsxwriter::Format,
) -> Result<(), XlsxError> {
    let (now, after) = (cell(row, cols.0), cell(row, cols.1));
    formula(
        sheet,
        row,
        col,
        &format!("{now}-{after}"),
        &Num::money(saving),
        format,
    )
}

/// The columns before the sides' blocks on the Pools sheet.
const POOL_COLUMNS: [&str; 2] = ["Pool", "Plans"];
/// Columns of one side's block on the Pools sheet: header, width.
const POOL_HEADERS: [(&str, f64); 6] = [
    ("SIMs", 9.0),
    ("Usage MB", 12.0),
    ("Allowance MB", 13.0),
    ("Over MB", 11.0),
    ("Blocks", 9.0),
    ("Overage", 12.0),
];

/// The Pools sheet.
pub(super) fn write_pools(
    sheet: &mut Worksheet,
    report: &Report<'_>,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let fleet = report.fleet;
    sheet.set_name("Pools")?;
    sheet.write_string_with_format(0, 0, "Shared pools", &styles.title)?;
    sheet.write_string_with_format(
        1,
        0,
        "A pool's overage is billed on its SIMs' total usage beyond their total allowance, in \
         whole blocks, and shared by its SIMs in proportion to their own usage beyond their own \
         allowance.",
        &styles.note,
    )?;
    sheet.set_column_width(0, 16.0)?;
    sheet.set_column_width(1, 24.0)?;
    if fleet.pools.is_empty() {
        sheet.write_string(
            3,
            0,
            "No plan shares a pool: every SIM's overage is billed on its own usage.",
        )?;
        return Ok(());
    }
    let mut sides: Vec<&[PoolTotals]> = vec![&report.current.pools];
    if let Some(o) = report.optimization {
        sides.push(&o.bill.pools);
    }
    let width = POOL_HEADERS.len() as u16;
    let first_side = POOL_COLUMNS.len() as u16;
    let (saving_col, last_col) =
        side_headers(sheet, &POOL_COLUMNS, &POOL_HEADERS, sides.len(), styles)?;

    let first_data = HEADER_ROW + 1;
    let mut row = first_data;
    for (index, pool) in fleet.pools.iter().enumerate() {
        sheet.write_string(row, 0, &pool.name)?;
        let plans: Vec<&str> = pool
            .plans
            .iter()
            .map(|p| fleet.plan(*p).code.as_str())
            .collect();
        sheet.write_string(row, 1, plans.join(", "))?;
        for (side, totals) in sides.iter().enumerate() {
            let t = &totals[index];
            let col = first_side + side as u16 * width;
            sheet.write_number_with_format(row, col, t.sims as f64, &styles.count)?;
            sheet.write_number_with_format(row, col + 1, t.usage.to_mb_f64(), &styles.mb)?;
            sheet.write_number_with_format(row, col + 2, t.allowance.to_mb_f64(), &styles.mb)?;
            sheet.write_number_with_format(row, col + 3, t.excess.to_mb_f64(), &styles.mb)?;
            sheet.write_number_with_format(row, col + 4, t.blocks as f64, &styles.count)?;
            sheet.write_number_with_format(row, col + 5, t.overage.to_f64(), &styles.money)?;
        }
        if sides.len() > 1 {
            let saving = sides[0][index].overage - sides[1][index].overage;
            let cols = (first_side + 5, first_side + width + 5);
            saving_cell(sheet, (row, saving_col), cols, saving, &styles.money)?;
        }
        row += 1;
    }
    let rows = first_data..=row - 1;
    let style = &styles.total;
    sheet.write_string_with_format(row, 0, "Total", &style.label)?;
    sheet.write_blank(row, 1, &style.blank)?;
    for (side, totals) in sides.iter().enumerate() {
        let col = first_side + side as u16 * width;
        let sum = |f: &dyn Fn(&PoolTotals) -> u64| totals.iter().map(f).sum::<u64>();
        let sums = [
            (Num::count(sum(&|t| t.sims)), &style.count),
            (Num::mb(crate::money::Bytes(sum(&|t| t.usage.0))), &style.mb),
            (
                Num::mb(crate::money::Bytes(sum(&|t| t.allowance.0))),
                &style.mb,
            ),
            (
                Num::mb(crate::money::Bytes(sum(&|t| t.excess.0))),
                &style.mb,
            ),
        ];
        for (k, (value, format)) in sums.iter().enumerate() {
            let col = col + k as u16;
            subtotal(sheet, (row, col), 9, (col, rows.clone()), value, format)?;
        }
        // Blocks of different sizes do not add up.
        sheet.write_blank(row, col + 4, &style.blank)?;
        let overage: crate::money::Money = totals.iter().map(|t| t.overage).sum();
        subtotal(
            sheet,
            (row, col + 5),
            9,
            (col + 5, rows.clone()),
            &Num::money(overage),
            &style.money,
        )?;
    }
    if sides.len() > 1 {
        let now: crate::money::Money = sides[0].iter().map(|t| t.overage).sum();
        let after: crate::money::Money = sides[1].iter().map(|t| t.overage).sum();
        subtotal(
            sheet,
            (row, saving_col),
            9,
            (saving_col, rows),
            &Num::money(now - after),
            &style.money,
        )?;
    }
    sheet.autofilter(HEADER_ROW, 0, row - 1, last_col)?;
    sheet.set_freeze_panes(HEADER_ROW + 1, 1)?;
    landscape(sheet, HEADER_ROW)?;
    Ok(())
}
