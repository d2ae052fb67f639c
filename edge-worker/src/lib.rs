//! # simopt-edge
//!
//! The Cloudflare Worker front end of simopt: the same pure core as the command line and the
//! browser, answering over HTTP inside workerd. A bill computed here is byte-identical to the one
//! `simopt cost --json` writes for the same files and settings.
//!
//! | route | answer |
//! |---|---|
//! | `POST /api/cost` | `200` and the cost document; `422` and the core's diagnostics for bad input |
//! | `POST /api/cost?format=xlsx` | `200` and the Excel report of the bill (also for `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`) |
//! | `POST /api/cost?format=csv` | `200` and the per-SIM CSV export (also for `Accept: text/csv`) |
//! | `GET /api/health` | `200 {"status":"ok"}` |
//!
//! `POST /api/cost` takes `multipart/form-data` (file fields `sims`, `plans`, optional
//! `eligibility`; settings as text fields `period_end`, `time_zone`, `as_of`, `proration`,
//! `charge_type`, `projection`, `margin_pct`, `currency_decimals`, `account_name` (the Excel
//! report's title)) or `application/json`
//! (`{"sims": "<csv>" | [rows], "plans": ..., "eligibility": ..., "settings": {...}}`). Without
//! `as_of` the run happens "now". See [`request`] for the details and the upload limit.
//!
//! The modules: [`request`] reads a body into files and settings, [`cost`] runs the core,
//! [`error`] maps every failure to its HTTP status in one place, [`clock`] supplies "now".
//!
//! Built by `scripts/build-worker` (worker-build), run by `wrangler dev` from the repository
//! root, tested in workerd by `scripts/test-worker`.

#![deny(missing_docs)]

pub mod clock;
pub mod cost;
pub mod error;
pub mod request;

use worker::{event, Context, Env, Method, Request, Response};

use crate::error::ApiError;

/// Where the health check is mounted.
pub const HEALTH_PATH: &str = "/api/health";

#[event(fetch)]
async fn fetch(req: Request, _env: Env, _ctx: Context) -> worker::Result<Response> {
    match route(req).await {
        Ok(response) => Ok(response),
        Err(error) => error.into_response(),
    }
}

/// Sends a request to its handler.
async fn route(req: Request) -> Result<Response, ApiError> {
    let path = req.path();
    let method = req.method();
    let allow = match path.as_str() {
        cost::PATH if method == Method::Post => return cost::handle(req).await,
        cost::PATH => "POST",
        HEALTH_PATH if matches!(method, Method::Get | Method::Head) => {
            return Ok(json_response(200, r#"{"status":"ok"}"#.to_owned())?);
        }
        HEALTH_PATH => "GET, HEAD",
        _ => return Err(ApiError::NotFound { path }),
    };
    Err(ApiError::MethodNotAllowed {
        method: method.to_string(),
        path,
        allow,
    })
}

/// A JSON answer.
///
/// # Errors
/// When the runtime cannot build a response.
pub(crate) fn json_response(status: u16, body: String) -> worker::Result<Response> {
    Ok(Response::builder()
        .with_status(status)
        .with_header("content-type", "application/json")?
        .fixed(body.into_bytes()))
}
