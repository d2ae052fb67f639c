//! Every way a request can fail, and the one place each is turned into an HTTP status and a JSON
//! body (after workers-rs `worker/src/error.rs`).
//!
//! Bodies are `{"error": code, "message": text}` with a stable `code`, except invalid input,
//! which answers the core's own document (`InputErrors::to_json`: code `invalid-input` plus every
//! diagnostic with file, row, column and hint).

use simopt_core::InputErrors;
use worker::{console_error, Response};

/// A request the Worker cannot answer with a result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No route has this path.
    #[error("nothing is served at {path}; the API is POST /api/cost and GET /api/health")]
    NotFound {
        /// The path asked for.
        path: String,
    },
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
    /// The body is neither multipart/form-data nor JSON.
    #[error(
        "content type {content_type:?} is not accepted; send multipart/form-data (file fields \
         sims, plans, eligibility) or application/json"
    )]
    UnsupportedMediaType {
        /// The `Content-Type` header as sent.
        content_type: String,
    },
    /// The body is over the upload limit.
    #[error(
        "the request body{} is over the limit of {limit} bytes ({} MiB); send fewer SIMs per request",
        size.map(|s| format!(" ({s} bytes)")).unwrap_or_default(),
        limit / (1024 * 1024)
    )]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: u64,
        /// The size seen (declared or counted) when known.
        size: Option<u64>,
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
    /// The runtime failed under us.
    #[error("internal error: {0}")]
    Runtime(#[from] worker::Error),
}

impl ApiError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::UnsupportedMediaType { .. } => 415,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::MissingFile { .. }
            | ApiError::BadForm(_)
            | ApiError::BadJson(_)
            | ApiError::BadSettings(_)
            | ApiError::UnknownFormat { .. } => 400,
            ApiError::InvalidInput(_) => 422,
            ApiError::Report(_) | ApiError::Runtime(_) => 500,
        }
    }

    /// Stable code of the error, the `error` field of the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "not-found",
            ApiError::MethodNotAllowed { .. } => "method-not-allowed",
            ApiError::UnsupportedMediaType { .. } => "unsupported-media-type",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::MissingFile { .. } => "missing-file",
            ApiError::BadForm(_) => "bad-form",
            ApiError::BadJson(_) => "bad-json",
            ApiError::BadSettings(_) => "bad-settings",
            ApiError::UnknownFormat { .. } => "bad-format",
            ApiError::Report(e) => e.code(),
            ApiError::InvalidInput(e) => e.code(),
            ApiError::Runtime(_) => "internal",
        }
    }

    /// The JSON body of the answer.
    pub fn body(&self) -> String {
        match self {
            ApiError::InvalidInput(errors) => errors.to_json(),
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
        Ok(response)
    }
}

fn error_json(code: &str, message: &str) -> String {
    serde_json::json!({ "error": code, "message": message }).to_string()
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
                },
                415,
                "unsupported-media-type",
            ),
            (
                ApiError::PayloadTooLarge {
                    limit: 64 << 20,
                    size: Some(1),
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
                size: Some(70_000_000)
            }
            .to_string(),
            "the request body (70000000 bytes) is over the limit of 67108864 bytes (64 MiB); send \
             fewer SIMs per request"
        );
    }
}
