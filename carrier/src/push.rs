//! The push: plan changes to the carrier, safely.
//!
//! 1. [`plan_push`] applies the carrier's change rules (a limit of changes per SIM per month,
//!    an earliest effective date) and decides go/no-go: the estimated time to push every change
//!    (at the account's observed changes per minute, 60 by default) plus a 10-minute buffer
//!    must end before the billing period does. No-go pushes nothing.
//! 2. [`PushJob`] pushes in batches of 250, one device at a time: re-read the device (already
//!    on the target plan → done, without a change; on a plan that is neither the old nor the
//!    new one → a discrepancy, left alone), change it, re-read it to verify. Each device's
//!    outcome is recorded in the state before the next device is touched.
//!
//! **Never twice.** A change whose answer is lost (a crash, a timeout, a 5xx) is never re-sent
//! blindly: the device is re-read first, and a device showing the target plan counts as done.
//! Changes take effect at once in Control Center, so the re-read is the truth. A change with a
//! future effective date cannot be seen by a re-read: for those the job asks for a
//! [`Step::Checkpoint`] before sending, and a restored job that finds such a change armed but
//! unanswered records it as [`Outcome::Unconfirmed`] (to check by hand) instead of sending it
//! again.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::adapter::{Carrier, DeviceDetails, Operation};
use crate::checkpoint::{self, Kind};
use crate::error::CarrierError;
use crate::exchange::{Exchange, Job, Stats, Step, Verdict};
use crate::http::{HttpResponse, TransportError};
use crate::policy::Policy;

/// One plan change to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// ICCID.
    pub iccid: String,
    /// The plan the optimizer saw the SIM on.
    pub from_plan: String,
    /// The plan to move it to.
    pub to_plan: String,
}

/// The carrier's change rules and the push's own, as data (per account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRules {
    /// At most this many rate plan changes per SIM per calendar month; `None`: no limit.
    pub max_changes_per_sim_per_month: Option<u32>,
    /// Changes may not take effect before this moment (Unix ms); later than now, changes are
    /// sent with it as their effective date.
    pub earliest_effective_ms: Option<i64>,
    /// Changes per batch.
    pub batch_size: u32,
    /// The margin kept before the period ends (ms).
    pub buffer_ms: i64,
    /// The rate assumed when the account has no history of pushes.
    pub default_changes_per_minute: u32,
}

impl Default for ChangeRules {
    fn default() -> ChangeRules {
        ChangeRules {
            max_changes_per_sim_per_month: None,
            earliest_effective_ms: None,
            batch_size: 250,
            buffer_ms: 10 * 60_000,
            default_changes_per_minute: 60,
        }
    }
}

/// What the account's history says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushHistory {
    /// Changes per minute observed in earlier pushes ([`PushReport::changes_per_minute`]).
    pub changes_per_minute: Option<u32>,
    /// Changes already made this month, per ICCID.
    pub changes_this_month: BTreeMap<String, u32>,
}

/// The go/no-go decision, with its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Push or not.
    pub go: bool,
    /// Changes to push.
    pub changes: u64,
    /// Batches.
    pub batches: u64,
    /// The rate used.
    pub changes_per_minute: u32,
    /// The estimated time to push them all (ms).
    pub estimated_ms: i64,
    /// The margin kept (ms).
    pub buffer_ms: i64,
    /// Time left before the period ends (ms).
    pub available_ms: i64,
    /// In words, for the notification.
    pub reason: String,
}

