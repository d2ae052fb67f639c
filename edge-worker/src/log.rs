//! One structured log line per request (`console.log` of a JSON object): method, route pattern
//! (no ids), tenant id when known, status, milliseconds, and the error code of a failure. Never
//! a token, never a body.

use serde::Serialize;

/// What is known of a request when it is answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestLog {
    /// The HTTP method.
    pub method: String,
    /// The route's pattern (`/api/accounts/:id`), or `null` for a path no route has.
    pub route: Option<&'static str>,
    /// The tenant the token belongs to, once established.
    pub tenant: Option<String>,
    /// The answer's status.
    pub status: u16,
    /// Time spent, in milliseconds (workerd's clock moves on I/O only).
    pub ms: u64,
    /// The error code of a failed request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

impl RequestLog {
    /// The log line.
    pub fn line(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            event: &'static str,
            #[serde(flatten)]
            log: &'a RequestLog,
        }
        serde_json::to_string(&Line {
            event: "request",
            log: self,
        })
        .unwrap_or_default()
    }
}

/// The wasm memory's size in MiB (none natively).
fn memory_mib() -> Option<u32> {
    #[cfg(target_arch = "wasm32")]
    {
        Some((core::arch::wasm32::memory_size(0) * 64 / 1024) as u32)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        None
    }
}

/// One JSON line of a session's life (`{"event":"session","what":"step",...}`): the session,
/// its account, state and phase, the step and slice, their time and the optimizer's figures.
#[derive(Debug, Serialize)]
pub struct SessionLog<'a> {
    /// What happened: `start`, `step`, `watchdog`, `failed`.
    pub what: &'static str,
    /// The session.
    pub session: &'a str,
    /// Its account.
    pub account: &'a str,
    /// Its state after the event.
    pub state: &'static str,
    /// The optimizer's phase.
    pub phase: &'a str,
    /// The step that ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<crate::session::Step>,
    /// The work unit, for a unit's event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<u32>,
    /// Its slice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice: Option<u32>,
    /// Its time, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    /// The best bill so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_cost: Option<&'a str>,
    /// The gap to the bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<f64>,
    /// The checkpoint's size.
    pub checkpoint_bytes: u64,
    /// The Worker's wasm memory, in MiB: the most it has held so far, since wasm memory never
    /// shrinks (a deployed isolate has 128 MB for it and everything else; locally every object
    /// of the Worker shares one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u32>,
    /// Why the session failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

impl<'a> SessionLog<'a> {
    /// The line of `what` happening to the session in `record`.
    pub fn of(record: &'a crate::session::Record, what: &'static str) -> SessionLog<'a> {
        let view = &record.view;
        SessionLog {
            what,
            session: &view.id,
            account: &view.account_id,
            state: view.state.as_str(),
            phase: &view.progress.phase,
            step: None,
            unit: None,
            slice: None,
            ms: None,
            best_cost: view.progress.best_cost.as_deref(),
            gap: view.progress.gap,
            checkpoint_bytes: view.checkpoint_bytes,
            memory_mib: memory_mib(),
            reason: view.reason.as_deref(),
        }
    }

    /// The line of `what` happening to a work unit of a session (its object's record): the
    /// unit's phase and checkpoint; its account from its session object's name.
    pub fn of_unit(record: &'a crate::unit::UnitRecord, what: &'static str) -> SessionLog<'a> {
        let progress = record.progress.as_ref();
        let account = record.session_object.split('/').next().unwrap_or_default();
        SessionLog {
            what,
            session: &record.session,
            account,
            state: crate::session::State::Optimizing.as_str(),
            phase: progress.map_or("", |p| p.phase.as_str()),
            step: Some(crate::session::Step::Unit),
            unit: Some(record.unit),
            slice: Some(record.slice),
            ms: None,
            best_cost: None,
            gap: None,
            checkpoint_bytes: progress.map_or(0, |p| p.checkpoint_bytes),
            memory_mib: memory_mib(),
            reason: record.failed.as_deref(),
        }
    }

    /// With the slice.
    pub fn with_slice(mut self, slice: u32) -> Self {
        self.slice = Some(slice);
        self
    }

    /// With the work unit.
    pub fn with_unit(mut self, unit: u32) -> Self {
        self.unit = Some(unit);
        self
    }

    /// The log line.
    pub fn line(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a, 'b> {
            event: &'static str,
            #[serde(flatten)]
            log: &'b SessionLog<'a>,
        }
        serde_json::to_string(&Line {
            event: "session",
            log: self,
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object() {
        let log = RequestLog {
            method: "PUT".into(),
            route: Some("/api/accounts/:id/sims"),
            tenant: Some("t1".into()),
            status: 422,
            ms: 12,
            error: Some("invalid-input"),
        };
        assert_eq!(
            log.line(),
            r#"{"event":"request","method":"PUT","route":"/api/accounts/:id/sims","tenant":"t1","status":422,"ms":12,"error":"invalid-input"}"#
        );
        let unknown = RequestLog {
            method: "GET".into(),
            status: 404,
            ..RequestLog::default()
        };
        assert_eq!(
            unknown.line(),
            r#"{"event":"request","method":"GET","route":null,"tenant":null,"status":404,"ms":0}"#
        );
    }
}
