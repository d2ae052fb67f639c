//! One request at a time, paced and retried: the part the sync and push jobs share, and the
//! step protocol a caller drives them with.
//!
//! ```text
//! loop {
//!     match job.poll(&carrier, now)? {
//!         Step::Send(out)        => { let answer = transport(out.request, out.timeout_ms);
//!                                     job.handle(&carrier, now, out.id, answer)?; }
//!         Step::Wait { until_ms } => sleep until then (or end the slice and come back),
//!         Step::Checkpoint       => save job.encode() (and what the job handed over),
//!         Step::Done             => break,
//!     }
//! }
//! ```
//!
//! [`drive`] is that loop for a blocking transport and clock (tests, tools); the Worker writes
//! the same loop with `fetch` and its own storage.

use serde::{Deserialize, Serialize};

use crate::adapter::{Carrier, Operation};
use crate::error::CarrierError;
use crate::http::{HttpRequest, HttpResponse, TransportError};
use crate::policy::{Policy, Rng, TokenBucket};

/// What a job wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this request and hand the answer to `handle`.
    Send(Outgoing),
    /// Nothing to do before this moment (pacing, backoff, `Retry-After`).
    Wait {
        /// Poll again at or after this moment (Unix ms).
        until_ms: i64,
    },
    /// A good moment to save the job's state (a page or a batch is complete). Poll again after.
    Checkpoint,
    /// Finished: read the report.
    Done,
}

/// A request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Hand it back with the answer; an answer with another id is ignored (stale).
    pub id: u64,
    /// The request.
    pub request: HttpRequest,
    /// Give up after this long and answer with a [`TransportError`] of kind timeout.
    pub timeout_ms: u64,
}

/// Counts of what was sent and what came back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Requests sent (retries included).
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// 5xx / 408 answers.
    pub transient: u64,
    /// Timeouts and connection failures.
    pub transport_errors: u64,
    /// Time spent waiting on pacing and backoff (ms), as polled.
    pub waited_ms: u64,
}

/// The request machinery's state: pacing, retries, the request in flight (not saved: a request
/// in flight when the state was saved lost its answer; a restored job sends it again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Exchange {
    pub policy: Policy,
    bucket: TokenBucket,
    change_bucket: Option<TokenBucket>,
    rng: Rng,
    /// Failed attempts of the current request.
    failures: u32,
    not_before_ms: i64,
    #[serde(skip)]
    in_flight: Option<u64>,
    next_id: u64,
    last_wait_from_ms: Option<i64>,
    pub stats: Stats,
}

/// The verdict on an answer.
pub(crate) enum Verdict<T> {
    /// Parsed.
    Ok(T),
    /// Not for us (stale id): nothing changed.
    Stale,
    /// Will be retried after a delay; the job keeps its phase (or adjusts it).
    Retry(CarrierError),
    /// A final answer the job handles (404, 4xx): the request is over.
    Final(CarrierError),
}

impl Exchange {
    pub fn new(policy: Policy, seed: u64) -> Exchange {
        let bucket = TokenBucket::per_second(policy.requests_per_second, policy.burst);
        let change_bucket = (policy.changes_per_minute > 0)
            .then(|| TokenBucket::per_minute(policy.changes_per_minute));
        Exchange {
            policy,
            bucket,
            change_bucket,
            rng: Rng::new(seed),
            failures: 0,
            not_before_ms: i64::MIN,
            in_flight: None,
            next_id: 1,
            last_wait_from_ms: None,
            stats: Stats::default(),
        }
    }

