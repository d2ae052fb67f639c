//! The session's sync phase (state `syncing`, accounts with a carrier connection): the carrier
//! crate's [`SyncJob`] driven a slice at a time through the queue. Each slice sends at most
//! `CARRIER_SLICE_REQUESTS` requests (default 200) with the Worker's `fetch`; the rows the job
//! hands over are staged in the session object's storage and its encoded state saved with them
//! in one commit (at each page and at the slice's end), so a crash re-reads nothing twice that
//! was kept. A wait longer than `CARRIER_INLINE_WAIT_MS` (a 429's `Retry-After`, backoff) ends
//! the slice, and the next message is queued with that delay.
//!
//! Full the first time; incremental (the devices modified since the last sync, then the usage
//! of the others) when the account's current SIMs file is its last sync's snapshot. At the end
//! the snapshot is checked by the core against the session's plans and eligibility, written to
//! R2 and swapped in as the account's current SIMs file together with the sync's record (one D1
//! transaction); the session then optimizes it.

use sha2::{Digest, Sha256};
use simopt_carrier::policy::Policy;
use simopt_carrier::snapshot::{self, SimRow, UsageUpdate, CSV_HEADER};
use simopt_carrier::{Carrier, CarrierError, Job, Step as JobStep, SyncConfig, SyncJob, SyncMode};
use worker::{Delay, SqlStorageValue};

use crate::auth::hex;
use crate::carrier_settings::CarrierSettings;
use crate::carrier_store::SyncRecord;
use crate::error::ApiError;
use crate::object::{pinned_file, Failure, SessionObject};
use crate::session::{FileRef, Next, Record, State, Step, SyncView};
use crate::store::{NewUpload, Store};
use crate::uploads::{self, Current, Kind};
use crate::{clock, sealed};

/// The job's state table in the session object.
pub(crate) const STATE: &str = "carrier_state";
/// Requests per slice unless `CARRIER_SLICE_REQUESTS` says otherwise.
pub const DEFAULT_SLICE_REQUESTS: u64 = 200;
/// Waits up to this long happen inside the slice unless `CARRIER_INLINE_WAIT_MS` says
/// otherwise; longer ones end it (the next message is delayed).
pub const DEFAULT_INLINE_WAIT_MS: u64 = 1_000;

/// How a slice of carrier requests ended.
pub(crate) enum SliceEnd {
    /// The request budget is spent.
    Budget,
    /// The carrier asked to wait this many ms.
    Wait(i64),
    /// The job is done.
    Done,
}

impl SliceEnd {
    /// Seconds until the next slice may run: the carrier's wait, rounded up; 0 otherwise.
    pub(crate) fn delay_seconds(&self) -> u32 {
        match self {
            SliceEnd::Wait(ms) => (*ms as u64).div_ceil(1000) as u32,
            SliceEnd::Budget | SliceEnd::Done => 0,
        }
    }
}

/// A carrier error as a failure of the step: what may pass (429, 5xx, no answer, retries
/// exhausted) is retried by the queue; the rest (bad credentials, a malformed answer) fails the
/// session.
pub(crate) fn carrier_failure(e: CarrierError) -> Failure {
    let text = format!("the carrier: {e} ({})", e.code());
    if e.is_retryable() || matches!(e, CarrierError::RetriesExhausted { .. }) {
        Failure::Transient(text)
    } else {
        Failure::Permanent(text)
    }
}

/// Runs `job` until `budget` requests are sent, a long wait, or its end; `checkpoint` at each
/// of its checkpoints.
pub(crate) async fn run_requests<J: Job>(
    job: &mut J,
    carrier: &dyn Carrier,
    budget: u64,
    inline_wait_ms: u64,
    mut checkpoint: impl FnMut(&mut J) -> Result<(), Failure>,
) -> Result<SliceEnd, Failure> {
    let mut sent = 0u64;
    loop {
        if sent >= budget {
            return Ok(SliceEnd::Budget);
        }
        let now = clock::now_millis() as i64;
        match job.poll(carrier, now).map_err(carrier_failure)? {
            JobStep::Send(out) => {
                sent += 1;
                let answer = crate::carrier_fetch::send(&out).await;
                job.handle(carrier, clock::now_millis() as i64, out.id, answer)
                    .map_err(carrier_failure)?;
            }
            JobStep::Wait { until_ms } => {
                let wait = (until_ms - now).max(0);
                if wait as u64 > inline_wait_ms {
                    return Ok(SliceEnd::Wait(wait));
                }
                Delay::from(std::time::Duration::from_millis(wait as u64 + 1)).await;
            }
            JobStep::Checkpoint => checkpoint(job)?,
            JobStep::Done => return Ok(SliceEnd::Done),
        }
    }
}

