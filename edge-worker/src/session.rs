//! A session: one optimization of an account's fleet for one billing period, driven through the
//! queue a slice at a time by the account's [`crate::object::SessionObject`] for that period.
//! This module is the pure part — what the object keeps, the state machine, which queue message
//! may run — so it is tested natively; the object does the I/O.
//!
//! ```text
//! created ─▶ [syncing] ─▶ optimizing ─▶ reporting (report, per-SIM results) ─▶ notifying
//!    │                                                                            │
//!    │            completed ◀─ [pushing (plan, push slices, push notification)] ◀─┤ auto-push
//!    │            completed, push awaiting approval ◀─────────────────────────────┘ otherwise
//!    └──── any state ──▶ failed (with the reason)
//! ```
//!
//! `syncing` and `pushing` belong to accounts with a carrier connection only; an approved push
//! (`POST /api/sessions/:id/push`) takes a completed session back to `pushing`.
//!
//! Every piece of work is a queue message naming the session, its step (`sync`, `optimize`,
//! `report`, `results`, `notify`, `push`, `push_notify`), work unit and slice. The object keeps the one message it expects next; any other
//! (a duplicate, a stale or an out-of-order delivery, a message of an earlier session of the
//! same period) changes nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use simopt_carrier::{Decision, Stats, SyncCounts};
use simopt_core::optimize::Progress;
use simopt_core::report::OptimizationSummary;
use simopt_core::Money;
use simopt_core::SettingsInput;

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Started; no slice has run yet.
    Created,
    /// The SIMs are being read from the carrier, a slice of requests per queue message.
    Syncing,
    /// The optimizer runs, a slice per queue message.
    Optimizing,
    /// The report is being written.
    Reporting,
    /// The notification is being sent.
    Notifying,
    /// The changes are being pushed to the carrier (or the push's go/no-go notified).
    Pushing,
    /// Done: the report is in R2 and the summary in D1.
    Completed,
    /// Stopped for the reason the session gives.
    Failed,
}

impl State {
    /// Whether the session still has work to do (it holds its period's lock).
    pub fn is_active(self) -> bool {
        !matches!(self, State::Completed | State::Failed)
    }

    /// The name used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Syncing => "syncing",
            State::Optimizing => "optimizing",
            State::Reporting => "reporting",
            State::Notifying => "notifying",
            State::Pushing => "pushing",
            State::Completed => "completed",
            State::Failed => "failed",
        }
    }
}

/// The kind of work a message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// One slice of the carrier sync (a bounded number of requests).
    Sync,
    /// One slice of the optimizer.
    Optimize,
    /// Write the report (xlsx, JSON, per-SIM CSV) to R2.
    Report,
    /// Write a chunk of the per-SIM results to D1 (slice `k`: SIMs `k × RESULTS_CHUNK` on).
    Results,
    /// Send the notification.
    Notify,
    /// One slice of the push (its go/no-go first).
    Push,
    /// Send the push's notification (its outcome, or the no-go and why).
    #[serde(rename = "push_notify")]
    PushNotify,
    /// One slice of one work unit of a fleet cut into several, run by the unit's own object
    /// ([`crate::unit::UnitObject`], named by [`unit_object_name`]) in parallel with the others.
    Unit,
    /// The session waits for its work units' results (each unit's object reports them; no
    /// message of this step is ever queued: the watchdog makes sure every unit runs).
    Units,
}

/// A queue message: one piece of a session's work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Work {
    /// The name of the session object (`<account>/<period end>`).
    pub object: String,
    /// The session's id.
    pub session: String,
    /// What to do.
    pub step: Step,
    /// The work unit (independent parts of the fleet: [`simopt_core::optimize::units`]); 0 but
    /// for [`Step::Unit`].
    pub unit: u32,
    /// The slice number within the unit, from 0.
    pub slice: u32,
}

/// The name of the session object of an account's period: the lock of that period.
pub fn object_name(account: &str, period_end: &str) -> String {
    format!("{account}/{period_end}")
}

/// The name of the object that runs work unit `unit` of session `session` (whose object is
/// `session_object`): `<account>/<period end>/<session>/<unit>`.
pub fn unit_object_name(session_object: &str, session: &str, unit: u32) -> String {
    format!("{session_object}/{session}/{unit}")
}

/// The session object's name in a unit object's name.
pub fn session_object_of_unit(unit_object: &str) -> Option<&str> {
    let mut parts = unit_object.rsplitn(3, '/');
    let (_unit, _session) = (parts.next()?, parts.next()?);
    parts.next()
}

/// A work unit's progress, as its object reports it to the session's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitProgress {
    /// What the unit's optimizer is doing.
    pub phase: String,
    /// Its share done, 0–1.
    pub done: f64,
    /// Its SIMs.
    pub sims: u64,
    /// Its bill as it stands, micros.
    pub current_micros: i64,
    /// Its best bill so far, micros.
    pub best_micros: i64,
    /// Its bound, micros, once computed.
    pub bound_micros: Option<i64>,
    /// Its slices run.
    pub slices: u32,
    /// Its longest slice, ms.
    pub slice_ms_max: u64,
    /// All its slices, ms.
    pub slice_ms_total: u64,
    /// Its last checkpoint's size.
    pub checkpoint_bytes: u64,
}

impl UnitProgress {
    /// A unit's progress from its job's.
    pub fn of(p: &Progress, sims: u64) -> UnitProgress {
        UnitProgress {
            phase: p.phase.to_owned(),
            done: p.done,
            sims,
            current_micros: p.current_cost.micros(),
            best_micros: p.best_cost.micros(),
            bound_micros: p.lower_bound.map(|b| b.micros()),
            slices: 0,
            slice_ms_max: 0,
            slice_ms_total: 0,
            checkpoint_bytes: 0,
        }
    }
}

