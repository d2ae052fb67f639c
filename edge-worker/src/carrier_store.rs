//! The carrier's rows in D1: accounts' connections (`account_carriers`), completed syncs
//! (`carrier_syncs`, each with the SIMs file it made current), pushes (`carrier_pushes`, one
//! per account and billing period) and each device's outcome (`carrier_push_outcomes`). Every
//! query of a connection carries the tenant's id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use simopt_carrier::{Change, PushHistory};
use worker::wasm_bindgen::JsValue;

use crate::carrier_settings::CarrierSettings;
use crate::error::ApiError;
use crate::store::{corrupt, int, opt, text, NewUpload, Store, UploadRow};

/// A completed sync, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRecord {
    /// The session that ran it.
    pub session_id: String,
    /// `full` or `incremental`.
    pub mode: String,
    /// The SIMs file it made current.
    pub upload_id: f64,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended.
    pub finished_at: String,
    /// The next incremental sync reads the devices modified since this moment (Unix ms).
    pub next_since_ms: f64,
    /// SIMs in the snapshot.
    pub sims: f64,
    /// JSON counts (pages, listed, rows, usage updates, gone).
    pub counts: String,
    /// JSON request statistics.
    pub stats: String,
}

impl SyncRecord {
    /// As answered (counts and stats as objects).
    pub fn view(&self) -> serde_json::Value {
        let parse = |s: &str| serde_json::from_str(s).unwrap_or(serde_json::Value::Null);
        serde_json::json!({
            "session_id": self.session_id,
            "mode": self.mode,
            "upload_id": self.upload_id as i64,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "sims": self.sims as u64,
            "counts": parse(&self.counts),
            "stats": parse(&self.stats),
        })
    }
}

/// A device's outcome to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRow {
    /// ICCID.
    pub iccid: String,
    /// The plan before.
    pub from_plan: String,
    /// The plan asked for.
    pub to_plan: String,
    /// The outcome's name (`applied`, `discrepancy`...).
    pub outcome: String,
    /// The outcome as JSON.
    pub detail: String,
    /// When (RFC 3339).
    pub at: String,
}

#[derive(Debug, Deserialize)]
struct CarrierRow {
    account_id: String,
    kind: String,
    base_url: String,
    username: String,
    api_key_sealed: String,
    max_changes_per_sim_per_month: Option<f64>,
    earliest_effective_date: Option<String>,
    created_at: String,
    updated_at: String,
}

const SYNC_COLUMNS: &str = "session_id, mode, upload_id, started_at, finished_at, next_since_ms, \
     sims, counts, stats";

