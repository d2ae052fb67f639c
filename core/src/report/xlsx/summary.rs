//! The Summary sheet: what was run, the result in a few figures, the cost per plan with its
//! chart, and the diagnostics by kind.

use chrono::DateTime;
use rust_xlsxwriter::{
    Chart, ChartFormat, ChartLegendPosition, ChartSolidFill, Color, Format, FormatAlign, Worksheet,
};

use super::style::{Styles, AFTER_COLOR, NOW_COLOR};
use super::{cell, formula, print_a4, subtotal, title, Num, Options, XlsxError};
use crate::money::Money;
use crate::report::Report;

const LABEL_COL: u16 = 0;
const VALUE_COL: u16 = 1;
/// Where the chart's top left corner sits.
const CHART_AT: (u32, u16) = (3, 3);
const CHART_WIDTH: u32 = 600;
/// Up to this many plans the chart has columns; more get horizontal bars, one line each.
const COLUMN_CHART_PLANS: usize = 8;

/// The chart's height in pixels for `plans` plans.
fn chart_height(plans: usize) -> u32 {
    if plans <= COLUMN_CHART_PLANS {
        400
    } else {
        (90 + 26 * plans as u32).max(400)
    }
}

/// Plans on the chart: those with SIMs now or after.
fn charted_plans(report: &Report<'_>) -> usize {
    let after = report.optimization.map(|o| o.bill);
    (0..report.fleet.plans.len())
        .filter(|&i| report.current.plans[i].sims > 0 || after.is_some_and(|b| b.plans[i].sims > 0))
        .count()
}