impl SessionObject {
    /// The account's carrier connection and the adapter (its key opened).
    pub(crate) async fn carrier(
        &self,
        store: &Store,
        record: &Record,
    ) -> Result<(CarrierSettings, simopt_carrier::ControlCenter), Failure> {
        let settings = store
            .carrier_settings(&record.tenant, &record.view.account_id)
            .await?
            .ok_or_else(|| {
                Failure::Permanent(
                    "the account's carrier connection was removed while the session ran; set it \
                     again (PUT /api/accounts/:id/carrier) and start a new session"
                        .into(),
                )
            })?;
        let secret = sealed::secret(&self.env).map_err(|e| Failure::Permanent(e.to_string()))?;
        let adapter = settings.adapter(&secret).map_err(Failure::Permanent)?;
        Ok((settings, adapter))
    }

    /// How this service calls carriers: `CARRIER_REQUESTS_PER_SECOND` (default 10) and
    /// `CARRIER_CHANGES_PER_MINUTE` (default 60; 0: no separate limit on changes).
    pub(crate) fn carrier_policy(&self) -> Policy {
        let var = |name: &str| {
            self.env
                .var(name)
                .ok()
                .and_then(|v| v.to_string().trim().parse::<u32>().ok())
        };
        let defaults = Policy::default();
        let rate = var("CARRIER_REQUESTS_PER_SECOND")
            .filter(|n| *n > 0)
            .unwrap_or(defaults.requests_per_second);
        Policy {
            requests_per_second: rate,
            burst: rate,
            changes_per_minute: var("CARRIER_CHANGES_PER_MINUTE")
                .unwrap_or(defaults.changes_per_minute),
            ..defaults
        }
    }

    /// One slice of the sync.
    pub(crate) async fn sync_slice(&self, record: &mut Record) -> Result<(), Failure> {
        let store = Store::from_env(&self.env)?;
        let (_, carrier) = self.carrier(&store, record).await?;
        let mut job = match self.load_chunks(STATE)? {
            Some(bytes) => SyncJob::decode(&bytes).map_err(|e| {
                Failure::Permanent(format!("the sync's saved state does not read: {e}"))
            })?,
            None => self.new_sync(&store, record).await?,
        };
        let budget = self.var_u64("CARRIER_SLICE_REQUESTS", DEFAULT_SLICE_REQUESTS);
        let inline = self.var_u64("CARRIER_INLINE_WAIT_MS", DEFAULT_INLINE_WAIT_MS);
        let end = run_requests(&mut job, &carrier, budget, inline, |job| {
            self.stage(job)?;
            self.save_chunks(STATE, &job.encode())?;
            Ok(())
        })
        .await?;
        let now = clock::now_rfc3339();
        let now_ms = clock::now_millis();
        record.view.state = State::Syncing;
        if let Some(sync) = &mut record.view.sync {
            let report = job.report();
            sync.slices += 1;
            sync.counts = report.counts;
            sync.stats = report.stats;
        }
        record.view.progress.phase = format!(
            "syncing the SIMs from the carrier: {} devices read",
            job.counts().rows + job.counts().usage_updates
        );
        self.stage(&mut job)?;
        self.save_chunks(STATE, &job.encode())?;
        match end {
            SliceEnd::Done => self.finish_sync(&store, record, &job).await,
            SliceEnd::Budget | SliceEnd::Wait(_) => {
                record.next_slice(end.delay_seconds(), &now, now_ms);
                self.save_record(record)?;
                Ok(())
            }
        }
    }

