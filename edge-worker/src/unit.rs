//! The unit Durable Object: one per work unit of a session whose fleet is cut into several
//! (`simopt_core::optimize::units`), named [`crate::session::unit_object_name`]. The units of a
//! session run in parallel, each in its own object, as a chain of queue messages of
//! [`Step::Unit`] like a one-unit session's optimizer slices: the object keeps the slice it
//! waits for, its checkpoint (chunked, written with its record in one commit) and, once done,
//! its result until the session's object has it.
//!
//! It reports to the session's object: its progress after every slice (`/unit-progress`), its
//! result when done (`/unit-done`, retried by its alarm until taken), or that it failed
//! (`/unit-failed`). The session counts the units done and writes the report once all are in.
//!
//! Internal routes: `POST /start` (idempotent: the session's object calls it again when its
//! watchdog finds no unit moving), `POST /step` (a queue message), `GET /state` (its record).

use std::cell::{Cell, RefCell};

use serde::{Deserialize, Serialize};
use simopt_core::fleet::SlimFleet;
use simopt_core::optimize::{units, Job, Options, Step as JobStep};
use simopt_core::Warned;
use worker::{
    console_error, console_log, durable_object, DurableObject, Env, Method, Request, Response,
    SqlStorage, State as ObjectState,
};

use crate::clock;
use crate::log::SessionLog;
use crate::object::{
    arm_watchdog, copies, create_tables, load_chunks, load_slim, read_record, save_chunks, var_u64,
    watchdog_ms, write_record, Failure, StepOutcome, DEFAULT_SLICE_QUANTA, QUEUE,
};
use crate::session::{
    decode_positions, retry_delay, unit_object_name, Inputs, Step, UnitProgress, Work, MAX_FAILURES,
};
use crate::sessions::{object_request, session_stub};
use crate::store::Store;

/// The Durable Object binding's name in `wrangler.toml`.
pub const BINDING: &str = "UNITS";

/// Everything a unit object keeps about its unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    /// The session's id.
    pub session: String,
    /// The session object's name (`<account>/<period end>`).
    pub session_object: String,
    /// The session's pinned files and settings.
    pub inputs: Inputs,
    /// This unit.
    pub unit: u32,
    /// The session's units.
    pub units: u32,
    /// The slice it waits for.
    pub slice: u32,
    /// Whether that slice's message was handed to the queue.
    pub sent: bool,
    /// Failures of that slice in a row.
    pub failures: u32,
    /// When it last moved (ms since the epoch), for the watchdog.
    pub moved_ms: f64,
    /// Its progress after the last slice.
    pub progress: Option<UnitProgress>,
    /// Done: the result is kept (until reported) or it failed (`failed`).
    pub finished: bool,
    /// Why it failed.
    pub failed: Option<String>,
    /// The session's object has its result (or its failure).
    pub reported: bool,
    /// Where its SIMs' positions are listed in R2 (the session's object writes them before it
    /// starts the units); without, the unit reads the whole fleet and cuts it itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sims_key: Option<String>,
}

impl UnitRecord {
    /// A unit not started yet.
    pub fn new(
        session: &str,
        session_object: &str,
        inputs: &Inputs,
        unit: u32,
        units: u32,
    ) -> Self {
        UnitRecord {
            session: session.to_owned(),
            session_object: session_object.to_owned(),
            inputs: inputs.clone(),
            unit,
            units,
            slice: 0,
            sent: false,
            failures: 0,
            moved_ms: clock::now_millis(),
            progress: None,
            finished: false,
            failed: None,
            reported: false,
            sims_key: None,
        }
    }

    fn object(&self) -> String {
        unit_object_name(&self.session_object, &self.session, self.unit)
    }

    fn work(&self) -> Work {
        Work {
            object: self.object(),
            session: self.session.clone(),
            step: Step::Unit,
            unit: self.unit,
            slice: self.slice,
        }
    }
}

/// What a unit reports to its session's object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitReport {
    /// The session's id.
    pub session: String,
    /// The unit.
    pub unit: u32,
    /// Its progress (`/unit-progress`).
    pub progress: Option<UnitProgress>,
    /// Why it failed (`/unit-failed`).
    pub reason: Option<String>,
}

