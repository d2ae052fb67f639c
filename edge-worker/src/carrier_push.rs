//! The session's push phase (state `pushing`): after the notification, with `auto_push` or an
//! approval (`POST /api/sessions/:id/push`). Its first slice claims the account's push of the
//! billing period (one per period) and plans it with the carrier crate's [`plan_push`]: the
//! session's changes (its per-SIM results in D1), the account's change rules, its history
//! (changes per minute of earlier pushes, changes this month per ICCID) and the period's end.
//! No-go pushes nothing and notifies why. Go runs the [`PushJob`] a slice at a time like the
//! sync: its encoded state is saved in the object at every checkpoint the job asks for (before
//! a future-dated change is sent, after every batch) and at the slice's end, so a crash and a
//! restart never send a change twice; each device's outcome goes to D1. The end notifies the
//! outcome and the discrepancies (`push_notify`), then the session completes.

use simopt_carrier::{plan_push, PushJob};
use simopt_core::period::parse_instant;
use simopt_core::Settings;

use crate::carrier_store::OutcomeRow;
use crate::carrier_sync::{
    run_requests, SliceEnd, DEFAULT_INLINE_WAIT_MS, DEFAULT_SLICE_REQUESTS, STATE,
};
use crate::clock;
use crate::object::{Failure, SessionObject};
use crate::session::{Next, Notice, PushStatus, Record, State, Step};
use crate::store::Store;

/// Discrepancies listed in a push's notification.
const NOTIFIED_DISCREPANCIES: u32 = 1_000;

impl SessionObject {
    /// One slice of the push (its plan first).
    pub(crate) async fn push_slice(&self, record: &mut Record) -> Result<(), Failure> {
        let store = Store::from_env(&self.env)?;
        let (settings, carrier) = self.carrier(&store, record).await?;
        let mut job = match self.load_chunks(STATE)? {
            Some(bytes) => PushJob::decode(&bytes).map_err(|e| {
                Failure::Permanent(format!(
                    "the push's saved state does not read ({e}); nothing more is pushed — check \
                     the devices of GET /api/sessions/:id and push the rest by hand"
                ))
            })?,
            None => match self.plan(&store, record, &settings).await? {
                Some(job) => job,
                None => return Ok(()),
            },
        };
        let budget = self.var_u64("CARRIER_SLICE_REQUESTS", DEFAULT_SLICE_REQUESTS);
        let inline = self.var_u64("CARRIER_INLINE_WAIT_MS", DEFAULT_INLINE_WAIT_MS);
        let end = run_requests(&mut job, &carrier, budget, inline, |job| {
            self.save_chunks(STATE, &job.encode())?;
            Ok(())
        })
        .await;
        // Whatever happened, the state reached is kept (its outcomes are facts).
        self.save_chunks(STATE, &job.encode())?;
        let end = end?;
        // Each device's outcome to D1 (a retried slice writes the same rows again).
        let recorded = (record.outcomes_recorded as usize).min(job.outcomes().len());
        let rows: Vec<OutcomeRow> = job.outcomes()[recorded..]
            .iter()
            .map(|o| OutcomeRow {
                iccid: o.change.iccid.clone(),
                from_plan: o.change.from_plan.clone(),
                to_plan: o.change.to_plan.clone(),
                outcome: o.outcome.name().to_owned(),
                detail: serde_json::to_string(&o.outcome).unwrap_or_default(),
                at: clock::rfc3339_of_ms(o.at_ms).unwrap_or_default(),
            })
            .collect();
        store
            .put_push_outcomes(&record.view.id, &record.view.account_id, &rows)
            .await?;
        record.outcomes_recorded = job.outcomes().len() as u64;
        let report = job.report();
        let (batch, batches) = job.progress();
        let now = clock::now_rfc3339();
        let now_ms = clock::now_millis();
        record.view.state = State::Pushing;
        if let Some(push) = &mut record.view.push {
            push.slices += 1;
            push.batch = batch as u64;
            push.batches = batches as u64;
            push.counts = report.counts.clone();
            push.changes_sent = report.changes_sent;
            push.discrepancies = report.discrepancies.len() as u64;
            push.stats = Some(report.stats.clone());
        }
        record.view.progress.phase = format!(
            "pushing the changes to the carrier: batch {} of {batches}",
            (batch + 1).min(batches)
        );
        match end {
            SliceEnd::Done => {
                store
                    .finish_push(
                        &record.view.id,
                        &serde_json::to_string(&report).unwrap_or_default(),
                        report.changes_per_minute,
                        &now,
                    )
                    .await?;
                if let Some(push) = &mut record.view.push {
                    push.status = PushStatus::Completed;
                    push.finished_at = Some(now.clone());
                }
                record.advance(Next::first(Step::PushNotify), &now, now_ms);
                self.save_record(record)?;
                self.sql().exec("DELETE FROM carrier_state", None)?;
            }
            SliceEnd::Budget | SliceEnd::Wait(_) => {
                record.next_slice(end.delay_seconds(), &now, now_ms);
                self.save_record(record)?;
            }
        }
        Ok(())
    }

