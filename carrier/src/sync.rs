//! The sync: pages through the devices modified since the last sync (all of them for a full
//! sync), reads each one's details and cycle-to-date usage, and hands over `sims.csv` rows a
//! page at a time. In an incremental sync it then refreshes the usage of the other known
//! devices (usage changes without the device being "modified").
//!
//! The job holds only its cursor: rows are taken with [`SyncJob::take_output`] at each
//! [`Step::Checkpoint`] (after every page) and stored by the caller (a staging table) before
//! it saves [`SyncJob::encode`]. A crash between the two re-reads at most one page; rows are
//! keyed by ICCID, so storing them twice changes nothing.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::adapter::{Carrier, DeviceDetails, DeviceSummary, Operation};
use crate::checkpoint::{self, Kind};
use crate::error::CarrierError;
use crate::exchange::{Exchange, Job, Stats, Step, Verdict};
use crate::http::{HttpResponse, TransportError};
use crate::policy::Policy;
use crate::snapshot::{SimRow, UsageUpdate};

/// Full or incremental.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncMode {
    /// Every device.
    Full,
    /// Devices modified since a moment (the previous sync's `next_since_ms`), then the usage of
    /// the devices named in `refresh_usage_of` (the previous snapshot's) not listed as modified.
    Incremental {
        /// Unix ms.
        since_ms: i64,
        /// ICCIDs whose usage to refresh.
        refresh_usage_of: Vec<String>,
    },
}

/// What to sync and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncConfig {
    /// Full or incremental.
    pub mode: SyncMode,
    /// The account's IANA time zone (activation dates are written in it).
    pub time_zone: String,
    /// Pacing, retries, timeouts.
    pub policy: Policy,
    /// The seed of the retry jitter.
    pub seed: u64,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCounts {
    /// Pages of devices read.
    pub pages: u64,
    /// Devices listed.
    pub listed: u64,
    /// Full rows produced (details and usage read).
    pub rows: u64,
    /// Usage refreshes produced.
    pub usage_updates: u64,
    /// Devices the carrier no longer knew when read (404).
    pub gone: u64,
}

/// The end of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Full or incremental.
    pub incremental: bool,
    /// First poll, Unix ms.
    pub started_ms: i64,
    /// Last answer, Unix ms.
    pub finished_ms: i64,
    /// Pass as `since_ms` to the next incremental sync: the start of this one (to the second),
    /// so a device changed while this sync ran is read again next time.
    pub next_since_ms: i64,
    /// Counts.
    pub counts: SyncCounts,
    /// Requests, retries, 429s, 5xx.
    pub stats: Stats,
}

/// What the job hands over at a checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOutput {
    /// Full rows (listed devices).
    pub rows: Vec<SimRow>,
    /// Usage refreshes (incremental: unmodified devices).
    pub usage: Vec<UsageUpdate>,
    /// Devices the carrier no longer knows.
    pub gone: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    Listing {
        page: u32,
    },
    Devices {
        page: u32,
        last_page: bool,
        devices: Vec<DeviceSummary>,
        index: usize,
        details: Option<DeviceDetails>,
    },
    Refresh {
        index: usize,
    },
    Done,
}

/// Refresh checkpoints every this many devices.
const REFRESH_CHECKPOINT: usize = 100;

/// A resumable sync. See the module's documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncJob {
    config: SyncConfig,
    /// `config.time_zone`, parsed (by `new` and `decode`).
    #[serde(skip)]
    zone: Tz,
    exchange: Exchange,
    phase: Phase,
    /// ICCIDs listed (incremental only: the refresh skips them).
    seen: BTreeSet<String>,
    counts: SyncCounts,
    started_ms: Option<i64>,
    finished_ms: Option<i64>,
    checkpoint_due: bool,
    #[serde(skip)]
    output: SyncOutput,
}

impl SyncJob {
    /// A sync.
    ///
    /// # Errors
    /// [`CarrierError::BadSetting`] for an unknown time zone.
    pub fn new(config: SyncConfig) -> Result<SyncJob, CarrierError> {
        let zone = parse_zone(&config.time_zone)?;
        let exchange = Exchange::new(config.policy.clone(), config.seed);
        Ok(SyncJob {
            config,
            zone,
            exchange,
            phase: Phase::Listing { page: 1 },
            seen: BTreeSet::new(),
            counts: SyncCounts::default(),
            started_ms: None,
            finished_ms: None,
            checkpoint_due: false,
            output: SyncOutput::default(),
        })
    }