/// The Summary sheet.
pub(super) fn write(
    sheet: &mut Worksheet,
    report: &Report<'_>,
    options: &Options,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let fleet = report.fleet;
    let s = &fleet.settings;
    sheet.set_name("Summary")?;
    sheet.set_active(true);
    sheet.set_screen_gridlines(false);
    for (col, width) in [(0, 26.0), (1, 44.0), (2, 2.0)] {
        sheet.set_column_width(col, width)?;
    }
    for col in 3..10 {
        sheet.set_column_width(col, 13.0)?;
    }

    sheet.write_string_with_format(0, 0, title(report, options), &styles.title)?;
    sheet.set_row_height(0, 28)?;
    sheet.write_string_with_format(
        1,
        0,
        format!(
            "Billing period {} to {} ({}) · run as of {}",
            local(report, s.period.start),
            local(report, s.period.end),
            s.period.zone.name(),
            local(report, s.as_of)
        ),
        &styles.subtitle,
    )?;

    let mut row = 3;
    section(sheet, row, "Result", 2, styles)?;
    row += 1;
    let left = |f: &Format| f.clone().set_align(FormatAlign::Left);
    let key_money = left(&styles.key_money);
    let key_saving = left(&styles.key_saving);
    let key_count = left(&styles.key_count);
    let key_percent = left(&styles.key_percent);
    let key_gap = left(&styles.key_gap);
    let key_text = left(&styles.key_text);
    let current = report.current.total();
    match report.optimization {
        Some(o) => {
            let summary = o.summary;
            let first = row;
            label(sheet, row, "Current bill", styles)?;
            number(sheet, row, current.to_f64(), &key_money)?;
            label(sheet, row + 1, "Optimized bill", styles)?;
            number(sheet, row + 1, o.bill.total().to_f64(), &key_money)?;
            label(sheet, row + 2, "Savings", styles)?;
            let (now, after) = (cell(first, VALUE_COL), cell(first + 1, VALUE_COL));
            formula(
                sheet,
                row + 2,
                VALUE_COL,
                &format!("{now}-{after}"),
                &Num::money(current - o.bill.total()),
                &key_saving,
            )?;
            label(sheet, row + 3, "Savings %", styles)?;
            let savings = cell(first + 2, VALUE_COL);
            let percent = if current == Money::ZERO {
                0.0
            } else {
                (current - o.bill.total()).to_f64() / current.to_f64()
            };
            formula(
                sheet,
                row + 3,
                VALUE_COL,
                &format!("IF({now}=0,0,{savings}/{now})"),
                &Num::ratio(percent),
                &key_percent,
            )?;
            label(sheet, row + 4, "Lower bound", styles)?;
            label(sheet, row + 5, "Gap to the bound", styles)?;
            match (summary.lower_bound, summary.gap) {
                (Some(bound), Some(gap)) => {
                    number(sheet, row + 4, bound.to_f64(), &key_money)?;
                    number(sheet, row + 5, gap, &key_gap)?;
                }
                _ => {
                    let text = "not computed (the time limit stopped the run first)";
                    sheet.write_string_with_format(row + 4, VALUE_COL, text, &key_text)?;
                    sheet.write_string_with_format(row + 5, VALUE_COL, "—", &key_text)?;
                }
            }
            label(sheet, row + 6, "SIMs", styles)?;
            number(sheet, row + 6, report.sim_count() as f64, &key_count)?;
            label(sheet, row + 7, "SIMs changing plan", styles)?;
            number(sheet, row + 7, summary.changes as f64, &key_count)?;
            label(sheet, row + 8, "SIMs locked to their plan", styles)?;
            number(sheet, row + 8, summary.locked_sims as f64, &key_count)?;
            row += 9;
        }
        None => {
            let bill = report.current;
            label(sheet, row, "Current bill", styles)?;
            number(sheet, row, current.to_f64(), &key_money)?;
            label(sheet, row + 1, "Rate charges", styles)?;
            number(sheet, row + 1, bill.base.to_f64(), &key_money)?;
            label(sheet, row + 2, "Overage", styles)?;
            number(sheet, row + 2, bill.overage.to_f64(), &key_money)?;
            label(sheet, row + 3, "SMS", styles)?;
            number(sheet, row + 3, bill.sms.to_f64(), &key_money)?;
            label(sheet, row + 4, "SIMs", styles)?;
            number(sheet, row + 4, report.sim_count() as f64, &key_count)?;
            row += 5;
        }
    }

    row += 1;
    section(sheet, row, "Run", 2, styles)?;
    row += 1;
    let mut facts: Vec<(&str, String)> = vec![
        ("Account", options.account().unwrap_or("—").to_owned()),
        (
            "Billing period",
            format!(
                "{} to {} · {} days",
                local(report, s.period.start),
                local(report, s.period.end),
                s.period.days()
            ),
        ),
        ("Time zone", s.period.zone.name().to_owned()),
        ("Run as of", local(report, s.as_of)),
        ("Usage", s.usage_note()),
        (
            "Proration",
            if s.proration { "on" } else { "off" }.to_owned(),
        ),
        ("Charges billed", charges(s.charge_type).to_owned()),
    ];
    if let Some(o) = report.optimization {
        let summary = o.summary;
        facts.push((
            "Optimizer",
            format!(
                "{}{}",
                summary.optimizer,
                if summary.complete {
                    ""
                } else {
                    " · stopped by its time limit"
                }
            ),
        ));
        let mut rules = Vec::new();
        if summary.min_saving > Money::ZERO {
            rules.push(format!("each change saves ≥ {}", summary.min_saving));
        }
        if let Some(k) = summary.max_changes {
            rules.push(format!("at most {k} changes"));
        }
        if rules.is_empty() {
            rules.push("none".to_owned());
        }
        facts.push(("Constraints", rules.join("; ")));
    }
    for (name, value) in facts {
        label(sheet, row, name, styles)?;
        sheet.write_string_with_format(row, VALUE_COL, value, &key_text)?;
        row += 1;
    }

    // Nothing under the chart (rows of the default 20 px).
    let chart_rows = chart_height(charted_plans(report)).div_ceil(20) + 1;
    row = row.max(CHART_AT.0 + chart_rows) + 1;
    row = cost_per_plan(sheet, row, report, styles)? + 2;
    diagnostics(sheet, row, report, styles)?;
    sheet.set_portrait();
    print_a4(sheet);
    Ok(())
}