/// A session's fleet cut into work units, each optimized by its own object in parallel; the
/// session counts them done here (its record) and keeps their results in its storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitsRun {
    /// Each unit's last reported progress (none before its first slice).
    pub progress: Vec<Option<UnitProgress>>,
    /// Whether each unit's result is in.
    pub done: Vec<bool>,
    /// Whether each unit's SIMs are listed in R2 ([`unit_sims_key`]), so its object reads only
    /// those (false in sessions started before the lists were written).
    #[serde(default)]
    pub listed: bool,
}

impl UnitsRun {
    /// `count` units, none started, their SIMs listed in R2.
    pub fn new(count: usize) -> UnitsRun {
        UnitsRun {
            progress: vec![None; count],
            done: vec![false; count],
            listed: true,
        }
    }

    /// Whether every unit's result is in.
    pub fn all_done(&self) -> bool {
        self.done.iter().all(|&d| d)
    }

    /// The session's progress from its units': the share done weighted by SIMs, the bills
    /// added up, the bound once every unit has one.
    pub fn view(&self) -> ProgressView {
        let done_units = self.done.iter().filter(|&&d| d).count();
        let reported: Vec<&UnitProgress> = self.progress.iter().flatten().collect();
        let sims: u64 = reported.iter().map(|p| p.sims).sum();
        let done: f64 = reported.iter().map(|p| p.done * p.sims as f64).sum();
        let all = reported.len() == self.progress.len();
        let sum =
            |f: fn(&UnitProgress) -> i64| Money::from_micros(reported.iter().map(|p| f(p)).sum());
        let bound = reported
            .iter()
            .map(|p| p.bound_micros)
            .sum::<Option<i64>>()
            .filter(|_| all)
            .map(Money::from_micros);
        let progress = Progress {
            phase: "",
            done: if all { done / sims.max(1) as f64 } else { 0.0 },
            current_cost: sum(|p| p.current_micros),
            best_cost: sum(|p| p.best_micros),
            lower_bound: bound.map(|b| b.min(sum(|p| p.best_micros))),
        };
        let mut view = ProgressView::of(&progress);
        view.phase = format!(
            "optimizing {} work units in parallel ({done_units} done)",
            self.done.len()
        );
        if !all {
            // Bills of part of the fleet are no bills of the fleet.
            (view.current_cost, view.best_cost) = (None, None);
        }
        view
    }

    /// Slices, the longest and total slice time, and the largest checkpoint, over the units.
    pub fn totals(&self) -> (u32, u64, u64, u64) {
        let reported = self.progress.iter().flatten();
        reported.fold((0, 0, 0, 0), |(n, max, total, ckpt), p| {
            (
                n + p.slices,
                max.max(p.slice_ms_max),
                total + p.slice_ms_total,
                ckpt.max(p.checkpoint_bytes),
            )
        })
    }
}

/// An uploaded file a session reads, pinned when it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// The upload's id (D1 `uploads.id`).
    pub upload: i64,
    /// Where its body is in R2.
    pub key: String,
    /// Hex SHA-256 of the body.
    pub sha256: String,
    /// Its data rows, as checked at upload (0: not known), to make room for its SIMs at once.
    #[serde(default)]
    pub rows: u64,
}

/// What a session runs on, fixed when it starts, so every slice and every retry reads the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// The plans file.
    pub plans: FileRef,
    /// The eligibility file, if the account has one.
    pub eligibility: Option<FileRef>,
    /// The SIMs file: the account's current one at the start; with a carrier, the synced
    /// snapshot once the sync is done (none before when the account never had one).
    pub sims: Option<FileRef>,
    /// The core's settings: the account's, at the session's start, for its period.
    pub settings: SettingsInput,
    /// Where the summary goes: the account's webhook, if any.
    pub notify_webhook: Option<String>,
    /// And its e-mail address, if any.
    pub notify_email: Option<String>,
    /// The account has a carrier connection: the session syncs first and may push after.
    #[serde(default)]
    pub carrier: bool,
    /// Push the changes without approval (the account's `auto_push`).
    #[serde(default)]
    pub auto_push: bool,
}

/// What started a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// `POST /api/accounts/:id/sessions`.
    Manual,
    /// The hourly cron trigger, in the account's window.
    Cron,
}

/// A session's progress, as answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressView {
    /// What the optimizer is doing.
    pub phase: String,
    /// Share of the whole session done, 0–100 (the optimizer's share, then the report's).
    pub percent: f64,
    /// The bill as the fleet stands.
    pub current_cost: Option<String>,
    /// The best bill found so far.
    pub best_cost: Option<String>,
    /// The certified lower bound, once computed.
    pub lower_bound: Option<String>,
    /// `(best − bound) / best`, a fraction.
    pub gap: Option<f64>,
}

impl ProgressView {
    /// Nothing done yet.
    pub fn start() -> ProgressView {
        ProgressView {
            phase: "waiting for the first slice".into(),
            percent: 0.0,
            current_cost: None,
            best_cost: None,
            lower_bound: None,
            gap: None,
        }
    }

    /// The optimizer's progress (its share is the first 95 % of the session).
    pub fn of(p: &Progress) -> ProgressView {
        ProgressView {
            phase: p.phase.to_owned(),
            percent: (p.done * 95.0).clamp(0.0, 95.0),
            current_cost: Some(p.current_cost.to_decimal_string()),
            best_cost: Some(p.best_cost.to_decimal_string()),
            lower_bound: p.lower_bound.map(|b| b.to_decimal_string()),
            gap: p.gap(),
        }
    }
}

/// A finished optimization's figures, as answered and kept in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryView {
    /// The bill as the fleet stands.
    pub current_cost: String,
    /// The bill on the new plans.
    pub optimized_cost: String,
    /// `current − optimized`.
    pub savings: String,
    /// The certified lower bound.
    pub lower_bound: Option<String>,
    /// `(optimized − bound) / optimized`.
    pub gap: Option<f64>,
    /// SIMs whose plan changes.
    pub changes: u64,
    /// SIMs in the fleet.
    pub sims: u64,
}