    /// The state as versioned bytes. Take the output first: it is not part of the state.
    pub fn encode(&self) -> Vec<u8> {
        checkpoint::encode(Kind::Sync, self)
    }

    /// A saved sync, to resume. A request that was in flight is sent again.
    ///
    /// # Errors
    /// [`CarrierError::BadState`], or a bad setting in the saved configuration.
    pub fn decode(bytes: &[u8]) -> Result<SyncJob, CarrierError> {
        let mut job: SyncJob = checkpoint::decode(Kind::Sync, bytes)?;
        job.zone = parse_zone(&job.config.time_zone)?;
        Ok(job)
    }

    /// Rows, usage updates and gone devices produced since the last call.
    pub fn take_output(&mut self) -> SyncOutput {
        std::mem::take(&mut self.output)
    }

    /// Counts so far.
    pub fn counts(&self) -> &SyncCounts {
        &self.counts
    }

    /// Whether the sync is complete.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The report (complete once [`SyncJob::is_done`]).
    pub fn report(&self) -> SyncReport {
        let started_ms = self.started_ms.unwrap_or_default();
        SyncReport {
            incremental: self.incremental(),
            started_ms,
            finished_ms: self.finished_ms.unwrap_or(started_ms),
            next_since_ms: started_ms - started_ms.rem_euclid(1000),
            counts: self.counts.clone(),
            stats: self.exchange.stats.clone(),
        }
    }

    fn since(&self) -> Option<i64> {
        match &self.config.mode {
            SyncMode::Full => None,
            SyncMode::Incremental { since_ms, .. } => Some(*since_ms),
        }
    }

    fn incremental(&self) -> bool {
        matches!(self.config.mode, SyncMode::Incremental { .. })
    }

    fn refresh_list(&self) -> &[String] {
        match &self.config.mode {
            SyncMode::Full => &[],
            SyncMode::Incremental {
                refresh_usage_of, ..
            } => refresh_usage_of,
        }
    }

    /// Skips refresh entries already listed; returns the index of the next one to read.
    fn next_refresh(&self, mut index: usize) -> usize {
        let list = self.refresh_list();
        while index < list.len() && self.seen.contains(&list[index]) {
            index += 1;
        }
        index
    }

    /// After a page of devices: the next page; after the last, the refresh (a full sync has
    /// nothing to refresh) or the end.
    fn page_done(&mut self, page: u32, last_page: bool, now_ms: i64) {
        if !last_page {
            self.phase = Phase::Listing { page: page + 1 };
            return;
        }
        let index = self.next_refresh(0);
        if index < self.refresh_list().len() {
            self.phase = Phase::Refresh { index };
        } else {
            self.finish(now_ms);
        }
    }

    fn finish(&mut self, now_ms: i64) {
        self.phase = Phase::Done;
        self.finished_ms = Some(now_ms);
    }
}

fn parse_zone(name: &str) -> Result<Tz, CarrierError> {
    Tz::from_str(name).map_err(|_| CarrierError::BadSetting {
        setting: "time zone".into(),
        problem: format!("{name:?} is not an IANA time zone; write one such as Europe/Paris"),
    })
}

/// A final answer about a device (details or usage): a 404 says the carrier no longer knows
/// it — counted and handed over as gone —; any other is fatal, returned before anything changes.
fn gone(
    counts: &mut SyncCounts,
    output: &mut SyncOutput,
    iccid: String,
    error: CarrierError,
) -> Result<(), CarrierError> {
    match error {
        CarrierError::UnknownDevice { .. } => {
            counts.gone += 1;
            output.gone.push(iccid);
            Ok(())
        }
        e => Err(e),
    }
}

fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn local_date(ms: i64, zone: Tz) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&zone)
        .format("%Y-%m-%d")
        .to_string()
}