/// The unit's optimization in memory between slices: its job, started on (or decoded for) the
/// unit's SIMs read slim, which are not kept — the job holds all it needs.
struct Live {
    session: String,
    /// The unit's SIM count.
    sims: u64,
    job: Job,
}

/// The unit object (the macro's generated glue has no docs of its own).
#[allow(missing_docs)]
mod glue {
    use super::*;

    /// The unit object.
    #[durable_object]
    pub struct UnitObject {
        pub(super) state: ObjectState,
        pub(super) env: Env,
        pub(super) live: RefCell<Option<Live>>,
        pub(super) busy: Cell<bool>,
    }
}
pub use glue::UnitObject;

impl DurableObject for UnitObject {
    fn new(state: ObjectState, env: Env) -> Self {
        create_tables(
            &state.storage().sql(),
            "unit object",
            &[
                "CREATE TABLE IF NOT EXISTS record (k INTEGER PRIMARY KEY CHECK (k = 0), json TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS checkpoint (n INTEGER PRIMARY KEY, bytes BLOB NOT NULL)",
                "CREATE TABLE IF NOT EXISTS result (n INTEGER PRIMARY KEY, bytes BLOB NOT NULL)",
            ],
        );
        UnitObject {
            state,
            env,
            live: RefCell::new(None),
            busy: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/start") => {
                let start: UnitRecord = req.json().await?;
                self.start(start).await?;
                Response::ok("started")
            }
            (Method::Post, "/step") => {
                let work: Work = req.json().await?;
                let outcome = self.step(&work).await?;
                Response::from_json(&outcome)
            }
            (Method::Get, "/state") => match self.record()? {
                Some(record) => Response::from_json(&record),
                None => Response::error("no unit", 404),
            },
            _ => Response::error("no such unit route", 404),
        }
    }

    /// The watchdog: resends the awaited slice when nothing moved for `WATCHDOG_SECONDS`;
    /// reports a result (or failure) the session's object has not taken yet.
    async fn alarm(&self) -> worker::Result<Response> {
        let Some(mut record) = self.record()? else {
            return Response::ok("no unit");
        };
        if record.reported {
            return Response::ok("reported");
        }
        if record.finished {
            self.report_end(&mut record).await?;
        } else if !record.sent || clock::now_millis() - record.moved_ms >= self.watchdog_ms() {
            console_log!("{}", SessionLog::of_unit(&record, "watchdog").line());
            record.moved_ms = clock::now_millis();
            self.save_record(&record)?;
            self.send(&mut record).await?;
        }
        if !record.reported {
            self.arm_watchdog().await?;
        }
        Response::ok("checked")
    }
}

impl UnitObject {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn watchdog_ms(&self) -> f64 {
        watchdog_ms(&self.env)
    }

    fn record(&self) -> worker::Result<Option<UnitRecord>> {
        read_record(&self.sql())
    }

    fn save_record(&self, record: &UnitRecord) -> worker::Result<()> {
        write_record(&self.sql(), record)
    }

    async fn arm_watchdog(&self) -> worker::Result<()> {
        arm_watchdog(&self.state, &self.env).await
    }

    /// `POST /start`: a new unit starts (its first message queued); a known one is made to
    /// move again (its message resent if unsent, its end reported if not taken).
    async fn start(&self, start: UnitRecord) -> worker::Result<()> {
        match self.record()? {
            Some(mut known) if known.session == start.session => {
                if known.finished && !known.reported {
                    self.report_end(&mut known).await?;
                } else if !known.finished && !known.sent {
                    self.send(&mut known).await?;
                }
                Ok(())
            }
            _ => {
                let mut record = start;
                record.sent = false;
                let sql = self.sql();
                sql.exec("DELETE FROM checkpoint", None)?;
                sql.exec("DELETE FROM result", None)?;
                self.save_record(&record)?;
                *self.live.borrow_mut() = None;
                self.arm_watchdog().await?;
                self.send(&mut record).await
            }
        }
    }

