//! Errors: what the carrier answered, or what went wrong around it. Each has a stable `code()`;
//! messages say what is wrong and what to do.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::http::TransportError;

/// A carrier operation's error.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CarrierError {
    /// HTTP 401: the user name or API key is wrong.
    #[error(
        "the carrier refused the account's credentials (HTTP 401 on {operation}): check the API \
         user name and API key in the account's carrier settings"
    )]
    BadCredentials {
        /// The operation refused.
        operation: String,
    },
    /// HTTP 403: the user may not do this.
    #[error(
        "the carrier forbids {operation} to this API user (HTTP 403{detail}): give the user the \
         role the operation needs (rate plans need AccountAdmin in Control Center)"
    )]
    Forbidden {
        /// The operation refused.
        operation: String,
        /// The carrier's message, as `: message`, or empty.
        detail: String,
    },
    /// HTTP 404 on a device: the carrier does not know this ICCID.
    #[error(
        "the carrier does not know device {iccid} (HTTP 404 on {operation}): check the ICCID; \
         the SIM may have left the account"
    )]
    UnknownDevice {
        /// The ICCID asked for.
        iccid: String,
        /// The operation.
        operation: String,
    },
    /// HTTP 429: slow down; retried after the delay.
    #[error(
        "the carrier is rate limiting {operation} (HTTP 429{}); it is retried after the delay",
        retry_after_ms.map(|ms| format!(", Retry-After {ms} ms")).unwrap_or_default()
    )]
    RateLimited {
        /// The operation.
        operation: String,
        /// The delay the carrier asked for.
        retry_after_ms: Option<u64>,
    },
    /// HTTP 5xx (or 408): a transient failure, retried.
    #[error("the carrier failed {operation} (HTTP {status}{detail}); it is retried")]
    Transient {
        /// The operation.
        operation: String,
        /// The status.
        status: u16,
        /// The carrier's message, as `: message`, or empty.
        detail: String,
    },
    /// Another 4xx: the carrier refused the request as made (an unknown rate plan name...).
    #[error(
        "the carrier refused {operation} (HTTP {status}{detail}): check the values sent (rate \
         plan names must match the carrier's exactly)"
    )]
    Rejected {
        /// The operation.
        operation: String,
        /// The status.
        status: u16,
        /// The carrier's message, as `: message`, or empty.
        detail: String,
    },
    /// A 2xx answer whose body is not the documented shape.
    #[error(
        "the carrier's answer to {operation} is malformed at `{field}`: {problem}; the carrier's \
         API may have changed: report it with the response body"
    )]
    Malformed {
        /// The operation.
        operation: String,
        /// The JSON field (path) at fault.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The caller's transport produced no response (timeout, connection); retried.
    #[error("no answer from the carrier to {operation}: {:?} ({}); it is retried", error.kind, error.message)]
    Transport {
        /// The operation.
        operation: String,
        /// The transport's failure.
        error: TransportError,
    },
    /// A retried operation failed every attempt.
    #[error(
        "{operation} failed {attempts} times in a row, last: {last}; the job's state is intact: \
         resume it later (poll again) or check the carrier's status"
    )]
    RetriesExhausted {
        /// The operation.
        operation: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        last: Box<CarrierError>,
    },
    /// A setting the caller passed is unusable.
    #[error("bad carrier setting {setting}: {problem}")]
    BadSetting {
        /// The setting.
        setting: String,
        /// What is wrong and what to do.
        problem: String,
    },
    /// A saved job state that cannot be read.
    #[error("the saved carrier job state cannot be read: {problem}")]
    BadState {
        /// What is wrong and what to do.
        problem: String,
    },
    /// The push's go/no-go said no: nothing is pushed.
    #[error("no-go: {reason}")]
    NoGo {
        /// Why, with the figures.
        reason: String,
    },
}

impl CarrierError {
    /// A stable code, for logs, the API and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            CarrierError::BadCredentials { .. } => "carrier-bad-credentials",
            CarrierError::Forbidden { .. } => "carrier-forbidden",
            CarrierError::UnknownDevice { .. } => "carrier-unknown-device",
            CarrierError::RateLimited { .. } => "carrier-rate-limited",
            CarrierError::Transient { .. } => "carrier-transient",
            CarrierError::Rejected { .. } => "carrier-rejected",
            CarrierError::Malformed { .. } => "carrier-malformed-answer",
            CarrierError::Transport { .. } => "carrier-unreachable",
            CarrierError::RetriesExhausted { .. } => "carrier-retries-exhausted",
            CarrierError::BadSetting { .. } => "carrier-bad-setting",
            CarrierError::BadState { .. } => "carrier-bad-state",
            CarrierError::NoGo { .. } => "push-no-go",
        }
    }

    /// Whether trying again later may succeed (429, 5xx, no answer).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            CarrierError::RateLimited { .. }
                | CarrierError::Transient { .. }
                | CarrierError::Transport { .. }
        )
    }

    pub(crate) fn malformed(operation: &str, field: &str, problem: impl Into<String>) -> Self {
        CarrierError::Malformed {
            operation: operation.to_owned(),
            field: field.to_owned(),
            problem: problem.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::TransportErrorKind;

    /// The messages people read, pinned: what is wrong and what to do.
    #[test]
    fn messages_say_what_to_do() {
        let cases: Vec<(CarrierError, &str, &str)> = vec![
            (
                CarrierError::BadCredentials {
                    operation: "list devices".into(),
                },
                "carrier-bad-credentials",
                "the carrier refused the account's credentials (HTTP 401 on list devices): check \
                 the API user name and API key in the account's carrier settings",
            ),
            (
                CarrierError::UnknownDevice {
                    iccid: "8901".into(),
                    operation: "device details".into(),
                },
                "carrier-unknown-device",
                "the carrier does not know device 8901 (HTTP 404 on device details): check the \
                 ICCID; the SIM may have left the account",
            ),
            (
                CarrierError::RateLimited {
                    operation: "change rate plan".into(),
                    retry_after_ms: Some(2000),
                },
                "carrier-rate-limited",
                "the carrier is rate limiting change rate plan (HTTP 429, Retry-After 2000 ms); \
                 it is retried after the delay",
            ),
            (
                CarrierError::malformed(
                    "device usage",
                    "ctdDataUsage",
                    "expected a number, found \"x\"",
                ),
                "carrier-malformed-answer",
                "the carrier's answer to device usage is malformed at `ctdDataUsage`: expected a \
                 number, found \"x\"; the carrier's API may have changed: report it with the \
                 response body",
            ),
            (
                CarrierError::Transient {
                    operation: "list devices".into(),
                    status: 503,
                    detail: String::new(),
                },
                "carrier-transient",
                "the carrier failed list devices (HTTP 503); it is retried",
            ),
        ];
        for (error, code, message) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.to_string(), message);
        }
        let t = CarrierError::Transport {
            operation: "x".into(),
            error: TransportError::other(TransportErrorKind::Connect, "refused"),
        };
        assert!(t.is_retryable());
        assert_eq!(
            t.to_string(),
            "no answer from the carrier to x: Connect (refused); it is retried"
        );
        assert!(!CarrierError::BadCredentials {
            operation: "x".into()
        }
        .is_retryable());
    }
}
