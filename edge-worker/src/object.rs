//! The session Durable Object: one per (account, billing period), named
//! [`crate::session::object_name`]. It is the period's lock, owns the session's state machine, keeps
//! the optimizer's checkpoint (in 1 MiB chunks, in its SQLite storage, written together with
//! the session's record so the two always agree) and runs the work the queue delivers.
//!
//! The optimizer job stays decoded in the object's memory between slices; after an eviction
//! or a restart the next slice reads the pinned input files from R2 again and decodes the last
//! checkpoint. Slices are counted in quanta (`SLICE_QUANTA`, default 100), not milliseconds:
//! workerd's clock does not move during CPU work, and a count makes every slice's work — and
//! so the result — independent of the machine.
//!
//! Internal routes (called by the Worker, never by clients):
//! `POST /start`, `POST /step` (a queue message), `POST /fail` (a dead letter), `POST /push`
//! (an approved push), `GET /state`.
//!
//! With a carrier connection the object also drives the carrier's sync and push jobs
//! ([`crate::carrier_sync`], [`crate::carrier_push`]): their encoded state is kept in the
//! `carrier_state` table (chunked like the checkpoint) and the synced rows staged in
//! `sync_rows`, `sync_usage` and `sync_gone`, each written with the record in one commit.
//! An alarm is the watchdog: when the session has not moved for `WATCHDOG_SECONDS` (default
//! 60), or its next message was never handed to the queue, it sends that message again.

use std::cell::{Cell, RefCell, RefMut};

use serde::{Deserialize, Serialize};
use simopt_core::cost::{self, Bill};
use simopt_core::fleet::SlimFleet;
use simopt_core::input::Loader;
use simopt_core::money::Money;
use simopt_core::optimize::{units, Job, Optimized, Options, Step as JobStep};
use simopt_core::report::part::{part, Part};
use simopt_core::report::{self, xlsx, OptimizationSummary, Report};
use simopt_core::{Diagnostics, Fleet, PlanId, Warned};
use worker::{
    console_error, console_log, durable_object, DurableObject, Env, Method, Request, Response,
    SqlStorage, SqlStorageValue, State as ObjectState,
};

use crate::clock;
use crate::error::ApiError;
use crate::lines::{self, Chunks, Lines, Stored, CHUNK_SIMS};
use crate::log::SessionLog;
use crate::session::{
    admit, object_name, retry_delay, unit_object_name, Admission, FileRef, Inputs, Next, Notice,
    ProgressView, Record, ReportFile, ReportKeys, ReportWriting, State, Step, SummaryView,
    UnitsRun, Work, DEFAULT_PART_BYTES, RESULTS_CHUNK,
};
use crate::session::{encode_positions, unit_sims_key};
use crate::sessions::{object_request, unit_stub};
use crate::store::{SimResult, Store};
use crate::unit::{UnitRecord, UnitReport, GONE};
use crate::uploads::{source, Kind};

/// The Durable Object binding's name in `wrangler.toml`.
pub const BINDING: &str = "SESSIONS";
/// The queue the work goes through.
pub const QUEUE: &str = "WORK";
/// Quanta per optimizer slice unless `SLICE_QUANTA` says otherwise.
pub const DEFAULT_SLICE_QUANTA: u64 = 100;
/// The watchdog's patience unless `WATCHDOG_SECONDS` says otherwise.
pub const DEFAULT_WATCHDOG_SECONDS: u64 = 60;
/// The checkpoint's chunk size (a row of a Durable Object's SQLite holds up to 2 MB).
const CHUNK: usize = 1 << 20;

/// What `POST /start` takes.
#[derive(Debug, Serialize, Deserialize)]
pub struct Start {
    /// The new session's record (state `created`).
    pub record: Record,
}

/// What `POST /step` answers the queue consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum StepOutcome {
    /// The work ran and the next message is queued.
    Ran,
    /// Nothing to do (a duplicate, stale or out-of-order message).
    Ignored,
    /// The same work is running now (a duplicate delivered at once).
    Busy,
    /// The session's next message had not been queued: it is now.
    Resent,
    /// The work failed; deliver the message again after `delay_seconds`.
    Retry {
        /// Seconds to wait.
        delay_seconds: u32,
    },
    /// The work failed for good: the session failed.
    Failed,
}

/// What `POST /push` takes: the session whose push is approved.
#[derive(Debug, Serialize, Deserialize)]
pub struct Approval {
    /// The session's id.
    pub session: String,
}

/// What `POST /fail` takes: a message the queue gave up on.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The message.
    pub work: Work,
    /// Why it is dead.
    pub reason: String,
}

/// A failure of a piece of work.
pub(crate) enum Failure {
    /// It will fail again however often it runs (the session fails at once).
    Permanent(String),
    /// It may work next time (storage, the queue): retried with backoff.
    Transient(String),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Transient(e.to_string())
    }
}

impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Self {
        Failure::Transient(e.to_string())
    }
}

/// The session held in memory between steps (borrowed only while no await runs).
enum Live {
    /// Its optimization, on the slim fleet (what the optimizer reads of each SIM).
    Optimizing(Optimizing),
    /// Once optimized: what the report and results steps write from (the fleet without its
    /// SIMs, the bills' totals, the lines stored in the object).
    Finished(Box<Finished>),
}

/// The optimization held in memory between slices. It was started on the session's slim
/// fleet, which is not kept: the job holds all it needs.
struct Optimizing {
    session: String,
    /// The fleet's SIM count.
    sims: u64,
    run: Run,
}

/// How the session's fleet is optimized.
enum Run {
    /// In this object, one slice per message (a fleet of one work unit).
    Here(Job),
    /// Not started, and the fleet cuts into these work units (each unit's SIMs): each gets
    /// its own object.
    Units(Vec<Vec<u32>>),
    /// By the work units' objects, all done: their results merged.
    Merged(Optimized),
}

impl Optimizing {
    /// The finished optimization's result and the options it ran with.
    fn result(&self) -> Option<(Optimized, Options)> {
        match &self.run {
            Run::Here(job) if job.is_finished() => Some((job.result(), job.options())),
            Run::Merged(result) => Some((result.clone(), Options::default())),
            _ => None,
        }
    }
}

/// What the report and results steps write from, once per session: the fleet without its SIMs,
/// both bills' totals, the summary and the warnings — each SIM's line is in the object's
/// storage ([`crate::lines`]), read a chunk at a time.
struct Finished {
    session: String,
    frame: Fleet,
    current: Bill,
    bill: Bill,
    summary: OptimizationSummary,
    warnings: Diagnostics,
    lines: Lines<SqlChunks>,
}

impl Finished {
    /// The session's report.
    fn report(&self) -> Report<'_> {
        Report::of_optimization(
            &self.frame,
            &self.current,
            &[],
            &self.bill,
            &self.summary,
            &self.warnings,
        )
        .with_lines(&self.lines)
    }
}

/// The session's report lines in its object's SQLite table `report_lines`, a chunk a row.
struct SqlChunks(SqlStorage);