    /// Hands the awaited slice's message to the queue (twice with `DUPLICATE_DELIVERIES`).
    async fn send(&self, record: &mut UnitRecord) -> worker::Result<()> {
        let queue = self.env.queue(QUEUE)?;
        for _ in 0..copies(&self.env) {
            queue.send(record.work()).await?;
        }
        if let Some(mut now) = self.record()? {
            if now.session == record.session && now.slice == record.slice && !now.sent {
                now.sent = true;
                self.save_record(&now)?;
                *record = now;
            }
        }
        Ok(())
    }

    /// `POST /step`: one queue message of this unit.
    async fn step(&self, work: &Work) -> worker::Result<StepOutcome> {
        let Some(mut record) = self.record()? else {
            return Ok(StepOutcome::Ignored);
        };
        if work.session != record.session || record.finished {
            return Ok(StepOutcome::Ignored);
        }
        if work.slice != record.slice {
            if !record.sent {
                self.send(&mut record).await?;
                return Ok(StepOutcome::Resent);
            }
            return Ok(StepOutcome::Ignored);
        }
        if self.busy.replace(true) {
            return Ok(StepOutcome::Busy);
        }
        let started = clock::now_millis();
        let result = self.slice(&mut record).await;
        self.busy.set(false);
        let ms = (clock::now_millis() - started).max(0.0) as u64;
        let outcome = match result {
            Ok(()) => {
                let mut log = SessionLog::of_unit(&record, "step").with_slice(work.slice);
                log.ms = Some(ms);
                console_log!("{}", log.line());
                if record.finished {
                    *self.live.borrow_mut() = None;
                    self.report_end(&mut record).await?;
                } else if !self.report_progress(&record).await {
                    // The session ended (failed) or a newer one holds its object: stop here.
                    self.stop(&mut record).await?;
                } else {
                    if let Err(e) = self.send(&mut record).await {
                        console_error!(
                            "session {} unit {}: cannot queue its next slice: {e}",
                            record.session,
                            record.unit
                        );
                    }
                }
                StepOutcome::Ran
            }
            Err(Failure::Permanent(reason)) => {
                self.give_up(&mut record, reason).await?;
                StepOutcome::Failed
            }
            Err(Failure::Transient(reason)) => {
                record.failures += 1;
                console_error!(
                    "session {} unit {}: slice {} failed ({} in a row): {reason}",
                    record.session,
                    record.unit,
                    work.slice,
                    record.failures
                );
                if record.failures >= MAX_FAILURES {
                    let reason = format!(
                        "work unit {} (slice {}) failed {} times in a row; the last error: \
                         {reason}",
                        record.unit, work.slice, record.failures
                    );
                    self.give_up(&mut record, reason).await?;
                    StepOutcome::Failed
                } else {
                    self.save_record(&record)?;
                    StepOutcome::Retry {
                        delay_seconds: retry_delay(record.failures),
                    }
                }
            }
        };
        if !record.reported {
            self.arm_watchdog().await?;
        }
        Ok(outcome)
    }

    /// The unit fails for good: the session's object is told (it fails the session).
    async fn give_up(&self, record: &mut UnitRecord, reason: String) -> worker::Result<()> {
        record.finished = true;
        record.failed = Some(reason);
        self.save_record(record)?;
        self.sql().exec("DELETE FROM checkpoint", None)?;
        *self.live.borrow_mut() = None;
        self.report_end(record).await
    }

    /// The unit's part of the fleet and its job, read from R2 and the checkpoint when not in
    /// memory.
    async fn load_live(&self, record: &UnitRecord) -> Result<(), Failure> {
        if self
            .live
            .borrow()
            .as_ref()
            .is_some_and(|l| l.session == record.session)
        {
            return Ok(());
        }
        let part = self.load_part(record).await?;
        // The unit's SIMs are given up to its job, dropped once the job's model is built.
        let options = Options::default();
        let sims = part.sims.len() as u64;
        let job = match load_chunks(&self.sql(), "checkpoint")? {
            None => Job::single_owned(part, options),
            Some(bytes) => match Job::decode_owned(part, &bytes) {
                Ok(job) => job,
                Err(e) => {
                    console_error!(
                        "session {} unit {}: its checkpoint does not decode ({e}); starting over",
                        record.session,
                        record.unit
                    );
                    Job::single_owned(self.load_part(record).await?, options)
                }
            },
        };
        *self.live.borrow_mut() = Some(Live {
            session: record.session.clone(),
            sims,
            job,
        });
        Ok(())
    }

