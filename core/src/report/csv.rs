//! The per-SIM CSV export: one row per SIM with its plan now and after, its charges and saving,
//! for scripts, databases and spreadsheets that want the lines without the workbook.
//!
//! Columns (the same for a report of the current bill, where `plan` is `current_plan` and the
//! saving is zero): `iccid, msisdn, comm_plan, usage_mb, sms_count, current_plan, plan, changed,
//! base, overage, sms, cost, current_cost, saving, why`. Money is exact decimal text (`12.50`),
//! usage exact MB (`usage_mb` of the JSON document); `changed` is `true`/`false`. Rows are in
//! the SIMs file's order and streamed, so a million SIMs take no memory beyond the bill.

use std::io;

use super::Report;

/// The header row.
pub const COLUMNS: [&str; 15] = [
    "iccid",
    "msisdn",
    "comm_plan",
    "usage_mb",
    "sms_count",
    "current_plan",
    "plan",
    "changed",
    "base",
    "overage",
    "sms",
    "cost",
    "current_cost",
    "saving",
    "why",
];

/// Writes the CSV export of `report` to `out`.
///
/// # Errors
/// Whatever the writer returns.
pub fn write(out: impl io::Write, report: &Report<'_>) -> io::Result<()> {
    let fleet = report.fleet;
    let mut csv = ::csv::Writer::from_writer(out);
    csv.write_record(COLUMNS)?;
    let mut why = String::new();
    report.each_sim_line(&mut |line| {
        why.clear();
        use std::fmt::Write as _;
        let _ = write!(why, "{}", line.why(fleet));
        let money = |m: crate::money::Money| m.to_string();
        csv.write_record([
            &*line.sim.iccid,
            line.sim.msisdn.as_deref().unwrap_or(""),
            line.comm_plan,
            &line.sim.usage.to_mb_string(),
            &line.sim.sms_count.to_string(),
            &fleet.plan(line.current_plan).code,
            &fleet.plan(line.plan).code,
            if line.changed() { "true" } else { "false" },
            &money(line.charge.base),
            &money(line.charge.overage),
            &money(line.charge.sms),
            &money(line.cost()),
            &money(line.current_cost()),
            &money(line.saving()),
            &why,
        ])?;
        Ok(())
    })?;
    csv.flush()
}

/// The CSV export of `report` as text (for the front ends that hand it over whole).
///
/// # Errors
/// Whatever [`write()`] returns (nothing in practice: the text is written in memory).
pub fn to_string(report: &Report<'_>) -> io::Result<String> {
    let mut out = Vec::new();
    write(&mut out, report)?;
    String::from_utf8(out).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