impl Job for SyncJob {
    fn poll(&mut self, carrier: &dyn Carrier, now_ms: i64) -> Result<Step, CarrierError> {
        if self.started_ms.is_none() {
            self.started_ms = Some(now_ms);
        }
        if self.checkpoint_due {
            self.checkpoint_due = false;
            return Ok(Step::Checkpoint);
        }
        let request = match &self.phase {
            Phase::Done => return Ok(Step::Done),
            Phase::Listing { page } => carrier.list_devices(self.since(), *page),
            Phase::Devices {
                devices,
                index,
                details,
                ..
            } => {
                let iccid = &devices[*index].iccid;
                match details {
                    None => carrier.device_details(iccid),
                    Some(_) => carrier.device_usage(iccid),
                }
            }
            Phase::Refresh { index } => carrier.device_usage(&self.refresh_list()[*index]),
        };
        Ok(self.exchange.gate(now_ms, request, false))
    }

    fn handle(
        &mut self,
        carrier: &dyn Carrier,
        now_ms: i64,
        id: u64,
        answer: Result<HttpResponse, TransportError>,
    ) -> Result<(), CarrierError> {
        let zone = self.zone;
        match &mut self.phase {
            Phase::Done => Ok(()),
            Phase::Listing { page } => {
                let page = *page;
                let verdict =
                    self.exchange
                        .judge(now_ms, id, Operation::ListDevices, answer, |r| {
                            carrier.parse_device_page(r)
                        })?;
                match verdict {
                    Verdict::Ok(list) => {
                        self.counts.pages += 1;
                        self.counts.listed += list.devices.len() as u64;
                        if self.incremental() {
                            self.seen
                                .extend(list.devices.iter().map(|d| d.iccid.clone()));
                        }
                        if list.devices.is_empty() {
                            self.page_done(page, list.last_page, now_ms);
                        } else {
                            self.phase = Phase::Devices {
                                page,
                                last_page: list.last_page,
                                devices: list.devices,
                                index: 0,
                                details: None,
                            };
                        }
                        Ok(())
                    }
                    Verdict::Final(e) => Err(e),
                    Verdict::Stale | Verdict::Retry(_) => Ok(()),
                }
            }
            Phase::Devices {
                page,
                last_page,
                devices,
                index,
                details,
            } => {
                let iccid = devices[*index].iccid.clone();
                let mut device_done = false;
                if details.is_none() {
                    let verdict =
                        self.exchange
                            .judge(now_ms, id, Operation::DeviceDetails, answer, |r| {
                                carrier.parse_device_details(&iccid, r)
                            })?;
                    match verdict {
                        Verdict::Ok(d) => *details = Some(d),
                        Verdict::Final(e) => {
                            gone(&mut self.counts, &mut self.output, iccid, e)?;
                            device_done = true;
                        }
                        Verdict::Stale | Verdict::Retry(_) => {}
                    }
                } else {
                    let verdict =
                        self.exchange
                            .judge(now_ms, id, Operation::DeviceUsage, answer, |r| {
                                carrier.parse_device_usage(&iccid, r)
                            })?;
                    match verdict {
                        Verdict::Ok(usage) => {
                            if let Some(d) = details.take() {
                                self.output.rows.push(SimRow {
                                    iccid: d.iccid,
                                    msisdn: d.msisdn.unwrap_or_default(),
                                    comm_plan: d.communication_plan,
                                    current_plan: d.rate_plan,
                                    status: d.status.to_ascii_lowercase(),
                                    activated_on: d
                                        .date_activated_ms
                                        .map(|ms| local_date(ms, zone))
                                        .unwrap_or_default(),
                                    usage_bytes: usage.data_bytes,
                                    usage_as_of: rfc3339(now_ms),
                                    sms_count: usage.sms_count,
                                });
                                self.counts.rows += 1;
                            }
                            device_done = true;
                        }
                        Verdict::Final(e) => {
                            gone(&mut self.counts, &mut self.output, iccid, e)?;
                            *details = None;
                            device_done = true;
                        }
                        Verdict::Stale | Verdict::Retry(_) => {}
                    }
                }
                if device_done {
                    *index += 1;
                    if *index == devices.len() {
                        let (page, last_page) = (*page, *last_page);
                        self.checkpoint_due = true;
                        self.page_done(page, last_page, now_ms);
                    }
                }
                Ok(())
            }
            Phase::Refresh { index } => {
                let i = *index;
                let iccid = self.refresh_list()[i].clone();
                let verdict =
                    self.exchange
                        .judge(now_ms, id, Operation::DeviceUsage, answer, |r| {
                            carrier.parse_device_usage(&iccid, r)
                        })?;
                let done = match verdict {
                    Verdict::Ok(usage) => {
                        self.output.usage.push(UsageUpdate {
                            iccid,
                            usage_bytes: usage.data_bytes,
                            usage_as_of: rfc3339(now_ms),
                            sms_count: usage.sms_count,
                        });
                        self.counts.usage_updates += 1;
                        true
                    }
                    Verdict::Final(e) => {
                        gone(&mut self.counts, &mut self.output, iccid, e)?;
                        true
                    }
                    Verdict::Stale | Verdict::Retry(_) => false,
                };
                if done {
                    let next = self.next_refresh(i + 1);
                    if next >= self.refresh_list().len() {
                        self.checkpoint_due = true;
                        self.finish(now_ms);
                    } else {
                        if (i + 1) % REFRESH_CHECKPOINT == 0 {
                            self.checkpoint_due = true;
                        }
                        self.phase = Phase::Refresh { index: next };
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::adapter::Account;
    use crate::control_center::ControlCenter;

    /// A fleet where devices leave the account between reads: B before its details are read,
    /// C between its details and its usage, D before its usage refresh; F is refused (400).
    fn answer(path: &str) -> HttpResponse {
        let path = path.trim_start_matches("/rws/api/v1/devices");
        if path.starts_with('?') {
            let devices: Vec<_> = ["A", "B", "C"]
                .iter()
                .map(|i| json!({"iccid": i}))
                .collect();
            return HttpResponse::new(
                200,
                json!({"devices": devices, "lastPage": true}).to_string(),
            );
        }
        let (iccid, usage) = match path.trim_start_matches('/').split_once('/') {
            Some((iccid, _)) => (iccid, true),
            None => (path.trim_start_matches('/'), false),
        };
        match (iccid, usage) {
            ("B", false) | ("C", true) | ("D", true) => HttpResponse::new(404, "{}"),
            ("F", _) => HttpResponse::new(400, "{}"),
            (_, false) => HttpResponse::new(
                200,
                json!({"iccid": iccid, "status": "ACTIVATED", "ratePlan": "P",
                       "communicationPlan": "CP"})
                .to_string(),
            ),
            (_, true) => HttpResponse::new(
                200,
                json!({"iccid": iccid, "ctdDataUsage": 5, "ctdSMSUsage": 1}).to_string(),
            ),
        }
    }

    fn run(refresh_usage_of: &[&str]) -> Result<(SyncJob, SyncOutput), CarrierError> {
        let carrier = ControlCenter::new(Account::new("https://cc.example", "u", "k")?);
        let mut job = SyncJob::new(SyncConfig {
            mode: SyncMode::Incremental {
                since_ms: 0,
                refresh_usage_of: refresh_usage_of.iter().map(|s| (*s).to_owned()).collect(),
            },
            time_zone: "UTC".into(),
            policy: Policy::default(),
            seed: 1,
        })?;
        let mut now = 1_795_000_000_000;
        let mut out = SyncOutput::default();
        loop {
            match job.poll(&carrier, now)? {
                Step::Send(o) => {
                    let a = answer(o.request.path_and_query());
                    job.handle(&carrier, now, o.id, Ok(a))?;
                }
                Step::Wait { until_ms } => now = until_ms,
                Step::Checkpoint | Step::Done => {
                    let taken = job.take_output();
                    out.rows.extend(taken.rows);
                    out.usage.extend(taken.usage);
                    out.gone.extend(taken.gone);
                    if job.is_done() {
                        return Ok((job, out));
                    }
                }
            }
        }
    }

    #[test]
    fn devices_gone_between_reads_are_handed_over_and_other_refusals_stop_the_sync() {
        let (job, out) = run(&["A", "D", "E"]).expect("the sync completes");
        let rows: Vec<String> = out.rows.into_iter().map(|r| r.iccid).collect();
        let usage: Vec<String> = out.usage.into_iter().map(|u| u.iccid).collect();
        assert_eq!(rows, ["A"]);
        assert_eq!(usage, ["E"]);
        assert_eq!(out.gone, ["B", "C", "D"]);
        let counts = job.counts();
        assert_eq!((counts.rows, counts.usage_updates, counts.gone), (1, 1, 3));

        let e = run(&["F"])
            .map(|_| ())
            .expect_err("a 400 is not a device gone");
        assert_eq!(e.code(), "carrier-rejected");
    }
}
