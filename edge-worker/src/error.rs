//! Every way a request can fail, and the one place each is turned into an HTTP status and a JSON
//! body (after workers-rs `worker/src/error.rs`).
//!
//! Bodies are `{"error": code, "message": text}` with a stable `code`, except invalid input,
//! which answers the core's own document (`InputErrors::to_json`: code `invalid-input` plus every
//! diagnostic with file, row, column and hint).

use simopt_core::InputErrors;
use worker::{console_error, Response};

use crate::accounts::FieldProblem;

/// A request the Worker cannot answer with a result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No route has this path.
    #[error(
        "nothing is served at {path}; the API's routes are listed in edge-worker/README.md \
         (GET /api/health, POST /api/cost, /api/accounts...)"
    )]
    NotFound {
        /// The path asked for.
        path: String,
    },
    /// No account of the caller's tenant has this id (whether another tenant has one is not
    /// told).
    #[error("there is no account {id}; GET /api/accounts lists your accounts")]
    NoSuchAccount {
        /// The id asked for.
        id: String,
    },
    /// No session of the caller's tenant has this id.
    #[error(
        "there is no session {id}; GET /api/accounts/:id/sessions lists an account's sessions"
    )]
    NoSuchSession {
        /// The id asked for.
        id: String,
    },
    /// A session cannot start: the account lacks a file it needs.
    #[error(
        "the account has no {kind} file yet, and a session optimizes the current files; upload \
         it first (PUT /api/accounts/{account}/{kind})"
    )]
    InputsMissing {
        /// The account.
        account: String,
        /// `plans` or `sims`.
        kind: &'static str,
    },
    /// The session's report is not written yet.
    #[error(
        "session {id} is {state} and has no report yet; GET /api/sessions/{id} says when it has \
         (its `report` field)"
    )]
    ReportNotReady {
        /// The session.
        id: String,
        /// Its state.
        state: &'static str,
    },
    /// The request carries no valid credentials for its route.
    #[error("{0}")]
    Unauthorized(AuthProblem),
    /// The route exists but not for this method.
    #[error("{method} is not allowed on {path}; use {allow}")]
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The path asked for.
        path: String,
        /// The method(s) the route answers, for the `Allow` header.
        allow: &'static str,
    },
    /// The body is not of a type the route reads.
    #[error("content type {content_type:?} is not accepted; {accepted}")]
    UnsupportedMediaType {
        /// The `Content-Type` header as sent.
        content_type: String,
        /// What the route takes, said as advice.
        accepted: &'static str,
    },
    /// The body is over the route's limit.
    #[error(
        "the request body{} is over the limit of {limit} bytes ({}); {hint}",
        size.map(|s| format!(" ({s} bytes)")).unwrap_or_default(),
        human_size(*limit)
    )]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: u64,
        /// The size seen (declared or counted) when known.
        size: Option<u64>,
        /// What to do about it.
        hint: &'static str,
    },
    /// A required file is absent.
    #[error(
        "the {field} file is missing; send it as the form field {field:?} (multipart) or the key \
         {field:?} (JSON)"
    )]
    MissingFile {
        /// `sims` or `plans`.
        field: &'static str,
    },
    /// The multipart body cannot be used (broken encoding, a field twice, an unknown field).
    #[error("{0}")]
    BadForm(String),
    /// The JSON body cannot be used (not JSON, wrong shape, an unknown key).
    #[error("{0}")]
    BadJson(String),
    /// The settings cannot be read (an unknown setting, a value that is not text).
    #[error("{0}")]
    BadSettings(String),
    /// An account's settings are wrong: every problem, each naming its field.
    #[error("{}", FieldProblem::summary(.0))]
    BadAccount(Vec<FieldProblem>),
    /// A file that is checked against the account's plans came before any plans.
    #[error(
        "the account has no plans yet, and the {kind} file is checked against them; upload the \
         plans first (PUT /api/accounts/{account}/plans)"
    )]
    PlansMissing {
        /// The account.
        account: String,
        /// `eligibility` or `sims`.
        kind: &'static str,
    },
    /// An uploaded file was read and is wrong: the core's diagnostics; nothing was stored.
    #[error(
        "the {kind} file has {} error(s); nothing was stored",
        errors.diagnostics.count(simopt_core::Severity::Error)
    )]
    InvalidUpload {
        /// `plans`, `eligibility` or `sims`.
        kind: &'static str,
        /// The diagnostics.
        errors: InputErrors,
    },
    /// The answer's format is not one the route writes.
    #[error("format {format:?} is not offered; ask for format=json (the default), xlsx or csv")]
    UnknownFormat {
        /// The format asked for.
        format: String,
    },
    /// The Excel report could not be written.
    #[error("{0}")]
    Report(#[from] simopt_core::report::xlsx::XlsxError),
    /// The files were read and are wrong: the core's diagnostics.
    #[error("{0}")]
    InvalidInput(#[from] InputErrors),
    /// The account has no carrier connection.
    #[error(
        "account {account} has no carrier connection; set one with PUT \
         /api/accounts/{account}/carrier"
    )]
    NoCarrier {
        /// The account.
        account: String,
    },
    /// A push cannot be approved (why, in words).
    #[error("{0}")]
    PushRefused(String),
    /// The service cannot seal or open carrier API keys.
    #[error("{0}")]
    CarrierSecret(crate::sealed::SealError),
    /// The runtime failed under us.
    #[error("internal error: {0}")]
    Runtime(#[from] worker::Error),
}