    /// Claims the period's push and decides go/no-go; the job on a go (saved with the record),
    /// `None` when nothing is to be pushed (the record moved on).
    async fn plan(
        &self,
        store: &Store,
        record: &mut Record,
        settings: &crate::carrier_settings::CarrierSettings,
    ) -> Result<Option<PushJob>, Failure> {
        let now = clock::now_rfc3339();
        let now_ms = clock::now_millis();
        let view = &record.view;
        let trigger = view
            .push
            .as_ref()
            .and_then(|p| p.trigger.clone())
            .unwrap_or_else(|| "auto".into());
        let holder = store
            .claim_push(
                &record.tenant,
                &view.account_id,
                &view.period_end,
                &view.id,
                &trigger,
                &now,
            )
            .await?;
        if holder != view.id {
            let reason = format!(
                "the changes of the billing period ending {} were pushed by session {holder}: at \
                 most one push per billing period, nothing was pushed",
                view.period_end
            );
            if let Some(push) = &mut record.view.push {
                push.status = PushStatus::Refused;
                push.reason = Some(reason);
            }
            record.view.progress.percent = 100.0;
            record.view.progress.phase = "completed".into();
            record.finish(State::Completed, None, &now, now_ms);
            self.clear_carrier()?;
            self.save_record(record)?;
            return Ok(None);
        }
        let resolved = Settings::resolve(&record.inputs.settings).map_err(|_| {
            Failure::Permanent("the session's settings do not resolve any more".into())
        })?;
        let zone = resolved.period.zone;
        let period_end_ms = resolved.period.end * 1000;
        let earliest_ms = settings
            .earliest_effective_date
            .as_deref()
            .and_then(|d| parse_instant(&format!("{d}T00:00"), zone))
            .map(|s| s * 1000);
        let changes = store.session_changes(&record.view.id).await?;
        let month_start = month_start_utc((now_ms / 1000.0) as i64, zone);
        let history = store
            .push_history(&record.view.account_id, &month_start)
            .await?;
        let plan = plan_push(
            changes,
            &settings.rules(earliest_ms),
            &history,
            now_ms as i64,
            period_end_ms,
        );
        let decision = plan.decision.clone();
        store
            .record_push_decision(
                &record.view.id,
                decision.go,
                &serde_json::to_string(&decision).unwrap_or_default(),
            )
            .await?;
        if let Some(push) = &mut record.view.push {
            push.decision = Some(decision.clone());
            push.started_at = Some(now.clone());
            push.batches = decision.batches;
            if !decision.go {
                push.status = PushStatus::NoGo;
                push.reason = Some(decision.reason.clone());
                push.finished_at = Some(now.clone());
            } else {
                push.status = PushStatus::Pushing;
            }
        }
        if !decision.go {
            record.advance(Next::first(Step::PushNotify), &now, now_ms);
            self.save_record(record)?;
            return Ok(None);
        }
        let job = PushJob::new(plan, self.carrier_policy(), seed(&record.view.id))
            .map_err(|e| Failure::Permanent(format!("the push cannot start: {e}")))?;
        self.save_chunks(STATE, &job.encode())?;
        self.save_record(record)?;
        Ok(Some(job))
    }

    /// Notifies the push's outcome (or its no-go) on each channel not yet delivered, then
    /// completes the session.
    pub(crate) async fn push_notify(&self, record: &mut Record) -> Result<(), Failure> {
        let store = Store::from_env(&self.env)?;
        let no_go = record
            .view
            .push
            .as_ref()
            .is_some_and(|p| p.status == PushStatus::NoGo);
        let event = if no_go {
            "push.no_go"
        } else {
            "push.completed"
        };
        let discrepancies = if no_go {
            Vec::new()
        } else {
            store
                .push_discrepancies(&record.view.id, NOTIFIED_DISCREPANCIES)
                .await?
        };
        let note = self
            .deliver(
                record,
                Notice::Push,
                async |record, url| {
                    crate::notify::push_webhook(&self.env, record, url, event, &discrepancies).await
                },
                async |record, to| {
                    let name = record.inputs.settings.account_name.as_deref();
                    let (subject, text) = crate::notify::push_email_text(
                        record,
                        name.unwrap_or_default(),
                        &discrepancies,
                    );
                    crate::notify::send_email(&self.env, to, &subject, &text, None).await
                },
            )
            .await?;
        if let Some(push) = &mut record.view.push {
            push.notification = Some(note);
        }
        let now = clock::now_rfc3339();
        record.view.progress.percent = 100.0;
        record.view.progress.phase = "completed".into();
        record.finish(State::Completed, None, &now, clock::now_millis());
        self.clear_carrier()?;
        self.save_record(record)?;
        Ok(())
    }
}

fn seed(id: &str) -> u64 {
    u64::from_str_radix(id.get(16..32).unwrap_or("0"), 16).unwrap_or(11)
}

/// The start of the calendar month holding `instant` (Unix seconds) in the account's `zone`, as
/// RFC 3339 UTC (`2026-10-31T23:00:00Z` for November in Paris): where "changes this month"
/// are counted from, as the outcomes' times are written.
pub fn month_start_utc(instant: i64, zone: chrono_tz::Tz) -> String {
    use chrono::Datelike;
    let start = chrono::DateTime::from_timestamp(instant, 0)
        .map(|t| t.with_timezone(&zone).date_naive())
        .and_then(|d| d.with_day(1))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|local| simopt_core::period::local_to_instant(local, zone))
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .unwrap_or_default();
    start.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::month_start_utc;

    #[test]
    fn a_month_starts_in_the_accounts_zone() {
        let paris: chrono_tz::Tz = "Europe/Paris".parse().expect("zone");
        // 2026-11-01T00:30 in Paris is still October in UTC.
        let early_november = 1_793_489_400; // 2026-10-31T23:30:00Z
        assert_eq!(
            month_start_utc(early_november, paris),
            "2026-10-31T23:00:00Z"
        );
        assert_eq!(
            month_start_utc(early_november, chrono_tz::Tz::UTC),
            "2026-10-01T00:00:00Z"
        );
        let new_york: chrono_tz::Tz = "America/New_York".parse().expect("zone");
        assert_eq!(
            month_start_utc(early_november, new_york),
            "2026-10-01T04:00:00Z"
        );
    }
}