impl SummaryView {
    /// The figures of an optimization's summary.
    pub fn of(summary: &OptimizationSummary, current_cost: String, sims: u64) -> SummaryView {
        SummaryView {
            current_cost,
            optimized_cost: summary.optimized_cost.to_decimal_string(),
            savings: summary.savings.to_decimal_string(),
            lower_bound: summary.lower_bound.map(|b| b.to_decimal_string()),
            gap: summary.gap,
            changes: summary.changes,
            sims,
        }
    }
}

/// Time spent, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// From the start to the optimizer's last slice.
    pub optimize_ms: Option<u64>,
    /// From the start to completion (or failure).
    pub total_ms: Option<u64>,
    /// The longest slice (loading the input, running, saving the checkpoint).
    pub slice_ms_max: u64,
    /// All slices together.
    pub slice_ms_total: u64,
}

/// A session as answered by `GET /api/sessions/:id` and kept in D1 for the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    /// 32 hex digits.
    pub id: String,
    /// The account.
    pub account_id: String,
    /// The billing period's end (local `YYYY-MM-DDTHH:MM` in the account's zone).
    pub period_end: String,
    /// What started it.
    pub trigger: Trigger,
    /// The moment the fleet's usage is read as of (its start; RFC 3339, UTC).
    pub as_of: String,
    /// Where it stands.
    pub state: State,
    /// Why it failed.
    pub reason: Option<String>,
    /// The optimizer's progress.
    pub progress: ProgressView,
    /// The result, once optimized.
    pub summary: Option<SummaryView>,
    /// SIMs in the fleet (once loaded).
    pub sims: Option<u64>,
    /// Optimizer slices run.
    pub slices: u32,
    /// The last checkpoint's size.
    pub checkpoint_bytes: u64,
    /// Where to download the Excel report, once written.
    pub report: Option<String>,
    /// What became of the notification (`sent`, `none configured`, ...), once tried.
    pub notification: Option<String>,
    /// Times.
    pub timings: Timings,
    /// When it started (RFC 3339, UTC).
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// When it completed or failed.
    pub finished_at: Option<String>,
    /// The carrier sync (accounts with a carrier connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncView>,
    /// The push of the changes to the carrier (accounts with a carrier connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushView>,
    /// The work units the fleet was cut into, each optimized by its own object in parallel
    /// (absent for a fleet of one unit, optimized by the session's object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<u32>,
}

/// A session's carrier sync, as answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncView {
    /// `full` or `incremental`.
    pub mode: String,
    /// Incremental: the devices modified since this moment (RFC 3339) are read again.
    pub since: Option<String>,
    /// `running` or `done`.
    pub status: String,
    /// Queue messages (slices) it took.
    pub slices: u32,
    /// Pages, devices listed, rows, usage refreshes, devices gone.
    pub counts: SyncCounts,
    /// Requests, retries, 429s, 5xx, transport errors, time waited.
    pub stats: Stats,
    /// SIMs in the snapshot, once done.
    pub sims: Option<u64>,
    /// The SIMs file (upload) it made the account's current one, once done.
    pub upload_id: Option<i64>,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
}

/// Where a push stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    /// The account does not push without approval: `POST /api/sessions/:id/push` starts it.
    AwaitingApproval,
    /// Approved (or automatic), not planned yet.
    Planned,
    /// Go: the changes are being pushed.
    Pushing,
    /// No-go: nothing was pushed (the reason and figures say why).
    NoGo,
    /// Another session pushed this billing period's changes: nothing was pushed.
    Refused,
    /// Every change has its outcome.
    Completed,
}

impl PushStatus {
    /// Its name, as answered (`awaiting_approval`, `no_go`...).
    pub fn as_str(self) -> &'static str {
        match self {
            PushStatus::AwaitingApproval => "awaiting_approval",
            PushStatus::Planned => "planned",
            PushStatus::Pushing => "pushing",
            PushStatus::NoGo => "no_go",
            PushStatus::Refused => "refused",
            PushStatus::Completed => "completed",
        }
    }
}

/// A session's push, as answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushView {
    /// Where it stands.
    pub status: PushStatus,
    /// `auto` or `approval`, once started.
    pub trigger: Option<String>,
    /// The go/no-go and its figures, once planned.
    pub decision: Option<Decision>,
    /// Why nothing was pushed (no-go, refused), if so.
    pub reason: Option<String>,
    /// Batches done and in all.
    pub batch: u64,
    /// Batches in all.
    pub batches: u64,
    /// Queue messages (slices) it took.
    pub slices: u32,
    /// Device outcomes by name (`applied`, `already_on_target`, `discrepancy`...).
    pub counts: BTreeMap<String, u64>,
    /// Changes sent to the carrier (answered 2xx).
    pub changes_sent: u64,
    /// Devices whose plan at the carrier differs from ours.
    pub discrepancies: u64,
    /// Requests, retries, 429s, 5xx.
    pub stats: Option<Stats>,
    /// What became of the push's notification, once sent.
    pub notification: Option<String>,
    /// When it started (RFC 3339).
    pub started_at: Option<String>,
    /// When it ended.
    pub finished_at: Option<String>,
}

impl PushView {
    /// A push not started yet.
    pub fn new(status: PushStatus) -> PushView {
        PushView {
            status,
            trigger: None,
            decision: None,
            reason: None,
            batch: 0,
            batches: 0,
            slices: 0,
            counts: BTreeMap::new(),
            changes_sent: 0,
            discrepancies: 0,
            stats: None,
            notification: None,
            started_at: None,
            finished_at: None,
        }
    }
}

