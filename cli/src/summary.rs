//! The readable summaries printed after a run.

use std::io::{self, Write};

use simopt_core::diagnostics::Severity;
use simopt_core::fleet::Pooling;
use simopt_core::report::json::OptimizationSummary;
use simopt_core::{Bill, Bytes, CostOutcome, Diagnostics, Fleet, Money};

/// Money with thousands separators and the currency's decimals: `12,345.60`.
pub(crate) fn money(amount: Money, decimals: u32) -> String {
    let text = amount.round_to_unit(decimals).to_string();
    let (sign, digits) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |d| ("-", d));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut frac = frac.to_owned();
    frac.truncate(decimals as usize);
    while frac.len() < decimals as usize {
        frac.push('0');
    }
    let grouped = group_thousands(int);
    if decimals == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

fn group_thousands(int: &str) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn count(n: impl ToString) -> String {
    group_thousands(&n.to_string())
}

/// MB rounded to whole MB for reading (the JSON has the exact figure).
fn mb(bytes: Bytes) -> String {
    count((bytes.0 + (1 << 19)) >> 20)
}

/// Writes a table: the first `left` columns left-aligned, the others right-aligned, then a rule
/// and a totals row.
fn table<const N: usize>(
    out: &mut dyn Write,
    header: [&str; N],
    rows: &[[String; N]],
    totals: &[String; N],
    left: usize,
) -> io::Result<()> {
    let mut widths = header.map(str::len);
    for row in rows.iter().chain([totals]) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> io::Result<()> {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = " ".repeat(w - cell.chars().count());
            if i < left {
                text.push_str(cell);
                text.push_str(&pad);
            } else {
                text.push_str(&pad);
                text.push_str(cell);
            }
            text.push_str("  ");
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, &header.map(str::to_owned))?;
    for row in rows {
        line(out, row)?;
    }
    line(out, &widths.map(|w| "-".repeat(w)))?;
    line(out, totals)
}

/// The opening lines: what, how many SIMs, which period, how usage was taken.
fn headline(out: &mut dyn Write, what: &str, fleet: &Fleet) -> io::Result<()> {
    let s = &fleet.settings;
    let period = &s.period;
    writeln!(
        out,
        "{what} {} SIMs — period {} to {} ({}), as of {}",
        count(fleet.sims.len()),
        period.start_date,
        period.end_date,
        period.zone.name(),
        period.format_instant(s.as_of)
    )?;
    writeln!(
        out,
        "{}; proration {}; charges: {}\n",
        s.usage_note(),
        if s.proration { "on" } else { "off" },
        s.charge_type
    )
}

fn write_warnings(out: &mut dyn Write, warnings: &Diagnostics) -> io::Result<()> {
    let total = warnings.count(Severity::Warning);
    if total > 0 {
        writeln!(
            out,
            "\n{total} warning{}:",
            if total == 1 { "" } else { "s" }
        )?;
        for c in &warnings.counts {
            if let Some(first) = warnings.items.iter().find(|d| d.code == c.code) {
                writeln!(out, "  {} × {} — first: {first}", c.count, c.code)?;
            }
        }
    }
    Ok(())
}

/// Writes the summary of a cost run: per plan, the pools, the total, the warnings.
pub fn write_cost(out: &mut dyn Write, run: &CostOutcome) -> io::Result<()> {
    let fleet = &run.fleet;
    let d = fleet.settings.currency_decimals;
    headline(out, "Current bill of", fleet)?;
    let rows: Vec<[String; 8]> = fleet
        .plans
        .iter()
        .zip(&run.bill.plans)
        .filter(|(_, t)| t.sims > 0)
        .map(|(plan, t)| {
            [
                plan.code.clone(),
                match plan.pooling {
                    Pooling::Shared(p) => fleet.pools[p.0 as usize].name.clone(),
                    Pooling::PerSim => "-".into(),
                },
                count(t.sims),
                mb(t.usage),
                money(t.base, d),
                money(t.overage, d),
                money(t.sms, d),
                money(t.total(), d),
            ]
        })
        .collect();
    let totals = [
        "Total".to_owned(),
        String::new(),
        count(fleet.sims.len()),
        mb(fleet.sims.iter().map(|s| s.usage).sum()),
        money(run.bill.base, d),
        money(run.bill.overage, d),
        money(run.bill.sms, d),
        money(run.bill.total(), d),
    ];
    let header = [
        "Plan", "Pool", "SIMs", "Usage MB", "Base", "Overage", "SMS", "Total",
    ];
    table(out, header, &rows, &totals, 2)?;

    let pools: Vec<_> = fleet
        .pools
        .iter()
        .zip(&run.bill.pools)
        .filter(|(_, t)| t.sims > 0)
        .collect();
    if !pools.is_empty() {
        writeln!(out, "\nShared pools:")?;
        for (pool, t) in pools {
            writeln!(
                out,
                "  {}: {} SIMs, {} MB used of {} MB pooled, {} MB over in {} blocks = {}",
                pool.name,
                count(t.sims),
                mb(t.usage),
                mb(t.allowance),
                mb(t.excess),
                count(t.blocks),
                money(t.overage, d)
            )?;
        }
    }
    writeln!(out, "\nCurrent bill: {}", money(run.bill.total(), d))?;
    write_warnings(out, &run.warnings)
}