/// The cost-per-plan table and the chart of it; returns the row after the table.
fn cost_per_plan(
    sheet: &mut Worksheet,
    mut row: u32,
    report: &Report<'_>,
    styles: &Styles,
) -> Result<u32, XlsxError> {
    let fleet = report.fleet;
    let after = report.optimization.map(|o| o.bill);
    let headers: &[&str] = if after.is_some() {
        &[
            "Plan",
            "Name",
            "",
            "SIMs now",
            "SIMs after",
            "Cost now",
            "Cost after",
            "Saving",
        ]
    } else {
        &["Plan", "Name", "", "SIMs", "Cost"]
    };
    let last_col = headers.len() as u16 - 1;
    section(sheet, row, "Cost per plan", last_col + 1, styles)?;
    row += 1;
    for (col, h) in headers.iter().enumerate() {
        let format = if col < 3 {
            &styles.header_left
        } else {
            &styles.header
        };
        sheet.write_string_with_format(row, col as u16, *h, format)?;
    }
    row += 1;
    let first = row;
    for (index, plan) in fleet.plans.iter().enumerate() {
        let now = &report.current.plans[index];
        let later = after.map(|b| &b.plans[index]);
        if now.sims == 0 && later.is_none_or(|t| t.sims == 0) {
            continue;
        }
        sheet.write_string(row, 0, &plan.code)?;
        sheet.write_string(row, 1, &plan.name)?;
        sheet.write_number_with_format(row, 3, now.sims as f64, &styles.count)?;
        match later {
            Some(t) => {
                sheet.write_number_with_format(row, 4, t.sims as f64, &styles.count)?;
                sheet.write_number_with_format(row, 5, now.total().to_f64(), &styles.money)?;
                sheet.write_number_with_format(row, 6, t.total().to_f64(), &styles.money)?;
                formula(
                    sheet,
                    row,
                    7,
                    &format!("{}-{}", cell(row, 5), cell(row, 6)),
                    &Num::money(now.total() - t.total()),
                    &styles.money,
                )?;
            }
            None => {
                sheet.write_number_with_format(row, 4, now.total().to_f64(), &styles.money)?;
            }
        }
        row += 1;
    }
    let last = row - 1;
    let t = &styles.total;
    sheet.write_string_with_format(row, 0, "Total", &t.label)?;
    sheet.write_blank(row, 1, &t.blank)?;
    sheet.write_blank(row, 2, &t.blank)?;
    let sims = Num::count(report.sim_count() as u64);
    let now_total = Num::money(report.current.total());
    let mut totals = vec![(3, sims.clone(), &t.count)];
    match after {
        Some(b) => {
            totals.push((4, sims, &t.count));
            totals.push((5, now_total, &t.money));
            totals.push((6, Num::money(b.total()), &t.money));
            totals.push((7, Num::money(report.current.total() - b.total()), &t.money));
        }
        None => totals.push((4, now_total, &t.money)),
    }
    for (col, value, format) in totals {
        subtotal(sheet, (row, col), 9, (col, first..=last), &value, format)?;
    }

    if last >= first {
        let plans = (last - first + 1) as usize;
        let columns = plans <= COLUMN_CHART_PLANS;
        let mut chart = if columns {
            Chart::new_column()
        } else {
            Chart::new_bar()
        };
        chart.title().set_name("Cost per plan");
        let categories = ("Summary", first, 0, last, 0);
        let series: Vec<(&str, u16, u32)> = if after.is_some() {
            vec![("Now", 5, NOW_COLOR), ("Optimized", 6, AFTER_COLOR)]
        } else {
            vec![("Cost", 4, AFTER_COLOR)]
        };
        for (name, col, color) in series {
            chart
                .add_series()
                .set_name(name)
                .set_categories(categories)
                .set_values(("Summary", first, col, last, col))
                .set_format(
                    ChartFormat::new()
                        .set_solid_fill(ChartSolidFill::new().set_color(Color::RGB(color))),
                )
                .set_gap(60);
        }
        if columns {
            chart
                .y_axis()
                .set_num_format("#,##0")
                .set_major_gridlines(true);
        } else {
            // A bar chart's categories run up its y axis: reversed, they read top-down in the
            // table's order. Its values run along x.
            chart.y_axis().set_reverse();
            chart
                .x_axis()
                .set_num_format("#,##0")
                .set_major_gridlines(true);
        }
        chart.legend().set_position(ChartLegendPosition::Bottom);
        chart.set_width(CHART_WIDTH).set_height(chart_height(plans));
        sheet.insert_chart_with_offset(CHART_AT.0, CHART_AT.1, &chart, 0, 4)?;
    }
    Ok(row + 1)
}