impl SessionView {
    /// The file name its Excel report is downloaded and mailed as
    /// (`simopt-<period end date>-<first 8 of the id>.xlsx`).
    pub fn report_file_name(&self) -> String {
        format!(
            "simopt-{}-{}.xlsx",
            self.period_end.get(..10).unwrap_or(&self.period_end),
            self.id.get(..8).unwrap_or(&self.id)
        )
    }
}

/// Everything a session object keeps about its session (JSON in its storage; the checkpoint
/// is kept beside it, in chunks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// What is answered.
    pub view: SessionView,
    /// The tenant (every D1 row of the session carries it).
    pub tenant: String,
    /// The files and settings.
    pub inputs: Inputs,
    /// The message the session waits for.
    pub next: Next,
    /// Whether `next` has been handed to the queue.
    pub sent: bool,
    /// How many times `next` has failed in a row.
    pub failures: u32,
    /// When the session last moved (milliseconds since the epoch), for the watchdog.
    pub moved_ms: f64,
    /// When it started (milliseconds since the epoch).
    pub started_ms: f64,
    /// Where the report's files are in R2, once written.
    pub report_keys: Option<ReportKeys>,
    /// How often the watchdog had to send `next` again.
    pub watchdog_resends: u32,
    /// The notification's channels delivered so far (none is sent twice).
    #[serde(default)]
    pub delivered: Delivered,
    /// Seconds the queue holds `next` before delivering it (a carrier asked to wait).
    #[serde(default)]
    pub delay_seconds: u32,
    /// The push notification's channels delivered so far.
    #[serde(default)]
    pub push_delivered: Delivered,
    /// Device outcomes of the push written to D1 so far.
    #[serde(default)]
    pub outcomes_recorded: u64,
    /// The work units, when the fleet is cut into more than one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<UnitsRun>,
    /// How far the report step has written the report's files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_writing: Option<ReportWriting>,
}

/// What the notify step has delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    /// The webhook's answer status, once delivered.
    pub webhook: Option<u16>,
    /// The address the e-mail went to, once sent.
    pub email: Option<String>,
}

impl Delivered {
    /// What the session's view says of the notification.
    pub fn describe(&self, inputs: &Inputs) -> String {
        let mut notes = Vec::new();
        if let Some(status) = self.webhook {
            notes.push(format!("webhook delivered ({status})"));
        }
        if let Some(to) = &self.email {
            notes.push(format!("e-mail sent to {to}"));
        }
        if inputs.notify_webhook.is_none() && inputs.notify_email.is_none() {
            notes.push("none configured".into());
        }
        notes.join("; ")
    }
}

/// One of a session's notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The session's: its summary and report.
    Session,
    /// Its push's: the outcome, or the no-go and why.
    Push,
}

impl Record {
    /// The channels of `notice` delivered so far.
    pub fn delivered(&self, notice: Notice) -> &Delivered {
        match notice {
            Notice::Session => &self.delivered,
            Notice::Push => &self.push_delivered,
        }
    }

    /// The same, to record a delivery.
    pub fn delivered_mut(&mut self, notice: Notice) -> &mut Delivered {
        match notice {
            Notice::Session => &mut self.delivered,
            Notice::Push => &mut self.push_delivered,
        }
    }
}

/// The work a session waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Next {
    /// The step.
    pub step: Step,
    /// The unit.
    pub unit: u32,
    /// The slice.
    pub slice: u32,
}

impl Next {
    /// The first slice of `step`'s first unit.
    pub fn first(step: Step) -> Next {
        Next {
            step,
            unit: 0,
            slice: 0,
        }
    }
}

/// Where the SIMs of a session's work unit are listed in R2 (their positions in the fleet, as
/// [`encode_positions`] writes them): the unit's object reads only those SIMs of the file.
pub fn unit_sims_key(tenant: &str, account: &str, session: &str, unit: u32) -> String {
    format!("tenants/{tenant}/accounts/{account}/sessions/{session}/units/{unit}.sims")
}

/// SIM positions as bytes: each a little-endian `u32`.
pub fn encode_positions(positions: &[u32]) -> Vec<u8> {
    positions.iter().flat_map(|p| p.to_le_bytes()).collect()
}

/// SIM positions from [`encode_positions`]'s bytes; `None` unless they are whole and ascending.
pub fn decode_positions(bytes: &[u8]) -> Option<Vec<u32>> {
    if bytes.len() % 4 != 0 {
        return None;
    }
    let positions: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    positions
        .windows(2)
        .all(|w| w[0] < w[1])
        .then_some(positions)
}

/// Where a session's report files are in R2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportKeys {
    /// The Excel report.
    pub xlsx: String,
    /// The JSON contract document (`simopt optimize --json`).
    pub json: String,
    /// The per-SIM CSV export.
    pub csv: String,
}

impl ReportKeys {
    /// The keys of a session's files: `tenants/<t>/accounts/<a>/sessions/<id>/…`.
    pub fn of(tenant: &str, account: &str, session: &str) -> ReportKeys {
        let base = format!("tenants/{tenant}/accounts/{account}/sessions/{session}");
        ReportKeys {
            xlsx: format!("{base}/report.xlsx"),
            json: format!("{base}/optimize.json"),
            csv: format!("{base}/assignments.csv"),
        }
    }
}

/// The least bytes of a part of a file written to R2 in parts (a report file, an uploaded SIMs
/// file): R2 takes parts of 5 MiB and more (but the last).
pub const MIN_PART_BYTES: u64 = 5 << 20;

/// Bytes of a part by default (`PART_BYTES`): a report step or an upload holds one part (and
/// its copy on the way to R2), so a million SIMs' report files (100–300 MB each) are written in
/// 7–18 steps.
pub const DEFAULT_PART_BYTES: u64 = 16 << 20;