impl Chunks for SqlChunks {
    fn chunk(&self, k: usize) -> std::io::Result<Vec<u8>> {
        let rows = self
            .0
            .exec(
                "SELECT bytes FROM report_lines WHERE chunk = ?",
                vec![SqlStorageValue::Integer(k as i64)],
            )
            .map_err(std::io::Error::other)?;
        for row in rows.raw() {
            if let Some(SqlStorageValue::Blob(bytes)) =
                row.map_err(std::io::Error::other)?.into_iter().next()
            {
                return Ok(bytes);
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the report's lines {k} are not in the object's storage"),
        ))
    }
}

/// A file the session pinned at its start, from R2. A file gone from R2 does not come back:
/// the session fails, saying which.
pub(crate) async fn pinned_file(
    store: &Store,
    kind: Kind,
    file: &FileRef,
) -> Result<Vec<u8>, Failure> {
    store
        .file_if_present(&file.key)
        .await?
        .ok_or_else(|| missing_file(kind, file))
}

/// A pinned file gone from R2: it does not come back, so the session fails, saying which.
fn missing_file(kind: Kind, file: &FileRef) -> Failure {
    Failure::Permanent(format!(
        "the session's {} file {} is missing from R2; upload it again and start a new session",
        kind.name(),
        file.key
    ))
}