impl ApiError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::NotFound { .. }
            | ApiError::NoSuchAccount { .. }
            | ApiError::NoSuchSession { .. }
            | ApiError::NoCarrier { .. } => 404,
            ApiError::PushRefused(_) => 409,
            ApiError::CarrierSecret(_) => 503,
            ApiError::Unauthorized(_) => 401,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::UnsupportedMediaType { .. } => 415,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::MissingFile { .. }
            | ApiError::BadForm(_)
            | ApiError::BadJson(_)
            | ApiError::BadSettings(_)
            | ApiError::BadAccount(_)
            | ApiError::UnknownFormat { .. } => 400,
            ApiError::PlansMissing { .. }
            | ApiError::InputsMissing { .. }
            | ApiError::ReportNotReady { .. } => 409,
            ApiError::InvalidInput(_) | ApiError::InvalidUpload { .. } => 422,
            ApiError::Report(_) | ApiError::Runtime(_) => 500,
        }
    }

    /// Stable code of the error, the `error` field of the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. }
            | ApiError::NoSuchAccount { .. }
            | ApiError::NoSuchSession { .. } => "not-found",
            ApiError::NoCarrier { .. } => "no-carrier",
            ApiError::PushRefused(_) => "push-refused",
            ApiError::CarrierSecret(_) => "carrier-secret-unset",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::MethodNotAllowed { .. } => "method-not-allowed",
            ApiError::UnsupportedMediaType { .. } => "unsupported-media-type",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::MissingFile { .. } => "missing-file",
            ApiError::BadForm(_) => "bad-form",
            ApiError::BadJson(_) => "bad-json",
            ApiError::BadSettings(_) | ApiError::BadAccount(_) => "bad-settings",
            ApiError::PlansMissing { .. } => "plans-missing",
            ApiError::InputsMissing { .. } => "inputs-missing",
            ApiError::ReportNotReady { .. } => "report-not-ready",
            ApiError::UnknownFormat { .. } => "bad-format",
            ApiError::Report(e) => e.code(),
            ApiError::InvalidInput(e) | ApiError::InvalidUpload { errors: e, .. } => e.code(),
            ApiError::Runtime(_) => "internal",
        }
    }

    /// The JSON body of the answer.
    pub fn body(&self) -> String {
        match self {
            ApiError::InvalidInput(errors) => errors.to_json(),
            // The core's document, with a headline that says nothing was stored.
            ApiError::InvalidUpload { errors, .. } => {
                #[derive(serde::Serialize)]
                struct Body<'a> {
                    error: &'static str,
                    message: String,
                    #[serde(flatten)]
                    diagnostics: &'a simopt_core::Diagnostics,
                }
                serde_json::to_string(&Body {
                    error: self.code(),
                    message: self.to_string(),
                    diagnostics: &errors.diagnostics,
                })
                .unwrap_or_default()
            }
            ApiError::BadAccount(problems) => {
                #[derive(serde::Serialize)]
                struct Body<'a> {
                    error: &'static str,
                    message: String,
                    fields: &'a [FieldProblem],
                }
                serde_json::to_string(&Body {
                    error: self.code(),
                    message: self.to_string(),
                    fields: problems,
                })
                .unwrap_or_default()
            }
            // Runtime details go to the log, not to the client.
            ApiError::Runtime(_) => error_json(self.code(), "internal error; try again later"),
            _ => error_json(self.code(), &self.to_string()),
        }
    }

    /// The HTTP answer for this error.
    ///
    /// # Errors
    /// When the runtime cannot build a response.
    pub fn into_response(self) -> worker::Result<Response> {
        // Failures on our side go to the log as well.
        let cause: Option<&dyn std::fmt::Display> = match &self {
            ApiError::Runtime(cause) => Some(cause),
            ApiError::Report(cause) => Some(cause),
            _ => None,
        };
        if let Some(cause) = cause {
            console_error!("simopt-edge: {cause}");
        }
        let mut response = crate::json_response(self.status(), self.body())?;
        if let ApiError::MethodNotAllowed { allow, .. } = &self {
            response.headers_mut().set("allow", allow)?;
        }
        if let ApiError::Unauthorized(_) = &self {
            response
                .headers_mut()
                .set("www-authenticate", "Bearer realm=\"simopt\"")?;
        }
        Ok(response)
    }
}