/// One of a session's report files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFile {
    /// The Excel report.
    Xlsx,
    /// The JSON contract document.
    Json,
    /// The per-SIM CSV export.
    Csv,
}

impl ReportFile {
    /// Its key among the session's.
    pub fn key(self, keys: &ReportKeys) -> &str {
        match self {
            ReportFile::Xlsx => &keys.xlsx,
            ReportFile::Json => &keys.json,
            ReportFile::Csv => &keys.csv,
        }
    }

    /// The content type R2 serves it with.
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFile::Xlsx => crate::cost::XLSX_TYPE,
            ReportFile::Json => "application/json",
            ReportFile::Csv => "text/csv; charset=utf-8",
        }
    }

    /// What it is, for the session's phase.
    pub fn name(self) -> &'static str {
        match self {
            ReportFile::Xlsx => "the Excel report",
            ReportFile::Json => "the JSON document",
            ReportFile::Csv => "the CSV export",
        }
    }

    /// The file written after it, if any.
    fn next(self) -> Option<ReportFile> {
        match self {
            ReportFile::Xlsx => Some(ReportFile::Json),
            ReportFile::Json => Some(ReportFile::Csv),
            ReportFile::Csv => None,
        }
    }
}

/// How far the report step has got: it writes the files one after another, a part of a file
/// per step, so no step holds more than a part of one (a file of one part is stored whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportWriting {
    /// The file being written.
    pub file: ReportFile,
    /// Bytes per part, kept for the whole report (R2 takes the parts of a file of one size).
    pub part_bytes: u64,
    /// The file's multipart upload in R2, once it proved larger than one part.
    pub upload_id: Option<String>,
    /// The ETags of its parts stored so far, part 1 first.
    pub etags: Vec<String>,
}

impl ReportWriting {
    /// The first part of the first file, in parts of `part_bytes` (at least
    /// [`MIN_PART_BYTES`]).
    pub fn new(part_bytes: u64) -> ReportWriting {
        ReportWriting {
            file: ReportFile::Xlsx,
            part_bytes: part_bytes.max(MIN_PART_BYTES),
            upload_id: None,
            etags: Vec::new(),
        }
    }

    /// Where the next part starts in its file.
    pub fn offset(&self) -> u64 {
        self.etags.len() as u64 * self.part_bytes
    }

    /// The next part's number in its upload (from 1).
    pub fn part_number(&self) -> u16 {
        self.etags.len() as u16 + 1
    }

    /// After a file is stored: on to the next one; false when it was the last.
    pub fn next_file(&mut self) -> bool {
        let Some(next) = self.file.next() else {
            return false;
        };
        *self = ReportWriting {
            file: next,
            ..ReportWriting::new(self.part_bytes)
        };
        true
    }
}

/// What to do with a delivered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// It is the work the session waits for: do it.
    Run,
    /// The session's next message was never handed to the queue (a crash or a failed send):
    /// send it, do nothing else.
    Resend,
    /// A duplicate, stale or out-of-order message, or one of another session: nothing to do.
    Ignore,
}

/// Whether `work` may run against the session in `record`.
pub fn admit(record: &Record, work: &Work) -> Admission {
    if work.session != record.view.id || !record.view.state.is_active() {
        return Admission::Ignore;
    }
    let asked = Next {
        step: work.step,
        unit: work.unit,
        slice: work.slice,
    };
    if asked == record.next {
        Admission::Run
    } else if !record.sent {
        Admission::Resend
    } else {
        Admission::Ignore
    }
}

/// SIMs written to D1 per `results` slice.
pub const RESULTS_CHUNK: usize = 2_000;

/// After this many failures in a row of the same work, the session fails.
pub const MAX_FAILURES: u32 = 5;

/// Seconds before the queue delivers a failed message again, after `failures` failures:
/// 2, 4, 8, … capped at five minutes.
pub fn retry_delay(failures: u32) -> u32 {
    2u32.saturating_pow(failures.max(1)).min(300)
}

impl Record {
    /// The message of the work the session waits for.
    pub fn next_work(&self, object: &str) -> Work {
        Work {
            object: object.to_owned(),
            session: self.view.id.clone(),
            step: self.next.step,
            unit: self.next.unit,
            slice: self.next.slice,
        }
    }

    /// Moves on to `next` (not yet sent, delivered at once), at `now_ms`.
    pub fn advance(&mut self, next: Next, now: &str, now_ms: f64) {
        self.next = next;
        self.sent = false;
        self.failures = 0;
        self.delay_seconds = 0;
        self.touch(now, now_ms);
    }

    /// Moves on to the next slice of the awaited step, to be delivered `delay_seconds` from now
    /// (0: at once); the watchdog's patience counts from that delivery.
    pub fn next_slice(&mut self, delay_seconds: u32, now: &str, now_ms: f64) {
        self.advance(
            Next {
                slice: self.next.slice + 1,
                ..self.next
            },
            now,
            now_ms,
        );
        self.delay_seconds = delay_seconds;
        self.moved_ms = now_ms + f64::from(delay_seconds) * 1000.0;
    }

    /// Records that the session moved at `now`.
    pub fn touch(&mut self, now: &str, now_ms: f64) {
        self.view.updated_at = now.to_owned();
        self.moved_ms = now_ms;
    }

    /// Ends the session with `state` (completed or failed) at `now`.
    pub fn finish(&mut self, state: State, reason: Option<String>, now: &str, now_ms: f64) {
        self.view.state = state;
        self.view.reason = reason;
        self.view.finished_at = Some(now.to_owned());
        self.view.timings.total_ms = Some((now_ms - self.started_ms).max(0.0) as u64);
        self.sent = true;
        self.touch(now, now_ms);
    }

    /// The first work of a session: the sync with a carrier connection, else the optimizer.
    pub fn first_step(carrier: bool) -> Next {
        Next::first(if carrier { Step::Sync } else { Step::Optimize })
    }