    /// A new sync: full, or incremental from the last one when its snapshot is still the
    /// account's current SIMs file (the one pinned at the session's start).
    async fn new_sync(&self, store: &Store, record: &mut Record) -> Result<SyncJob, Failure> {
        let last = store.last_sync(&record.view.account_id).await?;
        let mut mode = SyncMode::Full;
        if let (Some(last), Some(current)) = (&last, &record.inputs.sims) {
            if last.upload_id as i64 == current.upload {
                if let Some(previous) = previous_rows(store, current).await? {
                    mode = SyncMode::Incremental {
                        since_ms: last.next_since_ms as i64,
                        refresh_usage_of: previous.into_iter().map(|r| r.iccid).collect(),
                    };
                }
            }
        }
        let since = match &mode {
            SyncMode::Incremental { since_ms, .. } => clock::rfc3339_of_ms(*since_ms),
            SyncMode::Full => None,
        };
        let incremental = since.is_some();
        let job = SyncJob::new(SyncConfig {
            mode,
            time_zone: record
                .inputs
                .settings
                .time_zone
                .clone()
                .unwrap_or_else(|| "UTC".into()),
            policy: self.carrier_policy(),
            seed: seed(&record.view.id),
        })
        .map_err(|e| Failure::Permanent(format!("the sync cannot start: {e}")))?;
        record.view.sync = Some(SyncView {
            mode: if incremental { "incremental" } else { "full" }.into(),
            since,
            status: "running".into(),
            slices: 0,
            counts: Default::default(),
            stats: Default::default(),
            sims: None,
            upload_id: None,
            started_at: clock::now_rfc3339(),
            finished_at: None,
        });
        Ok(job)
    }

    /// Stages what the job handed over (rows by ICCID: staging one twice changes nothing).
    fn stage(&self, job: &mut SyncJob) -> Result<(), Failure> {
        let out = job.take_output();
        let sql = self.sql();
        for row in &out.rows {
            sql.exec(
                "INSERT OR REPLACE INTO sync_rows (iccid, json) VALUES (?, ?)",
                vec![
                    SqlStorageValue::String(row.iccid.clone()),
                    SqlStorageValue::String(json(row)),
                ],
            )?;
        }
        for usage in &out.usage {
            sql.exec(
                "INSERT OR REPLACE INTO sync_usage (iccid, json) VALUES (?, ?)",
                vec![
                    SqlStorageValue::String(usage.iccid.clone()),
                    SqlStorageValue::String(json(usage)),
                ],
            )?;
        }
        for iccid in &out.gone {
            sql.exec(
                "INSERT OR REPLACE INTO sync_gone (iccid) VALUES (?)",
                vec![SqlStorageValue::String(iccid.clone())],
            )?;
        }
        Ok(())
    }