/// A device's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Changed, and the re-read shows the target plan.
    Applied,
    /// Already on the target plan when read: nothing sent (done earlier, or by someone else).
    AlreadyOnTarget,
    /// Accepted with a future effective date (a re-read cannot confirm it yet).
    Scheduled {
        /// The effective date, Unix ms.
        effective_ms: i64,
    },
    /// The carrier shows a plan that is neither the old nor the new one: left alone.
    Discrepancy {
        /// The plan the carrier shows.
        carrier_plan: String,
    },
    /// Accepted, but the re-read shows another plan.
    NotVerified {
        /// The plan the carrier shows.
        carrier_plan: String,
    },
    /// The carrier does not know the device.
    UnknownDevice,
    /// The carrier refused the change.
    Rejected {
        /// Its words.
        message: String,
    },
    /// The SIM reached the carrier's limit of changes this month.
    LimitReached {
        /// Changes already made this month.
        changes_this_month: u32,
        /// The limit.
        limit: u32,
    },
    /// The same ICCID appeared earlier in the list: this one is ignored.
    Duplicate,
    /// A future-dated change was armed when the job stopped: it may or may not have been sent.
    Unconfirmed,
}

impl Outcome {
    /// Whether the device ends on its target plan (or will, at the effective date).
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            Outcome::Applied | Outcome::AlreadyOnTarget | Outcome::Scheduled { .. }
        )
    }

    /// The name used in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::AlreadyOnTarget => "already_on_target",
            Outcome::Scheduled { .. } => "scheduled",
            Outcome::Discrepancy { .. } => "discrepancy",
            Outcome::NotVerified { .. } => "not_verified",
            Outcome::UnknownDevice => "unknown_device",
            Outcome::Rejected { .. } => "rejected",
            Outcome::LimitReached { .. } => "limit_reached",
            Outcome::Duplicate => "duplicate",
            Outcome::Unconfirmed => "unconfirmed",
        }
    }
}

/// A device's outcome record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceOutcome {
    /// The change.
    pub change: Change,
    /// What happened.
    pub outcome: Outcome,
    /// When it was recorded (Unix ms).
    pub at_ms: i64,
}

/// A planned push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushPlan {
    /// Go/no-go.
    pub decision: Decision,
    /// The changes to push, in batches.
    pub batches: Vec<Vec<Change>>,
    /// Changes not pushed by rule (limit, duplicates), with their outcome.
    pub skipped: Vec<DeviceOutcome>,
    /// The effective date to send (future-dated changes), if any.
    pub effective_ms: Option<i64>,
}

