//! The readable summary printed after a run.

use std::io::{self, Write};

use simopt_core::diagnostics::Severity;
use simopt_core::fleet::Pooling;
use simopt_core::{CostOutcome, Money};

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

/// MB rounded to whole MB for reading (the JSON has the exact figure).
fn mb(bytes: simopt_core::Bytes) -> String {
    group_thousands(&((bytes.0 + (1 << 19)) >> 20).to_string())
}

/// Writes the summary of a cost run.
pub fn write_cost(out: &mut dyn Write, run: &CostOutcome) -> io::Result<()> {
    let fleet = &run.fleet;
    let s = &fleet.settings;
    let d = s.currency_decimals;
    let period = &s.period;
    writeln!(
        out,
        "Current bill of {} SIMs — period {} to {} ({}), as of {}",
        group_thousands(&fleet.sims.len().to_string()),
        period.start_date,
        period.end_date,
        period.zone.name(),
        period.format_instant(s.as_of)
    )?;
    let usage_note = if !s.projection {
        "usage as reported (projection off)".to_owned()
    } else if s.period_closed() {
        "usage as reported (the period has ended)".to_owned()
    } else {
        format!(
            "usage projected to the period end (+{} % margin)",
            s.margin_pct_text()
        )
    };
    writeln!(
        out,
        "{usage_note}; proration {}; charges: {}\n",
        if s.proration { "on" } else { "off" },
        s.charge_type
    )?;

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
                group_thousands(&t.sims.to_string()),
                mb(t.usage),
                money(t.base, d),
                money(t.overage, d),
                money(t.sms, d),
                money(t.total(), d),
            ]
        })
        .collect();
    let header = [
        "Plan", "Pool", "SIMs", "Usage MB", "Base", "Overage", "SMS", "Total",
    ];
    let totals = [
        "Total".to_owned(),
        String::new(),
        group_thousands(&fleet.sims.len().to_string()),
        mb(fleet.sims.iter().map(|s| s.usage).sum()),
        money(run.bill.base, d),
        money(run.bill.overage, d),
        money(run.bill.sms, d),
        money(run.bill.total(), d),
    ];
    let mut widths = header.map(str::len);
    for row in rows.iter().chain([&totals]) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> io::Result<()> {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            if i < 2 {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            } else {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            }
            text.push_str("  ");
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, &header.map(str::to_owned))?;
    for row in &rows {
        line(out, row)?;
    }
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(out, &rule)?;
    line(out, &totals)?;

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
                group_thousands(&t.sims.to_string()),
                mb(t.usage),
                mb(t.allowance),
                mb(t.excess),
                group_thousands(&t.blocks.to_string()),
                money(t.overage, d)
            )?;
        }
    }
    writeln!(out, "\nCurrent bill: {}", money(run.bill.total(), d))?;

    let warnings = &run.warnings;
    let count = warnings.count(Severity::Warning);
    if count > 0 {
        writeln!(
            out,
            "\n{count} warning{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for c in &warnings.counts {
            let first = warnings.items.iter().find(|d| d.code == c.code);
            if let Some(first) = first {
                writeln!(out, "  {} × {} — first: {first}", c.count, c.code)?;
            }
        }
    }
    Ok(())
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