    /// After the notification: with a carrier, push at once (auto-push) or wait for the
    /// approval (the session completes); without one, complete.
    pub fn after_notify(&mut self, now: &str, now_ms: f64) {
        if self.inputs.carrier && self.inputs.auto_push {
            let mut push = PushView::new(PushStatus::Planned);
            push.trigger = Some("auto".into());
            self.view.push = Some(push);
            self.view.state = State::Pushing;
            self.view.progress.phase = "pushing the changes to the carrier".into();
            self.advance(Next::first(Step::Push), now, now_ms);
            return;
        }
        if self.inputs.carrier {
            self.view.push = Some(PushView::new(PushStatus::AwaitingApproval));
        }
        self.view.progress.percent = 100.0;
        self.view.progress.phase = "completed".into();
        self.finish(State::Completed, None, now, now_ms);
    }

    /// An approved push: a completed session whose push awaits approval goes back to
    /// `pushing`.
    ///
    /// # Errors
    /// Why it cannot be pushed (answered 409).
    pub fn approve(&mut self, now: &str, now_ms: f64) -> Result<(), String> {
        let status = self.view.push.as_ref().map(|p| p.status);
        match (self.view.state, status) {
            (State::Completed, Some(PushStatus::AwaitingApproval)) => {}
            (_, None) => {
                return Err(format!(
                    "session {} has no push: its account had no carrier connection when it ran",
                    self.view.id
                ))
            }
            (State::Completed, Some(status)) => {
                return Err(format!(
                    "the push of session {} was already started (it is {})",
                    self.view.id,
                    status.as_str()
                ))
            }
            (state, _) => {
                return Err(format!(
                    "session {} is {}: a push is approved once the session has completed",
                    self.view.id,
                    state.as_str()
                ))
            }
        }
        let mut push = PushView::new(PushStatus::Planned);
        push.trigger = Some("approval".into());
        self.view.push = Some(push);
        self.view.state = State::Pushing;
        self.view.finished_at = None;
        self.view.progress.phase = "pushing the changes to the carrier".into();
        self.push_delivered = Delivered::default();
        self.outcomes_recorded = 0;
        self.advance(Next::first(Step::Push), now, now_ms);
        Ok(())
    }

    /// Whether this is session `session`, waiting for its work units' results.
    pub fn waits_for_units(&self, session: &str) -> bool {
        self.view.id == session && self.view.state.is_active() && self.next.step == Step::Units
    }

    /// Counts a failure of the awaited work; `true` when that was one too many.
    pub fn failed_once(&mut self) -> bool {
        self.failures += 1;
        self.failures >= MAX_FAILURES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        let file = |n: i64| FileRef {
            upload: n,
            key: format!("k{n}"),
            sha256: "00".into(),
            rows: 0,
        };
        Record {
            view: SessionView {
                id: "s1".into(),
                account_id: "a".into(),
                period_end: "2026-11-30T00:00".into(),
                trigger: Trigger::Manual,
                as_of: "t".into(),
                state: State::Optimizing,
                reason: None,
                progress: ProgressView::start(),
                summary: None,
                sims: None,
                slices: 3,
                checkpoint_bytes: 0,
                report: None,
                notification: None,
                timings: Timings::default(),
                created_at: "t".into(),
                updated_at: "t".into(),
                finished_at: None,
                sync: None,
                push: None,
                units: None,
            },
            tenant: "t".into(),
            inputs: Inputs {
                plans: file(1),
                eligibility: None,
                sims: Some(file(2)),
                settings: SettingsInput::default(),
                notify_webhook: None,
                notify_email: None,
                carrier: false,
                auto_push: false,
            },
            next: Next {
                step: Step::Optimize,
                unit: 0,
                slice: 3,
            },
            sent: true,
            failures: 0,
            moved_ms: 0.0,
            started_ms: 0.0,
            report_keys: None,
            watchdog_resends: 0,
            delivered: Delivered::default(),
            delay_seconds: 0,
            push_delivered: Delivered::default(),
            outcomes_recorded: 0,
            units: None,
            report_writing: None,
        }
    }

    #[test]
    fn a_delayed_next_slice_waits_and_the_watchdog_counts_from_its_delivery() {
        let mut r = record();
        r.next.step = Step::Sync;
        r.failures = 2;
        r.next_slice(3, "t2", 10_000.0);
        assert_eq!(
            (r.next.step, r.next.slice, r.sent, r.failures),
            (Step::Sync, 4, false, 0)
        );
        assert_eq!((r.delay_seconds, r.moved_ms), (3, 13_000.0));
        r.next_slice(0, "t3", 20_000.0);
        assert_eq!(
            (r.next.slice, r.delay_seconds, r.moved_ms),
            (5, 0, 20_000.0)
        );
        // Another step after a delayed slice is delivered at once.
        r.next_slice(3, "t4", 30_000.0);
        r.advance(Next::first(Step::Optimize), "t5", 40_000.0);
        assert_eq!((r.delay_seconds, r.moved_ms), (0, 40_000.0));
    }

    #[test]
    fn without_a_carrier_the_session_ends_at_the_notification() {
        assert_eq!(Record::first_step(false).step, Step::Optimize);
        let mut r = record();
        r.view.state = State::Notifying;
        r.after_notify("t9", 9.0);
        assert_eq!(r.view.state, State::Completed);
        assert_eq!(r.view.push, None);
        let text = serde_json::to_string(&r.view).expect("json");
        assert!(
            !text.contains("\"push\"") && !text.contains("\"sync\""),
            "{text}"
        );
        assert!(r
            .approve("t", 1.0)
            .expect_err("no push")
            .contains("no carrier"));
    }