impl Store {
    /// The tenant's account's carrier connection, if it has one.
    ///
    /// # Errors
    /// A storage error.
    pub async fn carrier_settings(
        &self,
        tenant: &str,
        account: &str,
    ) -> Result<Option<CarrierSettings>, ApiError> {
        let row = self
            .db
            .prepare(
                "SELECT account_id, kind, base_url, username, api_key_sealed, \
                 max_changes_per_sim_per_month, earliest_effective_date, created_at, updated_at \
                 FROM account_carriers WHERE account_id = ?1 AND tenant_id = ?2",
            )
            .bind(&[text(account), text(tenant)])?
            .first::<CarrierRow>(None)
            .await?;
        row.map(|r| {
            let limit = match r.max_changes_per_sim_per_month {
                Some(n) if (0.0..=f64::from(u32::MAX)).contains(&n) => Some(n as u32),
                Some(n) => return Err(corrupt(format!("carrier limit {n}"))),
                None => None,
            };
            Ok(CarrierSettings {
                account_id: r.account_id,
                kind: r.kind,
                base_url: r.base_url,
                username: r.username,
                api_key_sealed: r.api_key_sealed,
                max_changes_per_sim_per_month: limit,
                earliest_effective_date: r.earliest_effective_date,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        })
        .transpose()
    }

    /// Sets (or replaces) an account's carrier connection.
    ///
    /// # Errors
    /// A storage error.
    pub async fn put_carrier_settings(
        &self,
        tenant: &str,
        s: &CarrierSettings,
    ) -> Result<(), ApiError> {
        let limit = s.max_changes_per_sim_per_month.map_or(JsValue::NULL, int);
        self.db
            .prepare(
                "INSERT INTO account_carriers (account_id, tenant_id, kind, base_url, username, \
                 api_key_sealed, max_changes_per_sim_per_month, earliest_effective_date, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (account_id) DO UPDATE SET kind = excluded.kind, \
                 base_url = excluded.base_url, username = excluded.username, \
                 api_key_sealed = excluded.api_key_sealed, \
                 max_changes_per_sim_per_month = excluded.max_changes_per_sim_per_month, \
                 earliest_effective_date = excluded.earliest_effective_date, \
                 updated_at = excluded.updated_at WHERE account_carriers.tenant_id = ?2",
            )
            .bind(&[
                text(&s.account_id),
                text(tenant),
                text(&s.kind),
                text(&s.base_url),
                text(&s.username),
                text(&s.api_key_sealed),
                limit,
                opt(s.earliest_effective_date.as_deref()),
                text(&s.created_at),
                text(&s.updated_at),
            ])?
            .run()
            .await?;
        Ok(())
    }

    /// Removes an account's carrier connection; `false` when it had none.
    ///
    /// # Errors
    /// A storage error.
    pub async fn delete_carrier_settings(
        &self,
        tenant: &str,
        account: &str,
    ) -> Result<bool, ApiError> {
        let result = self
            .db
            .prepare("DELETE FROM account_carriers WHERE account_id = ?1 AND tenant_id = ?2")
            .bind(&[text(account), text(tenant)])?
            .run()
            .await?;
        Ok(result
            .meta()?
            .and_then(|m| m.changes)
            .is_some_and(|n| n > 0))
    }

    /// The account's last completed sync, if any.
    ///
    /// # Errors
    /// A storage error.
    pub async fn last_sync(&self, account: &str) -> Result<Option<SyncRecord>, ApiError> {
        Ok(self
            .db
            .prepare(format!(
                "SELECT {SYNC_COLUMNS} FROM carrier_syncs WHERE account_id = ?1 \
                 ORDER BY id DESC LIMIT 1"
            ))
            .bind(&[text(account)])?
            .first::<SyncRecord>(None)
            .await?)
    }

    /// Swaps a synced snapshot in: records its upload (from then on the account's current SIMs
    /// file) and the sync, in one transaction, once per session (a retry finds them there).
    /// Answers the upload record.
    ///
    /// # Errors
    /// A storage error.
    pub async fn record_sync(
        &self,
        upload: &NewUpload<'_>,
        sync: &SyncRecord,
        account: &str,
    ) -> Result<UploadRow, ApiError> {
        let insert_upload = self
            .db
            .prepare(
                "INSERT INTO uploads (account_id, kind, r2_key, bytes, sha256, rows, uploaded_at) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE NOT EXISTS \
                 (SELECT 1 FROM carrier_syncs WHERE session_id = ?8)",
            )
            .bind(&[
                text(upload.account),
                text(upload.kind.name()),
                text(upload.r2_key),
                int(upload.bytes as f64),
                text(upload.sha256),
                int(upload.rows as f64),
                text(upload.uploaded_at),
                text(&sync.session_id),
            ])?;
        let insert_sync = self
            .db
            .prepare(
                "INSERT OR IGNORE INTO carrier_syncs (account_id, session_id, mode, upload_id, \
                 started_at, finished_at, next_since_ms, sims, counts, stats) VALUES (?1, ?2, ?3, \
                 (SELECT id FROM uploads WHERE account_id = ?1 AND kind = 'sims' AND r2_key = ?4 \
                  ORDER BY id DESC LIMIT 1), ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(&[
                text(account),
                text(&sync.session_id),
                text(&sync.mode),
                text(upload.r2_key),
                text(&sync.started_at),
                text(&sync.finished_at),
                int(sync.next_since_ms),
                int(sync.sims),
                text(&sync.counts),
                text(&sync.stats),
            ])?;
        self.db.batch(vec![insert_upload, insert_sync]).await?;
        let row = self
            .db
            .prepare(
                "SELECT u.id, u.account_id, u.kind, u.r2_key, u.bytes, u.sha256, u.rows, \
                 u.uploaded_at FROM uploads u JOIN carrier_syncs s ON s.upload_id = u.id \
                 WHERE s.session_id = ?1",
            )
            .bind(&[text(&sync.session_id)])?
            .first::<UploadRow>(None)
            .await?;
        row.ok_or_else(|| {
            corrupt(format!(
                "the sync of session {} has no upload",
                sync.session_id
            ))
        })
    }

    /// Claims the account's push of a billing period for `session`; answers the session that
    /// holds it (this one when the claim worked or was made before).
    ///
    /// # Errors
    /// A storage error.
    pub async fn claim_push(
        &self,
        tenant: &str,
        account: &str,
        period_end: &str,
        session: &str,
        trigger: &str,
        now: &str,
    ) -> Result<String, ApiError> {
        self.db
            .prepare(
                "INSERT INTO carrier_pushes (tenant_id, account_id, period_end, session_id, \
                 trigger, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )
            .bind(&[
                text(tenant),
                text(account),
                text(period_end),
                text(session),
                text(trigger),
                text(now),
            ])?
            .run()
            .await?;
        let holder = self
            .db
            .prepare(
                "SELECT session_id FROM carrier_pushes WHERE account_id = ?1 AND period_end = ?2",
            )
            .bind(&[text(account), text(period_end)])?
            .first::<String>(Some("session_id"))
            .await?;
        holder.ok_or_else(|| corrupt("a claimed push is not recorded".into()))
    }

    /// The session that holds the account's push of a billing period, if one does.
    ///
    /// # Errors
    /// A storage error.
    pub async fn push_holder(
        &self,
        account: &str,
        period_end: &str,
    ) -> Result<Option<String>, ApiError> {
        Ok(self
            .db
            .prepare(
                "SELECT session_id FROM carrier_pushes WHERE account_id = ?1 AND period_end = ?2",
            )
            .bind(&[text(account), text(period_end)])?
            .first::<String>(Some("session_id"))
            .await?)
    }

    /// Devices whose plan at the carrier differs from ours after a session's push (at most
    /// `limit`), as JSON objects.
    ///
    /// # Errors
    /// A storage error.
    pub async fn push_discrepancies(
        &self,
        session: &str,
        limit: u32,
    ) -> Result<Vec<serde_json::Value>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            iccid: String,
            from_plan: String,
            to_plan: String,
            outcome: String,
            detail: String,
        }
        let rows = self
            .db
            .prepare(
                "SELECT iccid, from_plan, to_plan, outcome, detail FROM carrier_push_outcomes \
                 WHERE session_id = ?1 AND outcome IN ('discrepancy', 'not_verified', \
                 'unconfirmed') ORDER BY iccid LIMIT ?2",
            )
            .bind(&[text(session), int(limit)])?
            .all()
            .await?
            .results::<Row>()?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let detail: serde_json::Value =
                    serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null);
                serde_json::json!({
                    "iccid": r.iccid,
                    "from_plan": r.from_plan,
                    "to_plan": r.to_plan,
                    "outcome": r.outcome,
                    "carrier_plan": detail.get("carrier_plan"),
                })
            })
            .collect())
    }

    /// Records a push's go/no-go.
    ///
    /// # Errors
    /// A storage error.
    pub async fn record_push_decision(
        &self,
        session: &str,
        go: bool,
        decision: &str,
    ) -> Result<(), ApiError> {
        self.db
            .prepare("UPDATE carrier_pushes SET go = ?2, decision = ?3 WHERE session_id = ?1")
            .bind(&[text(session), int(u8::from(go)), text(decision)])?
            .run()
            .await?;
        Ok(())
    }

    /// Records a push's end: its report and the changes per minute it achieved.
    ///
    /// # Errors
    /// A storage error.
    pub async fn finish_push(
        &self,
        session: &str,
        report: &str,
        changes_per_minute: Option<u32>,
        now: &str,
    ) -> Result<(), ApiError> {
        self.db
            .prepare(
                "UPDATE carrier_pushes SET report = ?2, changes_per_minute = ?3, finished_at = ?4 \
                 WHERE session_id = ?1",
            )
            .bind(&[
                text(session),
                text(report),
                changes_per_minute.map_or(JsValue::NULL, int),
                text(now),
            ])?
            .run()
            .await?;
        Ok(())
    }

    /// Records devices' outcomes (a retried slice writes the same rows again).
    ///
    /// # Errors
    /// A storage error.
    pub async fn put_push_outcomes(
        &self,
        session: &str,
        account: &str,
        rows: &[OutcomeRow],
    ) -> Result<(), ApiError> {
        let mut values = Vec::with_capacity(rows.len() * 8);
        for row in rows {
            values.extend([
                text(session),
                text(account),
                text(&row.iccid),
                text(&row.from_plan),
                text(&row.to_plan),
                text(&row.outcome),
                text(&row.detail),
                text(&row.at),
            ]);
        }
        self.insert_rows(
            "INSERT OR REPLACE INTO carrier_push_outcomes (session_id, account_id, iccid, \
             from_plan, to_plan, outcome, detail, at)",
            8,
            &values,
        )
        .await
    }

    /// What earlier pushes of the account say: the changes per minute of the latest that
    /// measured it, and the changes made per ICCID since `month_start` (RFC 3339).
    ///
    /// # Errors
    /// A storage error.
    pub async fn push_history(
        &self,
        account: &str,
        month_start: &str,
    ) -> Result<PushHistory, ApiError> {
        let rate = self
            .db
            .prepare(
                "SELECT changes_per_minute FROM carrier_pushes WHERE account_id = ?1 AND \
                 changes_per_minute IS NOT NULL ORDER BY finished_at DESC LIMIT 1",
            )
            .bind(&[text(account)])?
            .first::<f64>(Some("changes_per_minute"))
            .await?;
        #[derive(Deserialize)]
        struct Row {
            iccid: String,
            n: f64,
        }
        let rows = self
            .db
            .prepare(
                "SELECT iccid, COUNT(*) AS n FROM carrier_push_outcomes WHERE account_id = ?1 \
                 AND outcome IN ('applied', 'scheduled') AND at >= ?2 GROUP BY iccid",
            )
            .bind(&[text(account), text(month_start)])?
            .all()
            .await?
            .results::<Row>()?;
        Ok(PushHistory {
            changes_per_minute: rate.map(|r| r.max(0.0) as u32),
            changes_this_month: rows
                .into_iter()
                .map(|r| (r.iccid, r.n as u32))
                .collect::<BTreeMap<_, _>>(),
        })
    }

    /// A session's plan changes (from its per-SIM results), in fleet order.
    ///
    /// # Errors
    /// A storage error.
    pub async fn session_changes(&self, session: &str) -> Result<Vec<Change>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            iccid: String,
            current_plan: String,
            plan: String,
        }
        let rows = self
            .db
            .prepare(
                "SELECT iccid, current_plan, plan FROM session_sims WHERE session_id = ?1 AND \
                 changed = 1 ORDER BY n",
            )
            .bind(&[text(session)])?
            .all()
            .await?
            .results::<Row>()?;
        Ok(rows
            .into_iter()
            .map(|r| Change {
                iccid: r.iccid,
                from_plan: r.current_plan,
                to_plan: r.plan,
            })
            .collect())
    }
}