/// Plans a push at `now_ms` for a period ending at `period_end_ms`.
pub fn plan_push(
    changes: Vec<Change>,
    rules: &ChangeRules,
    history: &PushHistory,
    now_ms: i64,
    period_end_ms: i64,
) -> PushPlan {
    let mut seen = BTreeSet::new();
    let mut to_push = Vec::new();
    let mut skipped = Vec::new();
    for change in changes {
        if change.from_plan == change.to_plan {
            continue;
        }
        if !seen.insert(change.iccid.clone()) {
            skipped.push(DeviceOutcome {
                change,
                outcome: Outcome::Duplicate,
                at_ms: now_ms,
            });
            continue;
        }
        if let Some(limit) = rules.max_changes_per_sim_per_month {
            let made = history
                .changes_this_month
                .get(&change.iccid)
                .copied()
                .unwrap_or(0);
            if made >= limit {
                skipped.push(DeviceOutcome {
                    change,
                    outcome: Outcome::LimitReached {
                        changes_this_month: made,
                        limit,
                    },
                    at_ms: now_ms,
                });
                continue;
            }
        }
        to_push.push(change);
    }
    let batch_size = rules.batch_size.max(1) as usize;
    let rate = history
        .changes_per_minute
        .filter(|r| *r > 0)
        .unwrap_or(rules.default_changes_per_minute)
        .max(1);
    let n = to_push.len() as i64;
    let batches_count = to_push.len().div_ceil(batch_size) as u64;
    let estimated_ms = (to_push.len() as u64 * 60_000).div_ceil(u64::from(rate)) as i64;
    let available_ms = period_end_ms - now_ms;
    let effective_ms = rules.earliest_effective_ms.filter(|e| *e > now_ms);
    let minutes = |ms: i64| ms.div_euclid(60_000);
    let (go, reason) = if n == 0 {
        (false, "no change to push".to_owned())
    } else if let Some(e) = effective_ms.filter(|e| *e >= period_end_ms) {
        (
            false,
            format!(
                "the carrier's earliest effective date is {} min after now, at or after the \
                 period's end: the changes could not count this period",
                minutes(e - now_ms)
            ),
        )
    } else if estimated_ms + rules.buffer_ms > available_ms {
        (
            false,
            format!(
                "{n} changes at {rate}/min take about {} min, plus a {} min buffer, but the \
                 period ends in {} min: push them by hand or earlier in the next period",
                minutes(estimated_ms + 59_999),
                minutes(rules.buffer_ms),
                minutes(available_ms.max(0))
            ),
        )
    } else {
        (
            true,
            format!(
                "{n} changes in {batches_count} batches at {rate}/min take about {} min, plus a \
                 {} min buffer; the period ends in {} min",
                minutes(estimated_ms + 59_999),
                minutes(rules.buffer_ms),
                minutes(available_ms)
            ),
        )
    };
    PushPlan {
        decision: Decision {
            go,
            changes: n as u64,
            batches: batches_count,
            changes_per_minute: rate,
            estimated_ms,
            buffer_ms: rules.buffer_ms,
            available_ms,
            reason,
        },
        batches: to_push.chunks(batch_size).map(<[Change]>::to_vec).collect(),
        skipped,
        effective_ms,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum DeviceStep {
    /// Read the device before any change. `after_send`: a change may have been sent.
    Check { after_send: bool },
    /// Send the change. `armed`: a future-dated change about to go (after a checkpoint).
    Change { armed: bool },
    /// Re-read after the change.
    Verify,
}

/// The end of a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushReport {
    /// Outcomes by name.
    pub counts: BTreeMap<String, u64>,
    /// Devices whose plan at the carrier differs from ours (discrepancies, not verified,
    /// unconfirmed), for the notification.
    pub discrepancies: Vec<DeviceOutcome>,
    /// Changes sent (PUTs answered 2xx).
    pub changes_sent: u64,
    /// Observed changes per minute (for the next go/no-go), when measurable.
    pub changes_per_minute: Option<u32>,
    /// First poll, Unix ms.
    pub started_ms: i64,
    /// Last answer, Unix ms.
    pub finished_ms: i64,
    /// Requests, retries, 429s, 5xx.
    pub stats: Stats,
}

/// A resumable push. See the module's documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushJob {
    batches: Vec<Vec<Change>>,
    effective_ms: Option<i64>,
    exchange: Exchange,
    batch: usize,
    index: usize,
    step: DeviceStep,
    outcomes: Vec<DeviceOutcome>,
    changes_sent: u64,
    started_ms: Option<i64>,
    finished_ms: Option<i64>,
    checkpoint_due: bool,
    /// False in a state just decoded: `poll` repairs what a stop interrupted.
    #[serde(skip)]
    live: bool,
}

impl PushJob {
    /// A push of a plan that is a go.
    ///
    /// # Errors
    /// [`CarrierError::NoGo`] with the decision's reason when the plan is not a go.
    pub fn new(plan: PushPlan, policy: Policy, seed: u64) -> Result<PushJob, CarrierError> {
        if !plan.decision.go {
            return Err(CarrierError::NoGo {
                reason: plan.decision.reason,
            });
        }
        Ok(PushJob {
            batches: plan.batches,
            effective_ms: plan.effective_ms,
            exchange: Exchange::new(policy, seed),
            batch: 0,
            index: 0,
            step: DeviceStep::Check { after_send: false },
            outcomes: plan.skipped,
            changes_sent: 0,
            started_ms: None,
            finished_ms: None,
            checkpoint_due: false,
            live: true,
        })
    }