    /// The unit's SIMs, slim: those the session's object listed for it, or without a list its
    /// part of the fleet as the core cuts it.
    async fn load_part(&self, record: &UnitRecord) -> Result<SlimFleet, Failure> {
        Ok(match &record.sims_key {
            Some(key) => {
                // Only this unit's SIMs are read, as the session's object listed them.
                let bytes = Store::from_env(&self.env)?
                    .file_if_present(key)
                    .await?
                    .ok_or_else(|| {
                        Failure::Transient(format!("the unit's list of SIMs {key} is not in R2"))
                    })?;
                let positions = decode_positions(&bytes).ok_or_else(|| {
                    Failure::Permanent(format!("the unit's list of SIMs {key} is damaged"))
                })?;
                let count = positions.len();
                let Warned { output: part, .. } =
                    load_slim(&self.env, &record.inputs, Some(positions)).await?;
                if part.sims.len() != count {
                    return Err(Failure::Permanent(format!(
                        "the session's SIMs file has {} of the unit's {count} SIMs",
                        part.sims.len()
                    )));
                }
                part
            }
            None => {
                let Warned { output: fleet, .. } =
                    load_slim(&self.env, &record.inputs, None).await?;
                let options = Options::default();
                let split = units::split(&fleet, &options);
                let sims = split
                    .get(record.unit as usize)
                    .filter(|_| split.len() == record.units as usize)
                    .ok_or_else(|| {
                        Failure::Permanent(format!(
                            "the session's fleet no longer cuts into {} work units",
                            record.units
                        ))
                    })?;
                fleet.part(sims)
            }
        })
    }

    /// One slice of the unit's optimization; the checkpoint (or, at the end, the result) is
    /// saved with the record in one commit.
    async fn slice(&self, record: &mut UnitRecord) -> Result<(), Failure> {
        let started = clock::now_millis();
        self.load_live(record).await?;
        let mut live = self.live.borrow_mut();
        let live = live
            .as_mut()
            .ok_or_else(|| Failure::Transient("the unit is not in memory".into()))?;
        let quanta = var_u64(&self.env, "SLICE_QUANTA", DEFAULT_SLICE_QUANTA);
        let mut done = 0u64;
        let step = live.job.run_slice(&mut || {
            done += 1;
            done >= quanta
        });
        let mut progress = UnitProgress::of(&live.job.progress(), live.sims);
        let before = record.progress.take();
        let ms = (clock::now_millis() - started).max(0.0) as u64;
        progress.slices = record.slice + 1;
        progress.slice_ms_max = before.as_ref().map_or(0, |b| b.slice_ms_max).max(ms);
        progress.slice_ms_total = before.as_ref().map_or(0, |b| b.slice_ms_total) + ms;
        let sql = self.sql();
        match step {
            JobStep::Finished(result) => {
                let bytes = result.to_bytes();
                progress.checkpoint_bytes = before.map_or(0, |b| b.checkpoint_bytes);
                save_chunks(&sql, "result", &bytes)?;
                sql.exec("DELETE FROM checkpoint", None)?;
                record.finished = true;
            }
            JobStep::Yielded(_) => {
                let bytes = live.job.encode();
                progress.checkpoint_bytes = bytes.len() as u64;
                save_chunks(&sql, "checkpoint", &bytes)?;
                record.slice += 1;
                record.sent = false;
            }
        }
        record.progress = Some(progress);
        record.failures = 0;
        record.moved_ms = clock::now_millis();
        self.save_record(record)?;
        Ok(())
    }