    #[test]
    fn with_a_carrier_it_syncs_first_and_pushes_after_the_notification() {
        assert_eq!(Record::first_step(true).step, Step::Sync);
        let mut r = record();
        r.inputs.carrier = true;
        r.inputs.auto_push = true;
        r.view.state = State::Notifying;
        r.after_notify("t9", 9.0);
        assert_eq!(r.view.state, State::Pushing);
        assert_eq!(r.next.step, Step::Push);
        assert!(!r.sent);
        let push = r.view.push.as_ref().expect("a push");
        assert_eq!(
            (push.status, push.trigger.as_deref()),
            (PushStatus::Planned, Some("auto"))
        );
        assert_eq!(admit(&r, &work("s1", Step::Push, 0)), Admission::Run);
    }

    #[test]
    fn without_auto_push_it_completes_awaiting_approval_and_is_approved_once() {
        let mut r = record();
        r.inputs.carrier = true;
        r.view.state = State::Notifying;
        r.after_notify("t9", 9.0);
        assert_eq!(r.view.state, State::Completed);
        assert_eq!(
            r.view.push.as_ref().map(|p| p.status),
            Some(PushStatus::AwaitingApproval)
        );
        assert_eq!(admit(&r, &work("s1", Step::Push, 0)), Admission::Ignore);
        r.approve("t10", 10.0).expect("approved");
        assert_eq!(r.view.state, State::Pushing);
        assert_eq!(r.view.finished_at, None);
        assert_eq!(r.next.step, Step::Push);
        assert_eq!(admit(&r, &work("s1", Step::Push, 0)), Admission::Run);
        let again = r.approve("t11", 11.0).expect_err("twice");
        assert!(again.contains("is pushing"), "{again}");
        r.view.push.as_mut().expect("push").status = PushStatus::Completed;
        r.finish(State::Completed, None, "t12", 12.0);
        let again = r.approve("t13", 13.0).expect_err("twice");
        assert!(
            again.contains("already started (it is completed)"),
            "{again}"
        );
    }

    #[test]
    fn push_statuses_are_named_as_answered() {
        for status in [
            PushStatus::AwaitingApproval,
            PushStatus::Planned,
            PushStatus::Pushing,
            PushStatus::NoGo,
            PushStatus::Refused,
            PushStatus::Completed,
        ] {
            assert_eq!(serde_json::to_value(status).expect("json"), status.as_str());
        }
    }

    #[test]
    fn the_new_steps_and_states_have_their_names() {
        let text = serde_json::to_string(&(
            Step::Sync,
            Step::PushNotify,
            State::Syncing,
            State::Pushing,
            PushStatus::AwaitingApproval,
        ))
        .expect("json");
        assert_eq!(
            text,
            r#"["sync","push_notify","syncing","pushing","awaiting_approval"]"#
        );
        // A record written before the carrier fields reads with their defaults.
        let mut json: serde_json::Value = serde_json::to_value(record()).expect("json");
        let o = json.as_object_mut().expect("object");
        for k in ["delay_seconds", "push_delivered", "outcomes_recorded"] {
            o.remove(k);
        }
        o["inputs"]
            .as_object_mut()
            .expect("inputs")
            .remove("carrier");
        let back: Record = serde_json::from_value(json).expect("reads");
        assert!(!back.inputs.carrier);
    }

    fn work(session: &str, step: Step, slice: u32) -> Work {
        Work {
            object: "a/2026-11-30T00:00".into(),
            session: session.into(),
            step,
            unit: 0,
            slice,
        }
    }

    #[test]
    fn unit_objects_are_named_under_their_session_object() {
        let name = unit_object_name("a/2026-11-30T00:00", "s1", 3);
        assert_eq!(name, "a/2026-11-30T00:00/s1/3");
        assert_eq!(session_object_of_unit(&name), Some("a/2026-11-30T00:00"));
        assert_eq!(session_object_of_unit("a/s1"), None);
    }

    #[test]
    fn units_progress_adds_up_once_every_unit_reported() {
        let mut run = UnitsRun::new(2);
        let p = |done: f64, sims: u64, bound: Option<i64>| UnitProgress {
            phase: "improving plans".into(),
            done,
            sims,
            current_micros: 10_000_000 * sims as i64,
            best_micros: 5_000_000 * sims as i64,
            bound_micros: bound,
            slices: 4,
            slice_ms_max: 30,
            slice_ms_total: 100,
            checkpoint_bytes: 1_000 * sims,
        };
        run.progress[0] = Some(p(0.5, 3, Some(14_000_000)));
        let view = run.view();
        assert_eq!(
            (view.percent, view.best_cost, view.lower_bound),
            (0.0, None, None)
        );
        run.progress[1] = Some(p(1.0, 1, None));
        run.done[1] = true;
        let view = run.view();
        assert_eq!(view.phase, "optimizing 2 work units in parallel (1 done)");
        // (0.5 × 3 + 1 × 1) / 4 of the optimizer's 95 %.
        assert!(
            (view.percent - 0.625 * 95.0).abs() < 1e-9,
            "{}",
            view.percent
        );
        assert_eq!(view.current_cost.as_deref(), Some("40.00"));
        assert_eq!(view.best_cost.as_deref(), Some("20.00"));
        assert_eq!(view.lower_bound, None, "a unit without a bound");
        run.progress[1] = Some(p(1.0, 1, Some(4_000_000)));
        assert_eq!(run.view().lower_bound.as_deref(), Some("18.00"));
        assert!(!run.all_done());
        assert_eq!(run.totals(), (8, 30, 200, 3_000));
    }

    #[test]
    fn only_the_awaited_message_runs() {
        let r = record();
        assert_eq!(admit(&r, &work("s1", Step::Optimize, 3)), Admission::Run);
        // A duplicate of the slice before, one from the future, another step, another session.
        assert_eq!(admit(&r, &work("s1", Step::Optimize, 2)), Admission::Ignore);
        assert_eq!(admit(&r, &work("s1", Step::Optimize, 4)), Admission::Ignore);
        assert_eq!(admit(&r, &work("s1", Step::Report, 3)), Admission::Ignore);
        assert_eq!(admit(&r, &work("s0", Step::Optimize, 3)), Admission::Ignore);
        let mut other_unit = work("s1", Step::Optimize, 3);
        other_unit.unit = 1;
        assert_eq!(admit(&r, &other_unit), Admission::Ignore);
    }