/// A positive whole-number variable of `wrangler.toml`, or `default`.
pub(crate) fn var_u64(env: &Env, name: &str, default: u64) -> u64 {
    env.var(name)
        .ok()
        .and_then(|v| v.to_string().trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// The watchdog's patience, in ms (`WATCHDOG_SECONDS`).
pub(crate) fn watchdog_ms(env: &Env) -> f64 {
    (var_u64(env, "WATCHDOG_SECONDS", DEFAULT_WATCHDOG_SECONDS) * 1000) as f64
}

/// Sets an object's alarm, its watchdog, that patience from now.
pub(crate) async fn arm_watchdog(state: &ObjectState, env: &Env) -> worker::Result<()> {
    // An offset from now (ScheduledTime from i64 milliseconds).
    state.storage().set_alarm(watchdog_ms(env) as i64).await
}

/// How many copies of each queue message to send: 2 with `DUPLICATE_DELIVERIES = "1"` (for
/// testing: an at-least-once queue may deliver a message twice), else 1.
pub(crate) fn copies(env: &Env) -> usize {
    if var_u64(env, "DUPLICATE_DELIVERIES", 0) == 1 {
        2
    } else {
        1
    }
}

/// Creates an object's tables (`who` names the object in the log when that fails).
pub(crate) fn create_tables(sql: &SqlStorage, who: &str, statements: &[&str]) {
    for statement in statements {
        if let Err(e) = sql.exec(statement, None) {
            console_error!("{who}: cannot create its tables: {e}");
        }
    }
}

/// The record kept in an object's `record` table (one row), if any.
pub(crate) fn read_record<T: serde::de::DeserializeOwned>(
    sql: &SqlStorage,
) -> worker::Result<Option<T>> {
    #[derive(Deserialize)]
    struct Row {
        json: String,
    }
    let rows: Vec<Row> = sql
        .exec("SELECT json FROM record WHERE k = 0", None)?
        .to_array()?;
    rows.into_iter()
        .next()
        .map(|row| {
            serde_json::from_str(&row.json).map_err(|e| {
                worker::Error::RustError(format!("the object's record is unreadable: {e}"))
            })
        })
        .transpose()
}

/// Replaces the record kept in an object's `record` table.
pub(crate) fn write_record<T: Serialize>(sql: &SqlStorage, record: &T) -> worker::Result<()> {
    let json = serde_json::to_string(record)
        .map_err(|e| worker::Error::RustError(format!("cannot write the record: {e}")))?;
    sql.exec(
        "INSERT OR REPLACE INTO record (k, json) VALUES (0, ?)",
        vec![SqlStorageValue::String(json)],
    )?;
    Ok(())
}

/// Replaces the blob kept in `table` (a table of `(n, bytes)` rows) in 1 MiB chunks.
pub(crate) fn save_chunks(sql: &SqlStorage, table: &str, bytes: &[u8]) -> worker::Result<()> {
    save_blob(sql, table, None, bytes)
}

/// The blob kept in `table`, if any.
pub(crate) fn load_chunks(sql: &SqlStorage, table: &str) -> worker::Result<Option<Vec<u8>>> {
    load_blob(sql, table, None)
}

/// Replaces a blob kept in `table` in 1 MiB chunks: the whole table's, or with `key`
/// (`(column, value)`) the rows of that key's (a table of `(column, n, bytes)` rows).
fn save_blob(
    sql: &SqlStorage,
    table: &str,
    key: Option<(&str, i64)>,
    bytes: &[u8],
) -> worker::Result<()> {
    let (filter, key_column, key_values) = match key {
        Some((column, value)) => (
            format!(" WHERE {column} = ?"),
            format!("{column}, "),
            vec![SqlStorageValue::Integer(value)],
        ),
        None => (String::new(), String::new(), Vec::new()),
    };
    let marks = if key.is_some() { "?, ?, ?" } else { "?, ?" };
    sql.exec(&format!("DELETE FROM {table}{filter}"), key_values.clone())?;
    for (n, chunk) in bytes.chunks(CHUNK).enumerate() {
        let mut values = key_values.clone();
        values.push(SqlStorageValue::Integer(n as i64));
        values.push(SqlStorageValue::Blob(chunk.to_vec()));
        sql.exec(
            &format!("INSERT INTO {table} ({key_column}n, bytes) VALUES ({marks})"),
            values,
        )?;
    }
    Ok(())
}

/// The blob [`save_blob`] keeps, if any.
fn load_blob(
    sql: &SqlStorage,
    table: &str,
    key: Option<(&str, i64)>,
) -> worker::Result<Option<Vec<u8>>> {
    let (filter, values) = match key {
        Some((column, value)) => (
            format!(" WHERE {column} = ?"),
            vec![SqlStorageValue::Integer(value)],
        ),
        None => (String::new(), Vec::new()),
    };
    let mut bytes = Vec::new();
    let mut chunks = 0;
    for row in sql
        .exec(
            &format!("SELECT bytes FROM {table}{filter} ORDER BY n"),
            values,
        )?
        .raw()
    {
        if let Some(SqlStorageValue::Blob(chunk)) = row?.into_iter().next() {
            bytes.extend_from_slice(&chunk);
            chunks += 1;
        }
    }
    Ok((chunks > 0).then_some(bytes))
}

/// Bytes of the SIMs file read from R2 at a time: the loader keeps only the SIMs read, never
/// the file's text (110 MB at a million SIMs).
const SIMS_PIECE_BYTES: u64 = 4 << 20;

/// The session's fleet from its pinned files, read from R2 (the SIMs file in pieces) and checked
/// by the core, slim: of each SIM only what the optimizer reads ([`Loader::slim`]), 16 bytes
/// where a SIM takes about 100 — for the optimization, which gives the same result on it, and
/// the bills — or, with `keep` (positions in the fleet, ascending), only those SIMs of it (a
/// work unit's).
pub(crate) async fn load_slim(
    env: &Env,
    inputs: &Inputs,
    keep: Option<Vec<u32>>,
) -> Result<Warned<SlimFleet>, Failure> {
    let mut loader = reader(env, inputs).await?;
    loader.slim();
    match keep {
        Some(positions) => {
            loader.reserve(positions.len());
            loader.keep_only(positions);
        }
        None => loader.reserve(inputs.sims.as_ref().map_or(0, |f| f.rows as usize)),
    }
    read_sims(env, inputs, &mut loader, |_| {}).await?;
    loader.finish_slim().map_err(unreadable)
}

/// Input files that do not load: the session fails, saying why.
fn unreadable(e: simopt_core::InputErrors) -> Failure {
    Failure::Permanent(format!("the session's input files cannot be read: {e}"))
}

/// A loader of the session's pinned files, the plans and eligibility files read, ready for its
/// SIMs file.
async fn reader(env: &Env, inputs: &Inputs) -> Result<Loader, Failure> {
    let store = Store::from_env(env)?;
    let plans = pinned_file(&store, Kind::Plans, &inputs.plans).await?;
    let eligibility = match &inputs.eligibility {
        Some(file) => Some(pinned_file(&store, Kind::Eligibility, file).await?),
        None => None,
    };
    Ok(Loader::new(
        source(Kind::Plans, &plans),
        eligibility.as_deref().map(|e| source(Kind::Eligibility, e)),
        source(Kind::Sims, &[]).name,
        &inputs.settings,
    ))
}

/// Feeds the session's SIMs file from R2 to `loader` in pieces, calling `after_piece` after
/// each.
async fn read_sims(
    env: &Env,
    inputs: &Inputs,
    loader: &mut Loader,
    mut after_piece: impl FnMut(&mut Loader),
) -> Result<(), Failure> {
    let sims_file = inputs.sims.as_ref().ok_or_else(|| {
        Failure::Permanent(
            "the session has no SIMs file (the account has none and no carrier sync made \
             one); upload one and start a new session"
                .into(),
        )
    })?;
    let found = Store::from_env(env)?
        .file_in_pieces(&sims_file.key, SIMS_PIECE_BYTES, |piece| {
            loader.push(piece);
            after_piece(loader);
        })
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(missing_file(Kind::Sims, sims_file)),
    }
}

/// The part of the report's file that `writing` is at.
fn report_part(
    writing: &ReportWriting,
    report: &Report<'_>,
    account_name: Option<&str>,
) -> Result<Part, Failure> {
    let (from, len) = (writing.offset(), writing.part_bytes as usize);
    let made = match writing.file {
        ReportFile::Xlsx => {
            let options = xlsx::Options::for_account(account_name);
            part(from, len, |out| {
                xlsx::write(out, report, &options).map_err(|e| e.to_string())
            })
        }
        ReportFile::Json => part(from, len, |out| {
            report::json::write(out, report).map_err(|e| e.to_string())
        }),
        ReportFile::Csv => part(from, len, |out| {
            report::csv::write(out, report).map_err(|e| e.to_string())
        }),
    };
    made.map_err(|e| Failure::Permanent(format!("cannot write the report: {e}")))
}

/// Stores `part` of the file `writing` is at; answers whether the file is now whole in R2.
/// A file of one part is stored as it is; a larger one as a multipart upload, its parts counted
/// in `writing`. A retry of a stored part stores it again; of a last part whose upload was
/// joined already (the step stopped before its record was saved), it finds the file whole.
async fn store_part(
    store: &Store,
    keys: &ReportKeys,
    writing: &mut ReportWriting,
    part: Part,
) -> Result<bool, Failure> {
    let (key, content_type) = (writing.file.key(keys), writing.file.content_type());
    if writing.upload_id.is_none() && part.last {
        store.put_object(key, part.bytes, content_type).await?;
        return Ok(true);
    }
    let upload_id = match &writing.upload_id {
        Some(id) => id.clone(),
        None => store.start_parts(key, content_type).await?,
    };
    writing.upload_id = Some(upload_id.clone());
    let size = writing.offset() + part.bytes.len() as u64;
    let last = part.last;
    let stored = async {
        let etag = store
            .put_part(key, &upload_id, writing.part_number(), part.bytes)
            .await?;
        writing.etags.push(etag);
        if last {
            store
                .complete_parts(key, &upload_id, &writing.etags)
                .await?;
        }
        Ok::<_, ApiError>(())
    }
    .await;
    match stored {
        Ok(()) => Ok(last),
        Err(_) if last && store.file_size(key).await? == Some(size) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// The session object (the macro's generated glue has no docs of its own).
#[allow(missing_docs)]
mod glue {
    use super::*;

    /// The session object.
    #[durable_object]
    pub struct SessionObject {
        pub(crate) state: ObjectState,
        pub(crate) env: Env,
        pub(super) live: RefCell<Option<Live>>,
        pub(super) busy: Cell<bool>,
    }
}
pub use glue::SessionObject;

impl DurableObject for SessionObject {
    fn new(state: ObjectState, env: Env) -> Self {
        create_tables(
            &state.storage().sql(),
            "session object",
            &[
                "CREATE TABLE IF NOT EXISTS record (k INTEGER PRIMARY KEY CHECK (k = 0), json TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS checkpoint (n INTEGER PRIMARY KEY, bytes BLOB NOT NULL)",
                "CREATE TABLE IF NOT EXISTS carrier_state (n INTEGER PRIMARY KEY, bytes BLOB NOT NULL)",
                "CREATE TABLE IF NOT EXISTS sync_rows (iccid TEXT PRIMARY KEY, json TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS sync_usage (iccid TEXT PRIMARY KEY, json TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS sync_gone (iccid TEXT PRIMARY KEY)",
                "CREATE TABLE IF NOT EXISTS unit_results (unit INTEGER NOT NULL, n INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (unit, n))",
                "CREATE TABLE IF NOT EXISTS report_lines (chunk INTEGER PRIMARY KEY, bytes BLOB NOT NULL)",
                "CREATE TABLE IF NOT EXISTS report_lines_of (session TEXT PRIMARY KEY, sims INTEGER NOT NULL)",
            ],
        );
        SessionObject {
            state,
            env,
            live: RefCell::new(None),
            busy: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/start") => {
                let start: Start = req.json().await?;
                self.start(start.record).await
            }
            (Method::Post, "/step") => {
                let work: Work = req.json().await?;
                let outcome = self.step(&work).await?;
                Response::from_json(&outcome)
            }
            (Method::Post, "/fail") => {
                let dead: DeadLetter = req.json().await?;
                self.dead_letter(&dead).await?;
                Response::from_json(&serde_json::json!({ "outcome": "recorded" }))
            }
            (Method::Post, "/push") => {
                let approval: Approval = req.json().await?;
                self.approve(&approval.session).await
            }
            (Method::Post, "/unit-progress") => {
                let report: UnitReport = req.json().await?;
                if self.unit_progress(&report).await? {
                    Response::ok("noted")
                } else {
                    Response::error("the session no longer waits for this unit", GONE)
                }
            }
            (Method::Post, "/unit-done") => {
                let url = req.url()?;
                let query = |key: &str| {
                    url.query_pairs()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.into_owned())
                };
                let (Some(session), Some(unit)) = (
                    query("session"),
                    query("unit").and_then(|u| u.parse::<u32>().ok()),
                ) else {
                    return Response::error("a unit's result needs its session and unit", 400);
                };
                let bytes = req.bytes().await?;
                self.unit_done(&session, unit, &bytes).await
            }
            (Method::Post, "/unit-failed") => {
                let report: UnitReport = req.json().await?;
                self.unit_failed(&report).await?;
                Response::ok("noted")
            }
            (Method::Get, "/state") => match self.record()? {
                Some(record) => Response::from_json(&record),
                None => Response::error("no session", 404),
            },
            _ => Response::error("no such session route", 404),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let Some(mut record) = self.record()? else {
            return Response::ok("no session");
        };
        if !record.view.state.is_active() {
            return Response::ok("finished");
        }
        let patience = self.watchdog_ms();
        let now_ms = clock::now_millis();
        if !record.sent || now_ms - record.moved_ms >= patience {
            record.watchdog_resends += 1;
            console_log!(
                "{}",
                SessionLog::of(&record, "watchdog")
                    .with_slice(record.next.slice)
                    .line()
            );
            // Patience starts again: the resent message gets its full time.
            record.moved_ms = now_ms;
            self.save_record(&record)?;
            self.send(&mut record).await?;
        }
        self.arm_watchdog().await?;
        Response::ok("checked")
    }
}

impl SessionObject {
    pub(crate) fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    pub(crate) fn var_u64(&self, name: &str, default: u64) -> u64 {
        var_u64(&self.env, name, default)
    }

    fn watchdog_ms(&self) -> f64 {
        watchdog_ms(&self.env)
    }

    /// The session's record, if a session was ever started here.
    fn record(&self) -> worker::Result<Option<Record>> {
        read_record(&self.sql())
    }

    pub(crate) fn save_record(&self, record: &Record) -> worker::Result<()> {
        write_record(&self.sql(), record)
    }

    /// Replaces the checkpoint (no awaits between this and the record's save: the object's
    /// storage commits them together).
    fn save_checkpoint(&self, bytes: &[u8]) -> worker::Result<()> {
        self.save_chunks("checkpoint", bytes)
    }

    fn load_checkpoint(&self) -> worker::Result<Option<Vec<u8>>> {
        self.load_chunks("checkpoint")
    }

    /// Replaces the blob kept in `table` (`checkpoint` or `carrier_state`) in 1 MiB chunks.
    pub(crate) fn save_chunks(&self, table: &str, bytes: &[u8]) -> worker::Result<()> {
        save_chunks(&self.sql(), table, bytes)
    }

    /// The blob kept in `table`, if any.
    pub(crate) fn load_chunks(&self, table: &str) -> worker::Result<Option<Vec<u8>>> {
        load_chunks(&self.sql(), table)
    }

    async fn arm_watchdog(&self) -> worker::Result<()> {
        arm_watchdog(&self.state, &self.env).await
    }

    /// Writes the session's view to D1 (the API reads it there). A failure is logged, not
    /// fatal: the next step or the watchdog writes it again.
    pub(crate) async fn mirror(&self, record: &Record) {
        let result = match Store::from_env(&self.env) {
            Ok(store) => store.put_session(&record.tenant, &record.view).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            console_error!("session {}: cannot write it to D1: {e}", record.view.id);
        }
    }

    /// Hands the session's next message to the queue and notes that it did. While the work
    /// units run there is none: each unit not done is started (or, when it runs, left alone:
    /// starting is idempotent).
    async fn send(&self, record: &mut Record) -> worker::Result<()> {
        let object = object_name(&record.view.account_id, &record.view.period_end);
        if record.next.step == Step::Units {
            return self.start_units(record, &object).await;
        }
        let queue = self.env.queue(QUEUE)?;
        for _ in 0..copies(&self.env) {
            let work = record.next_work(&object);
            if record.delay_seconds > 0 {
                queue
                    .send(
                        worker::MessageBuilder::new(work)
                            .delay_seconds(record.delay_seconds)
                            .build(),
                    )
                    .await?;
            } else {
                queue.send(work).await?;
            }
        }
        // Only if this is still the awaited message (a step may have run meanwhile).
        if let Some(mut now) = self.record()? {
            if now.view.id == record.view.id && now.next == record.next && !now.sent {
                now.sent = true;
                self.save_record(&now)?;
                *record = now;
            }
        }
        Ok(())
    }

    /// `POST /start`: takes the lock and queues the first slice, or answers 409 with the
    /// session that holds it.
    async fn start(&self, mut record: Record) -> worker::Result<Response> {
        if let Some(running) = self.record()?.filter(|r| r.view.state.is_active()) {
            let mut response = Response::from_json(&serde_json::json!({
                "error": "already-running",
                "message": format!(
                    "a session of this account's period is already {} ({}); follow it at \
                     GET /api/sessions/{}",
                    running.view.state.as_str(), running.view.id, running.view.id
                ),
                "session": running.view,
            }))?;
            response = response.with_status(409);
            return Ok(response);
        }
        // The lock is taken here, before any await: a concurrent start finds it.
        record.sent = false;
        self.save_record(&record)?;
        self.clear_optimizer()?;
        self.clear_carrier()?;
        *self.live.borrow_mut() = None;
        console_log!("{}", SessionLog::of(&record, "start").line());
        self.arm_watchdog().await?;
        self.mirror(&record).await;
        // A failed send is not the caller's problem: the watchdog sends it.
        if let Err(e) = self.send(&mut record).await {
            console_error!(
                "session {}: cannot queue its first slice: {e}",
                record.view.id
            );
        }
        Ok(Response::from_json(&record.view)?.with_status(201))
    }

    /// `POST /step`: one queue message.
    async fn step(&self, work: &Work) -> worker::Result<StepOutcome> {
        let Some(mut record) = self.record()? else {
            return Ok(StepOutcome::Ignored);
        };
        match admit(&record, work) {
            Admission::Ignore => return Ok(StepOutcome::Ignored),
            Admission::Resend => {
                self.send(&mut record).await?;
                return Ok(StepOutcome::Resent);
            }
            Admission::Run => {}
        }
        if self.busy.replace(true) {
            return Ok(StepOutcome::Busy);
        }
        let started = clock::now_millis();
        let result = match work.step {
            Step::Sync => self.sync_slice(&mut record).await,
            Step::Push => self.push_slice(&mut record).await,
            Step::PushNotify => self.push_notify(&mut record).await,
            Step::Optimize => self.optimize(&mut record).await,
            Step::Report => self.report(&mut record, work.slice).await,
            Step::Results => self.results(&mut record, work.slice).await,
            Step::Notify => self.notify(&mut record).await,
            // Nothing of these runs here: the units' objects do the work and report.
            Step::Unit | Step::Units => Ok(()),
        };
        self.busy.set(false);
        let outcome = match result {
            Ok(()) => {
                let mut log = SessionLog::of(&record, "step").with_slice(work.slice);
                log.step = Some(work.step);
                log.ms = Some((clock::now_millis() - started).max(0.0) as u64);
                console_log!("{}", log.line());
                if record.view.state.is_active() {
                    if let Err(e) = self.send(&mut record).await {
                        // The watchdog (or the retried message) sends it.
                        console_error!(
                            "session {}: cannot queue its next step: {e}",
                            record.view.id
                        );
                    }
                } else {
                    *self.live.borrow_mut() = None;
                }
                StepOutcome::Ran
            }
            Err(Failure::Permanent(reason)) => {
                self.fail(&mut record, reason)?;
                StepOutcome::Failed
            }
            Err(Failure::Transient(reason)) => {
                console_error!(
                    "session {}: {:?} slice {} failed ({} in a row): {reason}",
                    record.view.id,
                    work.step,
                    work.slice,
                    record.failures + 1
                );
                if record.failed_once() {
                    let reason = format!(
                        "the {:?} step (slice {}) failed {} times in a row; the last error: {reason}",
                        work.step, work.slice, record.failures
                    )
                    .to_lowercase();
                    self.fail(&mut record, reason.clone())?;
                    // The message given up on, kept with its reason (as the dead-letter queue's
                    // are).
                    let body = serde_json::to_string(work).unwrap_or_default();
                    let recorded = match Store::from_env(&self.env) {
                        Ok(store) => {
                            store
                                .dead_letter(&work.session, &body, &reason, &clock::now_rfc3339())
                                .await
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = recorded {
                        console_error!(
                            "session {}: cannot record the dead letter: {e}",
                            work.session
                        );
                    }
                    StepOutcome::Failed
                } else {
                    self.save_record(&record)?;
                    StepOutcome::Retry {
                        delay_seconds: retry_delay(record.failures),
                    }
                }
            }
        };
        self.mirror(&record).await;
        if record.view.state.is_active() {
            self.arm_watchdog().await?;
        } else {
            self.state.storage().delete_alarm().await?;
        }
        Ok(outcome)
    }

    fn fail(&self, record: &mut Record, reason: String) -> worker::Result<()> {
        let now = clock::now_rfc3339();
        record.finish(State::Failed, Some(reason), &now, clock::now_millis());
        self.save_record(record)?;
        self.clear_optimizer()?;
        self.clear_carrier()?;
        *self.live.borrow_mut() = None;
        console_log!("{}", SessionLog::of(record, "failed").line());
        Ok(())
    }

    /// `POST /fail`: the queue gave up on a message of this session.
    async fn dead_letter(&self, dead: &DeadLetter) -> worker::Result<()> {
        let Some(mut record) = self.record()? else {
            return Ok(());
        };
        if record.view.id == dead.work.session && record.view.state.is_active() {
            self.fail(&mut record, dead.reason.clone())?;
            self.mirror(&record).await;
            self.state.storage().delete_alarm().await?;
        }
        Ok(())
    }

    /// The session's optimization in memory (read from R2 and the checkpoint when it is not).
    /// Held only while no await runs.
    async fn optimizing(&self, record: &Record) -> Result<RefMut<'_, Optimizing>, Failure> {
        self.load_optimizing(record).await?;
        RefMut::filter_map(self.live.borrow_mut(), |live| match live {
            Some(Live::Optimizing(o)) => Some(o),
            _ => None,
        })
        .map_err(|_| Failure::Transient("the optimization is not in memory".into()))
    }

    /// Reads the session's optimization into memory unless it is there: the job decoded from
    /// its checkpoint (or started, or the units' results merged) on the session's slim fleet.
    async fn load_optimizing(&self, record: &Record) -> Result<(), Failure> {
        if matches!(&*self.live.borrow(), Some(Live::Optimizing(o)) if o.session == record.view.id)
        {
            return Ok(());
        }
        *self.live.borrow_mut() = None;
        let Warned { output: slim, .. } = load_slim(&self.env, &record.inputs, None).await?;
        let options = Options::default();
        let sims = slim.sims.len() as u64;
        // A job of one unit is given the slim fleet, dropped once the job's model is built.
        let run = match (&record.units, self.load_checkpoint()?) {
            (Some(units), _) => Run::Merged(self.merged(&slim, units.done.len())?),
            (None, None) => {
                let split = units::split(&slim, &options);
                match split.len() {
                    1 => Run::Here(Job::single_owned(slim, options)),
                    _ => Run::Units(split),
                }
            }
            (None, Some(bytes)) => match Job::decode_owned(slim, &bytes) {
                Ok(job) => Run::Here(job),
                Err(e) => {
                    // The job is deterministic: starting over ends with the same result.
                    console_error!(
                        "session {}: its checkpoint does not decode ({e}); starting the optimization over",
                        record.view.id
                    );
                    let slim = load_slim(&self.env, &record.inputs, None).await?.output;
                    Run::Here(Job::single_owned(slim, options))
                }
            },
        };
        *self.live.borrow_mut() = Some(Live::Optimizing(Optimizing {
            session: record.view.id.clone(),
            sims,
            run,
        }));
        Ok(())
    }

    /// What the report is written from, read unless in memory: the optimization's result (its
    /// job then dropped), both bills' totals from the slim fleet and, once per session, every
    /// SIM's line stored ([`Self::store_lines`]). Held only while no await runs.
    async fn finished(&self, record: &Record) -> Result<RefMut<'_, Finished>, Failure> {
        let held = |live: &Option<Live>| matches!(live, Some(Live::Finished(f)) if f.session == record.view.id);
        if !held(&self.live.borrow()) {
            let (result, options) = self.optimizing(record).await?.result().ok_or_else(|| {
                Failure::Permanent(
                    "the report was asked for before the optimization finished".into(),
                )
            })?;
            *self.live.borrow_mut() = None;
            let Warned {
                output: slim,
                warnings,
            } = load_slim(&self.env, &record.inputs, None).await?;
            let sims = slim.sims.len();
            if sims != result.plans.len() {
                return Err(Failure::Permanent(format!(
                    "the session's SIMs file has {sims} SIMs where its optimization had {}",
                    result.plans.len()
                )));
            }
            let summary = OptimizationSummary::of(&slim, &result, &options, true);
            // Each bill's totals, and of each SIM only its overage (a pooled SIM's share).
            let (current, current_overages) = cost::bill_totals(&slim, &cost::current_plans(&slim));
            let (bill, overages) = cost::bill_totals(&slim, &result.plans);
            let frame = slim.frame;
            if !self.lines_stored(&record.view.id, sims)? {
                let overages = [current_overages, overages];
                self.store_lines(record, &result.plans, &overages).await?;
            }
            *self.live.borrow_mut() = Some(Live::Finished(Box::new(Finished {
                session: record.view.id.clone(),
                lines: Lines::new(SqlChunks(self.sql()), sims, &frame),
                frame,
                current,
                bill,
                summary,
                warnings,
            })));
        }
        RefMut::filter_map(self.live.borrow_mut(), |live| match live {
            Some(Live::Finished(f)) => Some(&mut **f),
            _ => None,
        })
        .map_err(|_| Failure::Transient("the report's lines are not in memory".into()))
    }

    /// Whether the session's report lines are all stored, for its `sims` SIMs.
    fn lines_stored(&self, session: &str, sims: usize) -> Result<bool, Failure> {
        let rows = self.sql().exec(
            "SELECT session FROM report_lines_of WHERE session = ? AND sims = ?",
            vec![
                SqlStorageValue::String(session.to_owned()),
                SqlStorageValue::Integer(sims as i64),
            ],
        )?;
        Ok(rows.raw().next().is_some())
    }

    /// Stores every SIM's report line ([`crate::lines`]): the SIMs file read again in pieces,
    /// each SIM with its new plan and its overage now and after (`overages`), a chunk of
    /// [`CHUNK_SIMS`] a row, the SIMs given up as they are stored; then marks the lines whole.
    /// A step that stops part way leaves them unmarked, and the next starts them over.
    async fn store_lines(
        &self,
        record: &Record,
        plans: &[PlanId],
        overages: &[Vec<Money>; 2],
    ) -> Result<(), Failure> {
        self.clear_lines()?;
        let sql = self.sql();
        let mut loader = reader(&self.env, &record.inputs).await?;
        loader.stream();
        let (mut chunk, mut at, mut failed) = (Vec::new(), 0usize, None);
        let insert = |k: usize, bytes: Vec<u8>| {
            sql.exec(
                "INSERT INTO report_lines (chunk, bytes) VALUES (?, ?)",
                vec![
                    SqlStorageValue::Integer(k as i64),
                    SqlStorageValue::Blob(bytes),
                ],
            )
            .map(drop)
        };
        // Encodes `sims`, storing each chunk as it fills (and, `last`, the rest).
        let mut store = |sims: Vec<simopt_core::fleet::Sim>, last: bool| -> worker::Result<()> {
            for sim in sims {
                let (plan, current_overage, overage) = match plans.get(at) {
                    Some(plan) => (*plan, overages[0][at], overages[1][at]),
                    // More SIMs than the optimization had: the count check below says so.
                    None => (sim.current_plan, Money::ZERO, Money::ZERO),
                };
                let line = Stored {
                    sim,
                    plan,
                    current_overage,
                    overage,
                };
                lines::encode(&mut chunk, &line);
                at += 1;
                if at % CHUNK_SIMS == 0 {
                    insert(at / CHUNK_SIMS - 1, std::mem::take(&mut chunk))?;
                }
            }
            if last && !chunk.is_empty() {
                insert(at / CHUNK_SIMS, std::mem::take(&mut chunk))?;
            }
            Ok(())
        };
        read_sims(&self.env, &record.inputs, &mut loader, |loader| {
            if failed.is_none() {
                failed = store(loader.take_sims(), false).err();
            }
        })
        .await?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        let Warned { output: rest, .. } = loader.finish().map_err(unreadable)?;
        store(rest.sims, true)?;
        if at != plans.len() {
            return Err(Failure::Permanent(format!(
                "the session's SIMs file has {at} SIMs where its optimization had {}",
                plans.len()
            )));
        }
        sql.exec(
            "INSERT INTO report_lines_of (session, sims) VALUES (?, ?)",
            vec![
                SqlStorageValue::String(record.view.id.clone()),
                SqlStorageValue::Integer(at as i64),
            ],
        )?;
        Ok(())
    }

    /// One optimizer slice; saves the checkpoint with the record.
    async fn optimize(&self, record: &mut Record) -> Result<(), Failure> {
        let started = clock::now_millis();
        let fan_out = {
            let live = self.optimizing(record).await?;
            match &live.run {
                // Each unit gets its own object (started by `send`), which reads only the SIMs
                // listed for it here; the session waits.
                Run::Units(split) => Some((
                    split.len(),
                    live.sims,
                    split
                        .iter()
                        .map(|sims| encode_positions(sims))
                        .collect::<Vec<Vec<u8>>>(),
                )),
                _ => None,
            }
        };
        if let Some((count, sims, lists)) = fan_out {
            *self.live.borrow_mut() = None;
            let store = Store::from_env(&self.env)?;
            for (unit, bytes) in (0u32..).zip(lists) {
                let key = unit_sims_key(
                    &record.tenant,
                    &record.view.account_id,
                    &record.view.id,
                    unit,
                );
                store
                    .put_object(&key, bytes, "application/octet-stream")
                    .await?;
            }
            let units = UnitsRun::new(count);
            let (now, now_ms) = (clock::now_rfc3339(), clock::now_millis());
            record.view.state = State::Optimizing;
            record.view.sims = Some(sims);
            record.view.progress = units.view();
            record.view.units = Some(count as u32);
            record.units = Some(units);
            record.advance(Next::first(Step::Units), &now, now_ms);
            self.save_record(record)?;
            return Ok(());
        }
        let mut live = self.optimizing(record).await?;
        let sims = live.sims;
        let job = match &mut live.run {
            Run::Here(job) => job,
            // Fanned out above; only a reload in between could bring it back: run it again.
            Run::Units(_) => {
                return Err(Failure::Transient(
                    "the fleet's work units were not started yet".into(),
                ))
            }
            Run::Merged(_) => {
                return Err(Failure::Permanent(
                    "an optimizer slice was asked for after the work units finished".into(),
                ))
            }
        };
        let quanta = self.var_u64("SLICE_QUANTA", DEFAULT_SLICE_QUANTA);
        let mut done = 0u64;
        let step = job.run_slice(&mut || {
            done += 1;
            done >= quanta
        });
        let progress = match &step {
            JobStep::Yielded(progress) => *progress,
            JobStep::Finished(_) => job.progress(),
        };
        let bytes = job.encode();
        let finished = job.is_finished();
        drop(live);
        let now = clock::now_rfc3339();
        let now_ms = clock::now_millis();
        let view = &mut record.view;
        view.state = State::Optimizing;
        view.sims = Some(sims);
        view.progress = ProgressView::of(&progress);
        view.slices += 1;
        view.checkpoint_bytes = bytes.len() as u64;
        // workerd's clock moved at the awaits before the slice only: this is the time to load
        // (when the job was not in memory) plus what the clock saw of the run.
        let ms = (now_ms - started).max(0.0) as u64;
        view.timings.slice_ms_max = view.timings.slice_ms_max.max(ms);
        view.timings.slice_ms_total += ms;
        if finished {
            view.state = State::Reporting;
            view.progress.phase = "writing the report".into();
            view.timings.optimize_ms = Some((now_ms - record.started_ms).max(0.0) as u64);
            record.advance(Next::first(Step::Report), &now, now_ms);
        } else {
            record.next_slice(0, &now, now_ms);
        }
        self.save_checkpoint(&bytes)?;
        self.save_record(record)?;
        Ok(())
    }

    /// Writes the report's files to R2 (the Excel report, the JSON document, the per-SIM CSV,
    /// in that order), part by part, until a part's worth of bytes is written or the last file
    /// is whole; then the session goes on to the per-SIM results. Each part is made by writing
    /// its file again up to the part's end ([`simopt_core::report::part`]), so a step holds one
    /// part, never a whole file, and a small fleet's files all go in one step.
    async fn report(&self, record: &mut Record, slice: u32) -> Result<(), Failure> {
        let keys = ReportKeys::of(&record.tenant, &record.view.account_id, &record.view.id);
        let mut writing = record
            .report_writing
            .clone()
            .unwrap_or_else(|| ReportWriting::new(self.var_u64("PART_BYTES", DEFAULT_PART_BYTES)));
        let store = Store::from_env(&self.env)?;
        let mut written = 0u64;
        let summary = loop {
            let (part, summary) = {
                let finished = self.finished(record).await?;
                let report = finished.report();
                let name = record.inputs.settings.account_name.as_deref();
                let part = report_part(&writing, &report, name)?;
                let summary = SummaryView::of(
                    &finished.summary,
                    (finished.summary.optimized_cost + finished.summary.savings)
                        .to_decimal_string(),
                    report.sim_count() as u64,
                );
                (part, summary)
            };
            written += part.bytes.len() as u64;
            let stored = store_part(&store, &keys, &mut writing, part).await?;
            if stored && !writing.next_file() {
                break Some(summary);
            }
            if written >= writing.part_bytes {
                break None;
            }
        };
        let now = clock::now_rfc3339();
        let now_ms = clock::now_millis();
        let Some(summary) = summary else {
            record.view.progress.phase = format!(
                "writing the report: {}, part {}",
                writing.file.name(),
                writing.part_number()
            );
            record.report_writing = Some(writing);
            let next = Next {
                step: Step::Report,
                unit: 0,
                slice: slice + 1,
            };
            record.advance(next, &now, now_ms);
            self.save_record(record)?;
            return Ok(());
        };
        if let Some(units) = &record.units {
            // The units' lists of SIMs served their objects.
            let lists = (0..units.done.len() as u32)
                .map(|unit| {
                    unit_sims_key(
                        &record.tenant,
                        &record.view.account_id,
                        &record.view.id,
                        unit,
                    )
                })
                .collect();
            if let Err(e) = store.delete_files(lists).await {
                console_error!(
                    "session {}: cannot delete its units' lists: {e}",
                    record.view.id
                );
            }
        }
        record.report_writing = None;
        record.view.summary = Some(summary);
        record.view.report = Some(format!("/api/sessions/{}/report.xlsx", record.view.id));
        record.view.progress.percent = 96.0;
        record.view.progress.phase = "recording per-SIM results".into();
        record.report_keys = Some(keys);
        record.advance(Next::first(Step::Results), &now, now_ms);
        self.save_record(record)?;
        Ok(())
    }

    /// Writes one chunk of the per-SIM results to D1 (slice `k`: the SIMs from
    /// `k × RESULTS_CHUNK`); after the last, the session goes on to notify.
    async fn results(&self, record: &mut Record, slice: u32) -> Result<(), Failure> {
        let (rows, total) = {
            let finished = self.finished(record).await?;
            let (report, fleet) = (finished.report(), &finished.frame);
            let total = report.sim_count();
            let from = (slice as usize).saturating_mul(RESULTS_CHUNK).min(total);
            let to = (from + RESULTS_CHUNK).min(total);
            let mut rows: Vec<SimResult> = Vec::with_capacity(to - from);
            report
                .each_line(from..to, &mut |line| {
                    rows.push(SimResult {
                        n: (from + rows.len()) as u64,
                        iccid: line.sim.iccid.to_string(),
                        comm_plan: line.comm_plan.to_owned(),
                        current_plan: fleet.plan(line.current_plan).code.clone(),
                        plan: fleet.plan(line.plan).code.clone(),
                        current_cost: line.current_cost().to_decimal_string(),
                        cost: line.cost().to_decimal_string(),
                        saving: line.saving().to_decimal_string(),
                        changed: line.changed(),
                        why: line.why(fleet).to_string(),
                    });
                    Ok(())
                })
                .map_err(|e| Failure::Transient(format!("cannot read the SIMs' lines: {e}")))?;
            (rows, total)
        };
        let written = (slice as usize + 1) * RESULTS_CHUNK;
        Store::from_env(&self.env)?
            .put_session_sims(&record.view.id, &rows)
            .await?;
        let now = clock::now_rfc3339();
        let now_ms = clock::now_millis();
        let next = if written >= total {
            record.view.state = State::Notifying;
            record.view.progress.percent = 98.0;
            record.view.progress.phase = "notifying".into();
            Next::first(Step::Notify)
        } else {
            record.view.progress.percent = 96.0 + 2.0 * written as f64 / total as f64;
            Next {
                step: Step::Results,
                unit: 0,
                slice: slice + 1,
            }
        };
        record.advance(next, &now, now_ms);
        self.save_record(record)?;
        if written >= total {
            // Every SIM's result is in D1: the stored lines served their steps.
            self.clear_lines()?;
        }
        Ok(())
    }

    /// Sends the notification on each channel not yet delivered (recording each delivery at
    /// once), then completes the session.
    async fn notify(&self, record: &mut Record) -> Result<(), Failure> {
        let note = self
            .deliver(
                record,
                Notice::Session,
                async |record, url| crate::notify::webhook(&self.env, record, url).await,
                async |record, to| {
                    // The report is read only when it is small enough to attach.
                    let xlsx = self
                        .attachable_report(record)
                        .await
                        .map_err(|e| e.to_string())?;
                    let name = record.inputs.settings.account_name.as_deref();
                    crate::notify::email(&self.env, record, to, name.unwrap_or_default(), xlsx)
                        .await
                },
            )
            .await?;
        record.view.notification = Some(note);
        let now = clock::now_rfc3339();
        record.after_notify(&now, clock::now_millis());
        self.save_record(record)?;
        self.clear_optimizer()?;
        Ok(())
    }

    /// The session's Excel report, if it has one small enough to attach to an e-mail.
    async fn attachable_report(&self, record: &Record) -> Result<Option<Vec<u8>>, ApiError> {
        let Some(keys) = &record.report_keys else {
            return Ok(None);
        };
        let store = Store::from_env(&self.env)?;
        match store.file_size(&keys.xlsx).await? {
            Some(size) if size <= crate::notify::MAX_ATTACHMENT_BYTES as u64 => {
                store.file_if_present(&keys.xlsx).await
            }
            _ => Ok(None),
        }
    }

    /// Delivers `notice` on each of the account's channels not delivered yet, recording each
    /// delivery at once (a retry never sends a delivered one again); answers what the session's
    /// view says of it. A failed delivery is transient: the queue retries the step.
    pub(crate) async fn deliver(
        &self,
        record: &mut Record,
        notice: Notice,
        webhook: impl AsyncFn(&Record, &str) -> Result<u16, String>,
        email: impl AsyncFn(&Record, &str) -> Result<(), String>,
    ) -> Result<String, Failure> {
        if let (Some(url), None) = (
            &record.inputs.notify_webhook,
            record.delivered(notice).webhook,
        ) {
            let status = webhook(record, url).await.map_err(Failure::Transient)?;
            record.delivered_mut(notice).webhook = Some(status);
            self.save_record(record)?;
        }
        if let (Some(to), None) = (&record.inputs.notify_email, &record.delivered(notice).email) {
            let to = to.clone();
            email(record, &to).await.map_err(Failure::Transient)?;
            record.delivered_mut(notice).email = Some(to);
            self.save_record(record)?;
        }
        Ok(record.delivered(notice).describe(&record.inputs))
    }

    /// Empties the optimizer's checkpoint and the work units' results.
    fn clear_optimizer(&self) -> worker::Result<()> {
        let sql = self.sql();
        sql.exec("DELETE FROM checkpoint", None)?;
        sql.exec("DELETE FROM unit_results", None)?;
        self.clear_lines()
    }

    /// Deletes the report's stored lines.
    fn clear_lines(&self) -> worker::Result<()> {
        let sql = self.sql();
        sql.exec("DELETE FROM report_lines_of", None)?;
        sql.exec("DELETE FROM report_lines", None)?;
        Ok(())
    }

    /// Empties the carrier job's state and the staged sync rows.
    pub(crate) fn clear_carrier(&self) -> worker::Result<()> {
        let sql = self.sql();
        for table in ["carrier_state", "sync_rows", "sync_usage", "sync_gone"] {
            sql.exec(&format!("DELETE FROM {table}"), None)?;
        }
        Ok(())
    }

    /// Starts (idempotently) the object of every unit not done, then notes the "message" sent.
    async fn start_units(&self, record: &mut Record, object: &str) -> worker::Result<()> {
        let Some(units) = &record.units else {
            return Ok(());
        };
        let count = units.done.len() as u32;
        for (unit, _) in units.done.iter().enumerate().filter(|(_, &done)| !done) {
            let unit = unit as u32;
            let mut start = UnitRecord::new(&record.view.id, object, &record.inputs, unit, count);
            start.sims_key = units.listed.then(|| {
                unit_sims_key(
                    &record.tenant,
                    &record.view.account_id,
                    &record.view.id,
                    unit,
                )
            });
            let stub = unit_stub(&self.env, &unit_object_name(object, &record.view.id, unit))
                .map_err(|e| worker::Error::RustError(e.to_string()))?;
            let response = stub
                .fetch_with_request(object_request("/start", &start)?)
                .await?;
            if response.status_code() != 200 {
                return Err(worker::Error::RustError(format!(
                    "work unit {unit}'s object answered {} to its start",
                    response.status_code()
                )));
            }
        }
        if let Some(mut now) = self.record()? {
            if now.view.id == record.view.id && now.next == record.next && !now.sent {
                now.sent = true;
                self.save_record(&now)?;
                *record = now;
            }
        }
        Ok(())
    }

    /// The record of the session `session` while its units run, if this object holds it.
    fn units_record(&self, session: &str) -> worker::Result<Option<Record>> {
        Ok(self.record()?.filter(|r| r.waits_for_units(session)))
    }

    /// `POST /unit-progress`: a unit's progress after a slice.
    /// `false` when this object holds a session that does not wait for the unit: another
    /// session, or this one ended (the unit then stops). Without any record it answers `true`:
    /// nothing says the unit is not wanted.
    async fn unit_progress(&self, report: &UnitReport) -> worker::Result<bool> {
        let Some(mut record) = self.record()? else {
            return Ok(true);
        };
        let waiting = record.waits_for_units(&report.session);
        let (true, Some(progress), Some(units)) =
            (waiting, &report.progress, record.units.as_mut())
        else {
            return Ok(waiting);
        };
        let Some(slot) = units.progress.get_mut(report.unit as usize) else {
            return Ok(true);
        };
        *slot = Some(progress.clone());
        self.note_units(&mut record);
        self.save_record(&record)?;
        self.mirror(&record).await;
        Ok(true)
    }

    /// The session's view from its units' figures, and a move for the watchdog.
    fn note_units(&self, record: &mut Record) {
        let Some(units) = &record.units else {
            return;
        };
        let (slices, max, total, checkpoint) = units.totals();
        let view = &mut record.view;
        view.progress = units.view();
        view.slices = slices;
        view.timings.slice_ms_max = max;
        view.timings.slice_ms_total = total;
        view.checkpoint_bytes = checkpoint;
        record.touch(&clock::now_rfc3339(), clock::now_millis());
    }

    /// `POST /unit-done`: a unit's result (kept in `unit_results`); the last one takes the
    /// session on to its report. Idempotent: a result already in, or of a session no longer
    /// waiting for it, is answered 200 and changes nothing.
    async fn unit_done(&self, session: &str, unit: u32, bytes: &[u8]) -> worker::Result<Response> {
        let Some(mut record) = self.units_record(session)? else {
            return Response::ok("not waited for");
        };
        let Some(units) = record.units.as_mut() else {
            return Response::ok("not waited for");
        };
        match units.done.get_mut(unit as usize) {
            Some(done) if !*done => *done = true,
            _ => return Response::ok("already in"),
        }
        save_blob(
            &self.sql(),
            "unit_results",
            Some(("unit", i64::from(unit))),
            bytes,
        )?;
        self.note_units(&mut record);
        let all_done = record.units.as_ref().is_some_and(UnitsRun::all_done);
        if all_done {
            let (now, now_ms) = (clock::now_rfc3339(), clock::now_millis());
            record.view.state = State::Reporting;
            record.view.progress.phase = "writing the report".into();
            record.view.timings.optimize_ms = Some((now_ms - record.started_ms).max(0.0) as u64);
            record.advance(Next::first(Step::Report), &now, now_ms);
        }
        self.save_record(&record)?;
        console_log!(
            "{}",
            SessionLog::of(&record, "unit done").with_unit(unit).line()
        );
        self.mirror(&record).await;
        if all_done {
            if let Err(e) = self.send(&mut record).await {
                console_error!("session {}: cannot queue its report: {e}", record.view.id);
            }
        }
        self.arm_watchdog().await?;
        Response::ok("recorded")
    }

    /// `POST /unit-failed`: a unit failed for good, so does the session.
    async fn unit_failed(&self, report: &UnitReport) -> worker::Result<()> {
        if let Some(mut record) = self.units_record(&report.session)? {
            let reason = report.reason.clone().unwrap_or_default();
            self.fail(&mut record, reason)?;
            self.mirror(&record).await;
            self.state.storage().delete_alarm().await?;
        }
        Ok(())
    }

    /// The units' results, merged into the fleet's.
    fn merged(&self, fleet: &SlimFleet, count: usize) -> Result<Optimized, Failure> {
        let split = units::split(fleet, &Options::default());
        if split.len() != count {
            return Err(Failure::Permanent(format!(
                "the session's fleet no longer cuts into {count} work units"
            )));
        }
        let mut results = Vec::with_capacity(count);
        for (unit, sims) in split.iter().enumerate() {
            let key = Some(("unit", unit as i64));
            let bytes = load_blob(&self.sql(), "unit_results", key)?.unwrap_or_default();
            let result = Optimized::from_bytes(&bytes, sims.len(), fleet.frame.plans.len())
                .map_err(|e| {
                    Failure::Permanent(format!(
                        "work unit {unit}'s result is missing or damaged ({e}); start a new \
                         session"
                    ))
                })?;
            results.push(result);
        }
        Ok(units::merge(fleet.sims.len(), &split, &results))
    }

    /// `POST /push`: an approved push of the completed session `session` (202 and its view),
    /// or 409 saying why not.
    async fn approve(&self, session: &str) -> worker::Result<Response> {
        let refused = |message: String| -> worker::Result<Response> {
            Ok(Response::from_json(&serde_json::json!({
                "error": "push-refused",
                "message": message,
            }))?
            .with_status(409))
        };
        let Some(mut record) = self.record()?.filter(|r| r.view.id == session) else {
            return refused(format!(
                "session {session} is not the latest of its billing period any more: a newer \
                 session of the period holds it; approve the push of that one"
            ));
        };
        if let Err(why) = record.approve(&clock::now_rfc3339(), clock::now_millis()) {
            return refused(why);
        }
        self.save_record(&record)?;
        console_log!("{}", SessionLog::of(&record, "push approved").line());
        self.arm_watchdog().await?;
        self.mirror(&record).await;
        if let Err(e) = self.send(&mut record).await {
            console_error!("session {}: cannot queue its push: {e}", record.view.id);
        }
        Ok(Response::from_json(&record.view)?.with_status(202))
    }
}