    /// Tells the session's object how far the unit is (a failure only logged: the next slice
    /// tells it again); `false` when it answered that it no longer waits for the unit.
    async fn report_progress(&self, record: &UnitRecord) -> bool {
        let report = UnitReport {
            session: record.session.clone(),
            unit: record.unit,
            progress: record.progress.clone(),
            reason: None,
        };
        match self.call_session(record, "/unit-progress", &report).await {
            Ok(()) => true,
            Err(Refused::Answered(GONE)) => false,
            Err(e) => {
                console_error!(
                    "session {} unit {}: cannot report its progress: {e}",
                    record.session,
                    record.unit
                );
                true
            }
        }
    }

    /// Stops a unit its session no longer waits for: nothing more runs or is handed over.
    async fn stop(&self, record: &mut UnitRecord) -> worker::Result<()> {
        record.finished = true;
        record.failed = Some("its session no longer waits for it".into());
        *self.live.borrow_mut() = None;
        self.retire(record).await
    }

    /// The unit is over for its session: recorded so, its checkpoint and result dropped, no
    /// watchdog left.
    async fn retire(&self, record: &mut UnitRecord) -> worker::Result<()> {
        record.reported = true;
        self.save_record(record)?;
        let sql = self.sql();
        sql.exec("DELETE FROM checkpoint", None)?;
        sql.exec("DELETE FROM result", None)?;
        self.state.storage().delete_alarm().await
    }

    /// Hands the unit's result (or its failure) to the session's object; once taken, the
    /// result and checkpoint are dropped and the watchdog stops. A failure is left to the
    /// watchdog.
    async fn report_end(&self, record: &mut UnitRecord) -> worker::Result<()> {
        let sent = match &record.failed {
            Some(reason) => {
                let report = UnitReport {
                    session: record.session.clone(),
                    unit: record.unit,
                    progress: None,
                    reason: Some(reason.clone()),
                };
                self.call_session(record, "/unit-failed", &report).await
            }
            None => match load_chunks(&self.sql(), "result")? {
                Some(bytes) => self.hand_result(record, bytes).await,
                None => Err(Refused::NotSent(
                    "the unit's result is missing from its storage".into(),
                )),
            },
        };
        match sent {
            Ok(()) => self.retire(record).await?,
            Err(e) => console_error!(
                "session {} unit {}: cannot hand over its end (the watchdog tries again): {e}",
                record.session,
                record.unit
            ),
        }
        Ok(())
    }

    async fn hand_result(&self, record: &UnitRecord, bytes: Vec<u8>) -> Result<(), Refused> {
        // The progress first: the session's figures (slices, times) include the last slice.
        self.report_progress(record).await;
        let mut init = worker::RequestInit::new();
        init.with_method(Method::Post).with_body(Some(
            worker::js_sys::Uint8Array::from(bytes.as_slice()).into(),
        ));
        let url = format!(
            "https://session/unit-done?session={}&unit={}",
            record.session, record.unit
        );
        let request = Request::new_with_init(&url, &init)?;
        self.post_to_session(record, request).await
    }

    async fn call_session(
        &self,
        record: &UnitRecord,
        path: &str,
        report: &UnitReport,
    ) -> Result<(), Refused> {
        self.post_to_session(record, object_request(path, report)?)
            .await
    }

    /// Sends `request` to the unit's session object: `Ok` when it answered 200.
    async fn post_to_session(&self, record: &UnitRecord, request: Request) -> Result<(), Refused> {
        let stub = session_stub(&self.env, &record.session_object)
            .map_err(|e| Refused::NotSent(e.to_string()))?;
        let response = stub.fetch_with_request(request).await?;
        match response.status_code() {
            200 => Ok(()),
            status => Err(Refused::Answered(status)),
        }
    }
}

/// What the session's object answers to a unit it no longer waits for.
pub const GONE: u16 = 410;

/// Why the session's object did not take what a unit hands it.
#[derive(Debug)]
enum Refused {
    /// It answered this status.
    Answered(u16),
    /// It was not asked: unreachable, or nothing to send.
    NotSent(String),
}

impl From<worker::Error> for Refused {
    fn from(e: worker::Error) -> Self {
        Refused::NotSent(e.to_string())
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Answered(status) => write!(f, "the session's object answered {status}"),
            Refused::NotSent(e) => write!(f, "not sent to the session's object: {e}"),
        }
    }
}