    #[test]
    fn an_unsent_next_message_is_sent_again_by_any_stale_one() {
        let mut r = record();
        r.sent = false;
        assert_eq!(admit(&r, &work("s1", Step::Optimize, 2)), Admission::Resend);
        assert_eq!(admit(&r, &work("s1", Step::Optimize, 3)), Admission::Run);
        // Not for another session's message.
        assert_eq!(admit(&r, &work("s0", Step::Optimize, 2)), Admission::Ignore);
    }

    #[test]
    fn a_finished_session_takes_nothing() {
        let mut r = record();
        r.finish(State::Completed, None, "t2", 10.0);
        assert_eq!(admit(&r, &work("s1", Step::Optimize, 3)), Admission::Ignore);
        assert_eq!(r.view.finished_at.as_deref(), Some("t2"));
        assert_eq!(r.view.timings.total_ms, Some(10));
    }

    #[test]
    fn failures_count_up_to_the_limit_and_reset_on_progress() {
        let mut r = record();
        for _ in 1..MAX_FAILURES {
            assert!(!r.failed_once());
        }
        assert!(r.failed_once());
        r.advance(
            Next {
                step: Step::Optimize,
                unit: 0,
                slice: 4,
            },
            "t3",
            5.0,
        );
        assert_eq!(r.failures, 0);
        assert!(!r.sent);
    }

    #[test]
    fn the_notification_says_what_was_delivered() {
        let mut r = record();
        assert_eq!(r.delivered.describe(&r.inputs), "none configured");
        r.inputs.notify_webhook = Some("https://hooks.test/x".into());
        r.inputs.notify_email = Some("ops@fleet.test".into());
        r.delivered.webhook = Some(204);
        assert_eq!(r.delivered.describe(&r.inputs), "webhook delivered (204)");
        r.delivered.email = Some("ops@fleet.test".into());
        assert_eq!(
            r.delivered.describe(&r.inputs),
            "webhook delivered (204); e-mail sent to ops@fleet.test"
        );
    }

    #[test]
    fn retries_back_off_and_are_capped() {
        assert_eq!(retry_delay(0), 2);
        assert_eq!(retry_delay(1), 2);
        assert_eq!(retry_delay(3), 8);
        assert_eq!(retry_delay(40), 300);
    }

    #[test]
    fn reports_are_named_by_period_and_session() {
        let mut view = record().view;
        view.id = "0123456789abcdef".into();
        assert_eq!(view.report_file_name(), "simopt-2026-11-30-01234567.xlsx");
    }

    #[test]
    fn the_report_is_written_file_after_file_in_parts_of_one_size() {
        let keys = ReportKeys::of("t", "a", "s");
        // R2 takes no part under 5 MiB but the last.
        assert_eq!(ReportWriting::new(1).part_bytes, MIN_PART_BYTES);
        let mut w = ReportWriting::new(8 << 20);
        let mut seen = Vec::new();
        loop {
            assert_eq!(
                (w.offset(), w.part_number()),
                (0, 1),
                "{:?} starts anew",
                w.file
            );
            w.upload_id = Some("u".into());
            for part in 1..=3u16 {
                assert_eq!(w.part_number(), part);
                w.etags.push(format!("e{part}"));
            }
            assert_eq!(w.offset(), 3 * (8 << 20));
            seen.push((
                w.file.key(&keys).rsplit('/').next().unwrap().to_owned(),
                w.file.content_type(),
            ));
            if !w.next_file() {
                break;
            }
            assert_eq!((w.upload_id.as_deref(), w.part_bytes), (None, 8 << 20));
        }
        let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["report.xlsx", "optimize.json", "assignments.csv"]);
        assert!(seen[0].1.contains("spreadsheetml"));
        // A record saved midway reads back where it was.
        let mut r = record();
        r.report_writing = Some(ReportWriting {
            file: ReportFile::Json,
            part_bytes: 5 << 20,
            upload_id: Some("up".into()),
            etags: vec!["x".into()],
        });
        let text = serde_json::to_string(&r).expect("serializes");
        assert!(text.contains(r#""file":"json""#), "{text}");
        assert_eq!(serde_json::from_str::<Record>(&text).expect("parses"), r);
    }

    #[test]
    fn a_units_sims_cross_as_ascending_positions() {
        let positions = vec![0, 3, 70_000, u32::MAX];
        let bytes = encode_positions(&positions);
        assert_eq!(bytes.len(), 16);
        assert_eq!(decode_positions(&bytes), Some(positions));
        assert_eq!(decode_positions(&[]), Some(vec![]));
        assert_eq!(decode_positions(&bytes[..15]), None, "a torn list");
        assert_eq!(
            decode_positions(&encode_positions(&[5, 5])),
            None,
            "not ascending"
        );
        assert_eq!(
            unit_sims_key("t", "a", "s", 2),
            "tenants/t/accounts/a/sessions/s/units/2.sims"
        );
    }

    #[test]
    fn the_lock_is_per_account_and_period() {
        assert_eq!(object_name("a1", "2026-11-30T00:00"), "a1/2026-11-30T00:00");
        assert_ne!(
            object_name("a1", "2026-11-30T00:00"),
            object_name("a1", "2026-12-30T00:00")
        );
    }

    #[test]
    fn records_round_trip_as_json() {
        let r = record();
        let text = serde_json::to_string(&r).expect("serializes");
        assert!(text.contains(r#""state":"optimizing""#), "{text}");
        let back: Record = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, r);
    }
}