fn error_json(code: &str, message: &str) -> String {
    serde_json::json!({ "error": code, "message": message }).to_string()
}

/// A limit in words: `64 MiB`, `64 KiB`, `100 bytes`.
fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    if bytes >= KIB * KIB && bytes % (KIB * KIB) == 0 {
        format!("{} MiB", bytes / (KIB * KIB))
    } else if bytes >= KIB && bytes % KIB == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Why a request was not let in. The message says what to send instead; it never repeats the
/// token that was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthProblem {
    /// No `Authorization` header.
    #[error(
        "this route needs an Authorization: Bearer <token> header; a tenant's first token comes \
         from POST /api/admin/tenants"
    )]
    Missing,
    /// An `Authorization` header of another scheme or without a token.
    #[error("the Authorization header must be \"Bearer <token>\"")]
    Malformed,
    /// A bearer token no tenant has.
    #[error(
        "the bearer token is not valid; use the token POST /api/admin/tenants gave your tenant"
    )]
    UnknownToken,
    /// An admin route called without the admin token.
    #[error("this route needs Authorization: Bearer <ADMIN_TOKEN> (the service's admin secret)")]
    NotAdmin,
    /// The service has no usable admin secret.
    #[error(
        "the service has no ADMIN_TOKEN of at least 32 characters; set one with `wrangler secret \
         put ADMIN_TOKEN` (locally: in .dev.vars, see .dev.vars.example)"
    )]
    AdminTokenUnset,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes() {
        let cases = [
            (ApiError::NotFound { path: "/x".into() }, 404, "not-found"),
            (
                ApiError::MethodNotAllowed {
                    method: "GET".into(),
                    path: "/api/cost".into(),
                    allow: "POST",
                },
                405,
                "method-not-allowed",
            ),
            (
                ApiError::UnsupportedMediaType {
                    content_type: "text/plain".into(),
                    accepted: "send JSON",
                },
                415,
                "unsupported-media-type",
            ),
            (
                ApiError::PayloadTooLarge {
                    limit: 64 << 20,
                    size: Some(1),
                    hint: "send less",
                },
                413,
                "payload-too-large",
            ),
            (
                ApiError::MissingFile { field: "plans" },
                400,
                "missing-file",
            ),
            (ApiError::BadForm("x".into()), 400, "bad-form"),
            (ApiError::BadJson("x".into()), 400, "bad-json"),
            (ApiError::BadSettings("x".into()), 400, "bad-settings"),
            (
                ApiError::UnknownFormat {
                    format: "pdf".into(),
                },
                400,
                "bad-format",
            ),
            (
                ApiError::NoSuchAccount { id: "ab".into() },
                404,
                "not-found",
            ),
            (
                ApiError::Unauthorized(AuthProblem::Missing),
                401,
                "unauthorized",
            ),
            (
                ApiError::Unauthorized(AuthProblem::UnknownToken),
                401,
                "unauthorized",
            ),
            (
                ApiError::BadAccount(vec![FieldProblem::new(
                    "start_hour",
                    "24 is no hour",
                    "0-23",
                )]),
                400,
                "bad-settings",
            ),
            (
                ApiError::PlansMissing {
                    account: "ab".into(),
                    kind: "sims",
                },
                409,
                "plans-missing",
            ),
        ];
        for (error, status, code) in cases {
            assert_eq!((error.status(), error.code()), (status, code), "{error}");
            let body: serde_json::Value = serde_json::from_str(&error.body()).expect("json body");
            assert_eq!(body["error"], code);
            assert_eq!(body["message"], error.to_string());
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        assert_eq!(
            ApiError::MissingFile { field: "plans" }.to_string(),
            "the plans file is missing; send it as the form field \"plans\" (multipart) or the key \
             \"plans\" (JSON)"
        );
        assert_eq!(
            ApiError::PayloadTooLarge {
                limit: 64 << 20,
                size: Some(70_000_000),
                hint: "send fewer SIMs per request",
            }
            .to_string(),
            "the request body (70000000 bytes) is over the limit of 67108864 bytes (64 MiB); send \
             fewer SIMs per request"
        );
        assert_eq!(
            ApiError::PayloadTooLarge {
                limit: 64 << 10,
                size: None,
                hint: "send the settings alone",
            }
            .to_string(),
            "the request body is over the limit of 65536 bytes (64 KiB); send the settings alone"
        );
        assert_eq!(human_size(100), "100 bytes");
        assert_eq!(human_size(1536), "1536 bytes");
    }

    #[test]
    fn bad_account_names_every_field() {
        let error = ApiError::BadAccount(vec![
            FieldProblem::new(
                "time_zone",
                "unknown time zone \"Mars\"",
                "use an IANA name",
            ),
            FieldProblem::new("period_end_hour", "24 is not an hour", "use 0 to 23"),
        ]);
        let text = error.body();
        assert!(
            text.starts_with(r#"{"error":"bad-settings","message":"#),
            "{text}"
        );
        let body: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(body["fields"][0]["field"], "time_zone");
        assert_eq!(body["fields"][1]["field"], "period_end_hour");
        assert_eq!(body["fields"][1]["hint"], "use 0 to 23");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("time_zone: unknown time zone"),
            "{message}"
        );
        assert!(
            message.contains("period_end_hour: 24 is not an hour"),
            "{message}"
        );
    }

    #[test]
    fn invalid_upload_keeps_the_core_diagnostics() {
        let plans = simopt_core::SourceFile {
            name: "plans.csv",
            bytes: b"plan_id,monthly_charge,included_mb\nS,abc,5\n",
        };
        let errors = simopt_core::input::check_plans(&plans).expect_err("invalid");
        let error = ApiError::InvalidUpload {
            kind: "plans",
            errors,
        };
        assert_eq!(error.status(), 422);
        let text = error.body();
        assert!(
            text.starts_with(r#"{"error":"invalid-input","message":"#),
            "{text}"
        );
        let body: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            body["message"],
            "the plans file has 1 error(s); nothing was stored"
        );
        assert_eq!(body["items"][0]["row"], 2);
        assert_eq!(body["items"][0]["column"], "monthly_charge");
        assert_eq!(body["items"][0]["file"], "plans.csv");
    }
}
