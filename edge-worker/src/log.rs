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