/// Writes the summary of an optimization: per plan, SIMs and cost now and after, then the
/// headline figures.
pub fn write_optimize(
    out: &mut dyn Write,
    fleet: &Fleet,
    current: &Bill,
    optimized: &Bill,
    o: &OptimizationSummary,
    warnings: &Diagnostics,
) -> io::Result<()> {
    let d = fleet.settings.currency_decimals;
    headline(out, "Optimized", fleet)?;
    let rows: Vec<[String; 6]> = fleet
        .plans
        .iter()
        .zip(current.plans.iter().zip(&optimized.plans))
        .filter(|(_, (now, after))| now.sims > 0 || after.sims > 0)
        .map(|(plan, (now, after))| {
            [
                plan.code.clone(),
                count(now.sims),
                count(after.sims),
                money(now.total(), d),
                money(after.total(), d),
                money(after.total() - now.total(), d),
            ]
        })
        .collect();
    let totals = [
        "Total".to_owned(),
        count(fleet.sims.len()),
        count(fleet.sims.len()),
        money(current.total(), d),
        money(optimized.total(), d),
        money(optimized.total() - current.total(), d),
    ];
    let header = [
        "Plan",
        "SIMs now",
        "SIMs after",
        "Cost now",
        "Cost after",
        "Change",
    ];
    table(out, header, &rows, &totals, 1)?;

    let now = current.total();
    let percent = if now.micros() > 0 {
        o.savings.micros() as f64 * 100.0 / now.micros() as f64
    } else {
        0.0
    };
    writeln!(out)?;
    writeln!(out, "Current bill:    {}", money(now, d))?;
    writeln!(out, "Optimized bill:  {}", money(o.optimized_cost, d))?;
    writeln!(
        out,
        "Savings:         {} ({percent:.1} %)",
        money(o.savings, d)
    )?;
    match (o.lower_bound, o.gap) {
        (Some(bound), Some(gap)) => writeln!(
            out,
            "Lower bound:     {} (no choice of plans{} costs less); gap {:.3} %",
            money(bound, d),
            if o.min_saving > Money::ZERO || o.max_changes.is_some() {
                " with at most as many changes"
            } else {
                ""
            },
            gap * 100.0
        )?,
        _ if o.optimizer == "classic" => writeln!(
            out,
            "Lower bound:     not computed (the classic method gives none; use --optimizer default)"
        )?,
        _ => writeln!(
            out,
            "Lower bound:     not computed (the time limit stopped the run first)"
        )?,
    }
    writeln!(
        out,
        "Changes:         {} SIMs change plan{}",
        count(o.changes),
        if o.complete {
            ""
        } else {
            " (time limit reached: the best plans found so far)"
        }
    )?;
    let mut rules = Vec::new();
    if o.locked_sims > 0 {
        rules.push(format!(
            "{} SIMs locked to their plan",
            count(o.locked_sims)
        ));
    }
    if o.min_saving > Money::ZERO {
        rules.push(format!(
            "each change saves at least {}",
            money(o.min_saving, d)
        ));
    }
    if let Some(k) = o.max_changes {
        rules.push(format!("at most {} changes", count(k)));
    }
    if !rules.is_empty() {
        writeln!(out, "Constraints:     {}", rules.join("; "))?;
    }
    write_warnings(out, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_and_keeps_decimals() {
        assert_eq!(
            money(Money::from_micros(1_234_567_890_000), 2),
            "1,234,567.89"
        );
        assert_eq!(money(Money::from_micros(5_000_000), 2), "5.00");
        assert_eq!(money(Money::from_micros(-1_500_000), 2), "-1.50");
        assert_eq!(money(Money::from_micros(999_500_000), 0), "1,000");
    }
}
