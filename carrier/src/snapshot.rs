//! The fleet as synced: `sims.csv` rows (DESIGN §7), and how an incremental sync's rows and
//! usage updates apply to the previous snapshot.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// One SIM as the carrier reported it: a `sims.csv` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimRow {
    /// ICCID.
    pub iccid: String,
    /// Phone number (empty if none).
    pub msisdn: String,
    /// Communication plan.
    pub comm_plan: String,
    /// Current rate plan.
    pub current_plan: String,
    /// SIM status, lower case as the carrier names it (`activated`, `deactivated`...).
    pub status: String,
    /// First activation, `YYYY-MM-DD` in the account's zone (empty if never activated).
    pub activated_on: String,
    /// Cycle-to-date data, bytes.
    pub usage_bytes: u64,
    /// When the usage was read, RFC 3339 UTC.
    pub usage_as_of: String,
    /// Cycle-to-date SMS.
    pub sms_count: u64,
}

/// A usage refresh of a device whose other fields did not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageUpdate {
    /// ICCID.
    pub iccid: String,
    /// Cycle-to-date data, bytes.
    pub usage_bytes: u64,
    /// When the usage was read, RFC 3339 UTC.
    pub usage_as_of: String,
    /// Cycle-to-date SMS.
    pub sms_count: u64,
}

/// The `sims.csv` header this crate writes (`usage_bytes`, exact, instead of `usage_mb`).
pub const CSV_HEADER: &str =
    "iccid,msisdn,comm_plan,current_plan,status,activated_on,usage_bytes,usage_as_of,sms_count";

/// Writes rows as `sims.csv` (header included), in the order given.
pub fn to_csv(rows: &[SimRow]) -> String {
    let mut out = Vec::with_capacity(64 + rows.len() * 96);
    write_csv(&mut out, rows).expect("CSV written to memory");
    String::from_utf8(out).expect("CSV of strings is UTF-8")
}

/// The workspace's CSV writer (as the core's reports use): a field is quoted when it holds a
/// comma, a quote or a line break.
fn write_csv(out: &mut Vec<u8>, rows: &[SimRow]) -> csv::Result<()> {
    let mut csv = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out);
    csv.write_record(CSV_HEADER.split(','))?;
    for row in rows {
        csv.serialize(row)?;
    }
    csv.flush()?;
    Ok(())
}

/// The new snapshot: the previous one, with `rows` replacing (or adding) devices, `usage`
/// refreshing the usage of others, and `gone` devices removed. A device listed twice keeps its
/// last row. Sorted by ICCID.
pub fn apply(
    previous: Vec<SimRow>,
    rows: Vec<SimRow>,
    usage: Vec<UsageUpdate>,
    gone: &[String],
) -> Vec<SimRow> {
    let mut by_iccid: BTreeMap<String, SimRow> =
        previous.into_iter().map(|r| (r.iccid.clone(), r)).collect();
    for row in rows {
        by_iccid.insert(row.iccid.clone(), row);
    }
    for u in usage {
        if let Some(row) = by_iccid.get_mut(&u.iccid) {
            row.usage_bytes = u.usage_bytes;
            row.usage_as_of = u.usage_as_of;
            row.sms_count = u.sms_count;
        }
    }
    let gone: BTreeSet<&String> = gone.iter().collect();
    by_iccid
        .into_values()
        .filter(|r| !gone.contains(&r.iccid))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(iccid: &str, plan: &str, bytes: u64) -> SimRow {
        SimRow {
            iccid: iccid.into(),
            msisdn: "1555".into(),
            comm_plan: "CP, \"quoted\"".into(),
            current_plan: plan.into(),
            status: "activated".into(),
            activated_on: "2026-01-02".into(),
            usage_bytes: bytes,
            usage_as_of: "2026-11-20T10:00:00Z".into(),
            sms_count: 3,
        }
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let csv = to_csv(&[row("1", "A", 5)]);
        assert_eq!(
            csv,
            format!(
                "{CSV_HEADER}\n1,1555,\"CP, \"\"quoted\"\"\",A,activated,2026-01-02,5,2026-11-20T10:00:00Z,3\n"
            )
        );
    }

    #[test]
    fn apply_replaces_refreshes_and_removes() {
        let previous = vec![row("1", "A", 1), row("2", "A", 2), row("3", "A", 3)];
        let rows = vec![row("2", "B", 20), row("4", "C", 40)];
        let usage = vec![UsageUpdate {
            iccid: "1".into(),
            usage_bytes: 11,
            usage_as_of: "2026-11-21T00:00:00Z".into(),
            sms_count: 9,
        }];
        let out = apply(previous, rows, usage, &["3".to_owned()]);
        let summary: Vec<(&str, &str, u64, u64)> = out
            .iter()
            .map(|r| {
                (
                    r.iccid.as_str(),
                    r.current_plan.as_str(),
                    r.usage_bytes,
                    r.sms_count,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [("1", "A", 11, 9), ("2", "B", 20, 3), ("4", "C", 40, 3)]
        );
    }
}