    /// The state as versioned bytes.
    pub fn encode(&self) -> Vec<u8> {
        checkpoint::encode(Kind::Push, self)
    }

    /// A saved push, to resume.
    ///
    /// # Errors
    /// [`CarrierError::BadState`].
    pub fn decode(bytes: &[u8]) -> Result<PushJob, CarrierError> {
        checkpoint::decode(Kind::Push, bytes)
    }

    /// Every outcome recorded so far (skipped changes first).
    pub fn outcomes(&self) -> &[DeviceOutcome] {
        &self.outcomes
    }

    /// Whether every change has its outcome.
    pub fn is_done(&self) -> bool {
        self.batch >= self.batches.len()
    }

    /// The current batch (0-based) and the number of batches.
    pub fn progress(&self) -> (usize, usize) {
        (self.batch, self.batches.len())
    }

    /// The report (complete once [`PushJob::is_done`]).
    pub fn report(&self) -> PushReport {
        let mut counts = BTreeMap::new();
        for o in &self.outcomes {
            *counts.entry(o.outcome.name().to_owned()).or_insert(0) += 1;
        }
        let discrepancies = self
            .outcomes
            .iter()
            .filter(|o| {
                matches!(
                    o.outcome,
                    Outcome::Discrepancy { .. }
                        | Outcome::NotVerified { .. }
                        | Outcome::Unconfirmed
                )
            })
            .cloned()
            .collect();
        let started_ms = self.started_ms.unwrap_or_default();
        let finished_ms = self.finished_ms.unwrap_or(started_ms);
        let elapsed = finished_ms - started_ms;
        let changes_per_minute = (self.changes_sent >= 10 && elapsed > 0)
            .then(|| (self.changes_sent as i64 * 60_000 / elapsed).max(1) as u32);
        PushReport {
            counts,
            discrepancies,
            changes_sent: self.changes_sent,
            changes_per_minute,
            started_ms,
            finished_ms,
            stats: self.exchange.stats.clone(),
        }
    }

    fn current(&self) -> &Change {
        &self.batches[self.batch][self.index]
    }

    fn record(&mut self, outcome: Outcome, now_ms: i64) {
        let change = self.current().clone();
        self.outcomes.push(DeviceOutcome {
            change,
            outcome,
            at_ms: now_ms,
        });
        self.step = DeviceStep::Check { after_send: false };
        self.index += 1;
        if self.index >= self.batches[self.batch].len() {
            self.index = 0;
            self.batch += 1;
            self.checkpoint_due = true;
            if self.is_done() {
                self.finished_ms = Some(now_ms);
            }
        }
    }

    /// After a restore (nothing is in flight): a change that may have gone is re-read first.
    fn repair(&mut self, now_ms: i64) {
        self.live = true;
        if self.is_done() {
            return;
        }
        match self.step {
            DeviceStep::Change { armed: true } => self.record(Outcome::Unconfirmed, now_ms),
            DeviceStep::Change { armed: false } | DeviceStep::Verify => {
                self.step = DeviceStep::Check { after_send: true };
            }
            DeviceStep::Check { .. } => {}
        }
    }

    fn on_read(&mut self, details: DeviceDetails, verify: bool, after_send: bool, now_ms: i64) {
        let change = self.current();
        if details.rate_plan == change.to_plan {
            let outcome = if verify || after_send {
                Outcome::Applied
            } else {
                Outcome::AlreadyOnTarget
            };
            self.record(outcome, now_ms);
        } else if verify {
            self.record(
                Outcome::NotVerified {
                    carrier_plan: details.rate_plan,
                },
                now_ms,
            );
        } else if details.rate_plan != change.from_plan {
            self.record(
                Outcome::Discrepancy {
                    carrier_plan: details.rate_plan,
                },
                now_ms,
            );
        } else {
            self.step = DeviceStep::Change { armed: false };
        }
    }
}