/// Diagnostics by kind: how many, and the first one.
fn diagnostics(
    sheet: &mut Worksheet,
    mut row: u32,
    report: &Report<'_>,
    styles: &Styles,
) -> Result<(), XlsxError> {
    section(sheet, row, "Diagnostics", 2, styles)?;
    row += 1;
    let warnings = report.warnings;
    if warnings.counts.is_empty() {
        sheet.write_string_with_format(
            row,
            0,
            "No warnings: every row of the input was used as given.",
            &styles.note,
        )?;
        return Ok(());
    }
    sheet.write_string_with_format(row, 0, "Kind", &styles.header_left)?;
    sheet.write_string_with_format(row, 1, "First of its kind", &styles.header_left)?;
    sheet.write_string_with_format(row, 3, "Count", &styles.header)?;
    row += 1;
    for c in &warnings.counts {
        sheet.write_string(row, 0, c.code.as_str())?;
        if let Some(first) = warnings.items.iter().find(|d| d.code == c.code) {
            let mut place = first.file.clone();
            if let Some(r) = first.row {
                place.push_str(&format!(", row {r}"));
            }
            sheet.write_string(row, 1, format!("{place}: {}", first.message))?;
        }
        sheet.write_number_with_format(row, 3, c.count as f64, &styles.count)?;
        row += 1;
    }
    sheet.write_string_with_format(
        row,
        0,
        "The Diagnostics sheet lists them with their row, column and what to do.",
        &styles.note,
    )?;
    Ok(())
}

fn section(
    sheet: &mut Worksheet,
    row: u32,
    name: &str,
    width: u16,
    styles: &Styles,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(row, 0, name, &styles.section)?;
    for col in 1..width {
        sheet.write_blank(row, col, &styles.section)?;
    }
    sheet.set_row_height(row, 20)?;
    Ok(())
}

fn label(sheet: &mut Worksheet, row: u32, name: &str, styles: &Styles) -> Result<(), XlsxError> {
    sheet.write_string_with_format(row, LABEL_COL, name, &styles.label)?;
    Ok(())
}

fn number(sheet: &mut Worksheet, row: u32, value: f64, format: &Format) -> Result<(), XlsxError> {
    sheet.write_number_with_format(row, VALUE_COL, value, format)?;
    Ok(())
}

/// An instant as local date and time in the account's zone (`2026-11-22 00:00`).
fn local(report: &Report<'_>, instant: i64) -> String {
    let zone = report.fleet.settings.period.zone;
    DateTime::from_timestamp(instant, 0)
        .map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn charges(charge_type: crate::settings::ChargeType) -> &'static str {
    use crate::settings::ChargeType;
    match charge_type {
        ChargeType::RateAndOverage => "rate charge and overage",
        ChargeType::OverageOnly => "overage only",
        ChargeType::RateOnly => "rate charge only",
    }
}
