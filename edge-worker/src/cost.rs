//! `POST /api/cost`: the current bill of a fleet, as the core's JSON contract document.

use simopt_core::cost_current;
use worker::{Request, Response};

use crate::error::ApiError;
use crate::{clock, json_response, request};

/// Where the handler is mounted.
pub const PATH: &str = "/api/cost";

/// Reads the files and settings, bills the fleet as it stands and answers the JSON document
/// (byte-identical to the command line's `simopt cost --json`).
///
/// # Errors
/// Every failure as an [`ApiError`]: a malformed request, or the core's diagnostics.
pub async fn handle(mut req: Request) -> Result<Response, ApiError> {
    let mut run = request::read_cost_request(&mut req).await?;
    if run
        .settings
        .as_of
        .as_deref()
        .is_none_or(|t| t.trim().is_empty())
    {
        run.settings.as_of = Some(clock::now_rfc3339());
    }
    let outcome = cost_current(&run.files(), &run.settings)?;
    Ok(json_response(200, outcome.to_json())?)
}
