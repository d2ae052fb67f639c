//! simopt's carrier integration, sans-IO: adapters build [`HttpRequest`]s and read
//! [`HttpResponse`]s; jobs are state machines the caller drives with its own transport and
//! clock, and saves as versioned bytes between steps. It runs the same natively and in the
//! Worker (wasm32: no threads, no sockets, no clock).
//!
//! The pipeline, as the edge session uses it:
//!
//! 1. **Adapter**: [`ControlCenter`] (Cisco IoT Control Center) implements [`Carrier`]: list
//!    devices modified since a date (paged), device details, cycle-to-date usage, rate plans,
//!    change a rate plan. Statuses map to typed errors (401, 404, 429 with `Retry-After`, 5xx)
//!    and bodies to typed values, or to an error naming the field.
//! 2. **Policies** ([`policy`]): a per-account token bucket, exponential backoff with seeded
//!    jitter, timeouts as data.
//! 3. **Sync** ([`SyncJob`]): full or incremental; hands over `sims.csv` rows ([`SimRow`]) page
//!    by page; [`snapshot::apply`] merges an incremental sync into the previous snapshot.
//! 4. **Push** ([`plan_push`] then [`PushJob`]): carrier change rules, go/no-go, batches of 250,
//!    an outcome per device, verification by re-reading, never a change sent twice.
//!
//! ```
//! use simopt_carrier::{Account, ControlCenter, HttpResponse, Job, Step, SyncConfig, SyncJob, SyncMode};
//!
//! let carrier = ControlCenter::new(Account::new("https://controlcenter.example", "api-user", "key")?);
//! let mut job = SyncJob::new(SyncConfig {
//!     mode: SyncMode::Full,
//!     time_zone: "Europe/Paris".into(),
//!     policy: Default::default(),
//!     seed: 7,
//! })?;
//! let now = 1_795_000_000_000; // the caller's clock
//! let Step::Send(out) = job.poll(&carrier, now)? else { unreachable!() };
//! assert!(out.request.url.starts_with("https://controlcenter.example/rws/api/v1/devices?modifiedSince="));
//! // The transport sends it; here the carrier answers an empty fleet.
//! let answer = HttpResponse::new(200, r#"{"pageNumber":1,"devices":[],"lastPage":true}"#);
//! job.handle(&carrier, now + 40, out.id, Ok(answer))?;
//! assert_eq!(job.poll(&carrier, now + 40)?, Step::Done);
//! assert_eq!(job.report().counts.pages, 1);
//! # Ok::<(), simopt_carrier::CarrierError>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod adapter;
mod checkpoint;
pub mod control_center;
pub mod error;
pub mod exchange;
pub mod http;
pub mod policy;
pub mod push;
pub mod snapshot;
pub mod sync;

pub use adapter::{Account, ApiKey, Carrier, Operation};
pub use checkpoint::VERSION as STATE_VERSION;
pub use control_center::ControlCenter;
pub use error::CarrierError;
pub use exchange::{drive, Clock, Job, Outgoing, Stats, Step, Transport};
pub use http::{HttpRequest, HttpResponse, Method, TransportError, TransportErrorKind};
pub use push::{
    plan_push, Change, ChangeRules, Decision, Outcome, PushHistory, PushJob, PushPlan, PushReport,
};
pub use snapshot::{SimRow, UsageUpdate};
pub use sync::{SyncConfig, SyncCounts, SyncJob, SyncMode, SyncOutput, SyncReport};