    fn staged<T: serde::de::DeserializeOwned>(&self, table: &str) -> Result<Vec<T>, Failure> {
        #[derive(serde::Deserialize)]
        struct Row {
            json: String,
        }
        let rows: Vec<Row> = self
            .sql()
            .exec(&format!("SELECT json FROM {table} ORDER BY iccid"), None)?
            .to_array()?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(&r.json).map_err(|e| {
                    Failure::Permanent(format!("a staged sync row does not read: {e}"))
                })
            })
            .collect()
    }

    /// The snapshot: checked, stored, swapped in; the session goes on to optimize it.
    async fn finish_sync(
        &self,
        store: &Store,
        record: &mut Record,
        job: &SyncJob,
    ) -> Result<(), Failure> {
        let report = job.report();
        let previous = match (report.incremental, &record.inputs.sims) {
            (true, Some(file)) => previous_rows(store, file).await?.ok_or_else(|| {
                Failure::Permanent("the previous snapshot of an incremental sync is gone".into())
            })?,
            _ => Vec::new(),
        };
        let rows: Vec<SimRow> = self.staged("sync_rows")?;
        let usage: Vec<UsageUpdate> = self.staged("sync_usage")?;
        #[derive(serde::Deserialize)]
        struct Gone {
            iccid: String,
        }
        let gone: Vec<Gone> = self
            .sql()
            .exec("SELECT iccid FROM sync_gone", None)?
            .to_array()?;
        let gone: Vec<String> = gone.into_iter().map(|g| g.iccid).collect();
        let snapshot = snapshot::apply(previous, rows, usage, &gone);
        let csv = snapshot::to_csv(&snapshot).into_bytes();
        // The core checks the snapshot as it checks an upload.
        let current = Current {
            plans: Some(pinned_file(store, Kind::Plans, &record.inputs.plans).await?),
            eligibility: match &record.inputs.eligibility {
                Some(file) => Some(pinned_file(store, Kind::Eligibility, file).await?),
                None => None,
            },
        };
        let account = record.view.account_id.clone();
        if let Err(e) = uploads::check(
            &account,
            Kind::Sims,
            &csv,
            &current,
            &record.inputs.settings,
        ) {
            return Err(match e {
                ApiError::InvalidUpload { errors, .. } => {
                    let first: Vec<String> =
                        errors.errors().take(3).map(|d| d.to_string()).collect();
                    Failure::Permanent(format!(
                        "the SIMs synced from the carrier do not fit the account's plans \
                         ({}); make the plans' plan_id the carrier's rate plan names and start \
                         a new session",
                        first.join("; ")
                    ))
                }
                other => Failure::Transient(other.to_string()),
            });
        }
        drop(current);
        let digest = Sha256::digest(&csv);
        let sha256 = hex(&digest);
        let key = uploads::r2_key(&record.tenant, &account, Kind::Sims, &sha256);
        let bytes = csv.len() as u64;
        store.put_file(&key, csv, &digest).await?;
        let now = clock::now_rfc3339();
        let started_at = record
            .view
            .sync
            .as_ref()
            .map_or_else(|| now.clone(), |s| s.started_at.clone());
        let upload = store
            .record_sync(
                &NewUpload {
                    account: &account,
                    kind: Kind::Sims,
                    r2_key: &key,
                    bytes,
                    sha256: &sha256,
                    rows: snapshot.len() as u64,
                    uploaded_at: &now,
                },
                &SyncRecord {
                    session_id: record.view.id.clone(),
                    mode: if report.incremental {
                        "incremental"
                    } else {
                        "full"
                    }
                    .into(),
                    upload_id: 0.0,
                    started_at,
                    finished_at: now.clone(),
                    next_since_ms: report.next_since_ms as f64,
                    sims: snapshot.len() as f64,
                    counts: serde_json::to_string(&report.counts).unwrap_or_default(),
                    stats: serde_json::to_string(&report.stats).unwrap_or_default(),
                },
                &account,
            )
            .await?;
        let now_ms = clock::now_millis();
        let upload_id = upload.id;
        record.inputs.sims = Some(crate::sessions::file_ref(upload));
        if let Some(sync) = &mut record.view.sync {
            sync.status = "done".into();
            sync.sims = Some(snapshot.len() as u64);
            sync.upload_id = Some(upload_id);
            sync.finished_at = Some(now.clone());
        }
        record.view.state = State::Optimizing;
        record.view.progress.phase = "waiting for the first slice".into();
        record.advance(Next::first(Step::Optimize), &now, now_ms);
        self.clear_carrier()?;
        self.save_record(record)?;
        Ok(())
    }
}

/// The rows of a snapshot this service wrote (`None` for a file of another shape: a SIMs file
/// uploaded by hand).
async fn previous_rows(store: &Store, file: &FileRef) -> Result<Option<Vec<SimRow>>, Failure> {
    let Some(bytes) = store.file_if_present(&file.key).await? else {
        return Ok(None);
    };
    if !bytes.starts_with(CSV_HEADER.as_bytes()) {
        return Ok(None);
    }
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let rows: Result<Vec<SimRow>, _> = reader.deserialize().collect();
    Ok(rows.ok())
}

/// A seed for the retry jitter from the session's id (hex).
fn seed(id: &str) -> u64 {
    u64::from_str_radix(id.get(..16).unwrap_or("0"), 16).unwrap_or(7)
}

/// JSON of a staged value.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