    /// Either sends `request` (a [`Step::Send`]) or says when to come back.
    pub fn gate(&mut self, now_ms: i64, request: HttpRequest, is_change: bool) -> Step {
        if let Some(from) = self.last_wait_from_ms.take() {
            self.stats.waited_ms += now_ms.saturating_sub(from).max(0) as u64;
        }
        let wait = |this: &mut Exchange, until_ms: i64| {
            this.last_wait_from_ms = Some(now_ms);
            Step::Wait { until_ms }
        };
        if now_ms < self.not_before_ms {
            return wait(self, self.not_before_ms);
        }
        // A request still in flight lost its answer (the caller never handed it back): it is
        // sent again, and an answer to it comes back stale.
        self.in_flight = None;
        if is_change {
            if let Some(bucket) = &mut self.change_bucket {
                if let Err(at) = bucket.take(now_ms) {
                    return wait(self, at);
                }
            }
        }
        if let Err(at) = self.bucket.take(now_ms) {
            return wait(self, at);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight = Some(id);
        self.stats.requests += 1;
        if self.failures > 0 {
            self.stats.retries += 1;
        }
        Step::Send(Outgoing {
            id,
            request,
            timeout_ms: self.policy.request_timeout_ms,
        })
    }

    /// Judges an answer: parses a success, schedules a retry, or hands back a final error.
    /// A fatal error (401, retries exhausted, malformed) is returned as `Err`.
    pub fn judge<T>(
        &mut self,
        now_ms: i64,
        id: u64,
        operation: Operation,
        answer: Result<HttpResponse, TransportError>,
        parse: impl FnOnce(&HttpResponse) -> Result<T, CarrierError>,
    ) -> Result<Verdict<T>, CarrierError> {
        if self.in_flight != Some(id) {
            return Ok(Verdict::Stale);
        }
        self.in_flight = None;
        let error = match answer {
            Ok(response) => match parse(&response) {
                Ok(value) => {
                    self.failures = 0;
                    return Ok(Verdict::Ok(value));
                }
                Err(e) => e,
            },
            Err(e) => CarrierError::Transport {
                operation: operation.as_str().to_owned(),
                error: e,
            },
        };
        let mut floor_ms = 0;
        match &error {
            CarrierError::RateLimited { retry_after_ms, .. } => {
                self.stats.rate_limited += 1;
                floor_ms = retry_after_ms.unwrap_or(0);
                if let Some(ms) = retry_after_ms {
                    // The whole account waits, not only this request.
                    self.bucket.hold_until(now_ms + *ms as i64);
                }
            }
            CarrierError::Transient { .. } => self.stats.transient += 1,
            CarrierError::Transport { .. } => self.stats.transport_errors += 1,
            CarrierError::UnknownDevice { .. } | CarrierError::Rejected { .. } => {
                self.failures = 0;
                return Ok(Verdict::Final(error));
            }
            _ => return Err(error),
        }
        self.failures += 1;
        if self.failures >= self.policy.retry.max_attempts {
            let attempts = self.failures;
            self.failures = 0;
            return Err(CarrierError::RetriesExhausted {
                operation: operation.as_str().to_owned(),
                attempts,
                last: Box::new(error),
            });
        }
        let delay = self
            .policy
            .retry
            .delay_ms(self.failures, floor_ms, &mut self.rng);
        self.not_before_ms = now_ms + delay as i64;
        Ok(Verdict::Retry(error))
    }
}

/// A resumable carrier job driven by [`Step`]s.
pub trait Job {
    /// What comes next.
    ///
    /// # Errors
    /// A fatal error (bad credentials, retries exhausted, a malformed answer); the job's state
    /// stays as it was, so polling again later resumes it.
    fn poll(&mut self, carrier: &dyn Carrier, now_ms: i64) -> Result<Step, CarrierError>;

    /// The answer to the request `id` ([`Step::Send`]). A stale id changes nothing.
    ///
    /// # Errors
    /// As [`Job::poll`].
    fn handle(
        &mut self,
        carrier: &dyn Carrier,
        now_ms: i64,
        id: u64,
        answer: Result<HttpResponse, TransportError>,
    ) -> Result<(), CarrierError>;
}

/// A blocking transport (tests, tools; the Worker uses `fetch` in its own loop).
pub trait Transport {
    /// Sends the request and returns the answer, or why there is none.
    ///
    /// # Errors
    /// A timeout or a connection failure.
    fn send(
        &mut self,
        request: &HttpRequest,
        timeout_ms: u64,
    ) -> Result<HttpResponse, TransportError>;
}

/// The time, for [`drive`]: the caller's clock, never the crate's.
pub trait Clock {
    /// Now, Unix ms.
    fn now_ms(&mut self) -> i64;
    /// Returns at or after `until_ms`.
    fn sleep_until(&mut self, until_ms: i64);
}

/// Runs a job to its end with a blocking transport and clock, calling `checkpoint` at each
/// [`Step::Checkpoint`] (and at the end).
///
/// # Errors
/// The job's fatal error, or `checkpoint`'s.
pub fn drive<J: Job>(
    job: &mut J,
    carrier: &dyn Carrier,
    transport: &mut dyn Transport,
    clock: &mut dyn Clock,
    mut checkpoint: impl FnMut(&mut J) -> Result<(), CarrierError>,
) -> Result<(), CarrierError> {
    loop {
        let now = clock.now_ms();
        match job.poll(carrier, now)? {
            Step::Send(out) => {
                let answer = transport.send(&out.request, out.timeout_ms);
                let now = clock.now_ms();
                job.handle(carrier, now, out.id, answer)?;
            }
            Step::Wait { until_ms } => clock.sleep_until(until_ms),
            Step::Checkpoint => checkpoint(job)?,
            Step::Done => return checkpoint(job),
        }
    }
}