/// The outcome of a device whose read or change got a final answer (404, another 4xx).
fn final_outcome(error: CarrierError) -> Outcome {
    match error {
        CarrierError::UnknownDevice { .. } => Outcome::UnknownDevice,
        e => Outcome::Rejected {
            message: e.to_string(),
        },
    }
}

impl Job for PushJob {
    fn poll(&mut self, carrier: &dyn Carrier, now_ms: i64) -> Result<Step, CarrierError> {
        if !self.live {
            self.repair(now_ms);
        }
        if self.started_ms.is_none() {
            self.started_ms = Some(now_ms);
        }
        if self.checkpoint_due {
            self.checkpoint_due = false;
            return Ok(Step::Checkpoint);
        }
        if self.is_done() {
            return Ok(Step::Done);
        }
        let change = self.current().clone();
        match self.step {
            DeviceStep::Check { .. } | DeviceStep::Verify => {
                Ok(self
                    .exchange
                    .gate(now_ms, carrier.device_details(&change.iccid), false))
            }
            DeviceStep::Change { armed } => {
                if self.effective_ms.is_some() && !armed {
                    // Saved as armed before sending: a restore will not send it again.
                    self.step = DeviceStep::Change { armed: true };
                    return Ok(Step::Checkpoint);
                }
                Ok(self.exchange.gate(
                    now_ms,
                    carrier.change_rate_plan(&change.iccid, &change.to_plan, self.effective_ms),
                    true,
                ))
            }
        }
    }

    fn handle(
        &mut self,
        carrier: &dyn Carrier,
        now_ms: i64,
        id: u64,
        answer: Result<HttpResponse, TransportError>,
    ) -> Result<(), CarrierError> {
        if self.is_done() || !self.live {
            return Ok(());
        }
        let iccid = self.current().iccid.clone();
        match self.step.clone() {
            step @ (DeviceStep::Check { .. } | DeviceStep::Verify) => {
                let verify = step == DeviceStep::Verify;
                let after_send = matches!(step, DeviceStep::Check { after_send: true });
                let verdict =
                    self.exchange
                        .judge(now_ms, id, Operation::DeviceDetails, answer, |r| {
                            carrier.parse_device_details(&iccid, r)
                        })?;
                match verdict {
                    Verdict::Ok(details) => self.on_read(details, verify, after_send, now_ms),
                    Verdict::Final(e) => self.record(final_outcome(e), now_ms),
                    Verdict::Stale | Verdict::Retry(_) => {}
                }
            }
            DeviceStep::Change { .. } => {
                let verdict =
                    self.exchange
                        .judge(now_ms, id, Operation::ChangeRatePlan, answer, |r| {
                            carrier.parse_change(&iccid, r)
                        })?;
                match verdict {
                    Verdict::Ok(()) => {
                        self.changes_sent += 1;
                        match self.effective_ms {
                            Some(effective_ms) => {
                                self.record(Outcome::Scheduled { effective_ms }, now_ms);
                            }
                            None => self.step = DeviceStep::Verify,
                        }
                    }
                    Verdict::Final(e) => self.record(final_outcome(e), now_ms),
                    // Refused for now (429): nothing was applied; the change is sent again.
                    Verdict::Retry(CarrierError::RateLimited { .. }) => {}
                    // No answer or a 5xx: it may have been applied. Re-read before anything.
                    Verdict::Retry(e) => {
                        if self.effective_ms.is_none() {
                            self.step = DeviceStep::Check { after_send: true };
                        } else if matches!(e, CarrierError::Transport { .. }) {
                            // A re-read cannot see a future-dated change and no answer came:
                            // it may be in place. Not sent again; checked by hand.
                            self.record(Outcome::Unconfirmed, now_ms);
                        }
                        // A future-dated change answered 5xx was refused: sent again, armed.
                    }
                    Verdict::Stale => {}
                }
            }
        }
        Ok(())
    }
}
