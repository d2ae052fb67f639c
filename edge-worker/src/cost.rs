//! `POST /api/cost`: the current bill of a fleet, as the core's JSON contract document, or as
//! the Excel report (`?format=xlsx`, or an `Accept` of the xlsx media type) or the per-SIM CSV
//! export (`?format=csv`, or `Accept: text/csv`).

use simopt_core::report::{self, xlsx, Report};
use simopt_core::{cost_current, CostOutcome};
use worker::url::form_urlencoded;
use worker::{Request, Response};

use crate::error::ApiError;
use crate::{clock, json_response, request};

/// The media type of an `.xlsx` workbook.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What the answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The JSON contract document (the default).
    Json,
    /// The Excel report.
    Xlsx,
    /// The per-SIM CSV export.
    Csv,
}

impl Format {
    /// The format a request asks for: the first `format` parameter of its query (`query`, as
    /// `Url::query_pairs` gives it), else its `Accept` header (the xlsx media type or
    /// `text/csv`), else JSON.
    ///
    /// # Errors
    /// [`ApiError::UnknownFormat`] for a `format` other than json, xlsx or csv.
    pub fn of(
        mut query: form_urlencoded::Parse<'_>,
        accept: Option<&str>,
    ) -> Result<Format, ApiError> {
        let asked = query
            .find(|(key, _)| key == "format")
            .map(|(_, value)| value.to_ascii_lowercase());
        match asked.as_deref() {
            Some("json") => return Ok(Format::Json),
            Some("xlsx") => return Ok(Format::Xlsx),
            Some("csv") => return Ok(Format::Csv),
            Some(other) => {
                return Err(ApiError::UnknownFormat {
                    format: other.to_owned(),
                })
            }
            None => {}
        }
        let accept = accept.unwrap_or_default().to_ascii_lowercase();
        Ok(if accept.contains(XLSX_TYPE) {
            Format::Xlsx
        } else if accept.contains("text/csv") {
            Format::Csv
        } else {
            Format::Json
        })
    }
}

/// Reads the files and settings, bills the fleet as it stands and answers the JSON document
/// (byte-identical to the command line's `simopt cost --json`), the Excel report (the bytes of
/// `simopt cost --xlsx`) or the CSV export.
///
/// # Errors
/// Every failure as an [`ApiError`]: a malformed request, an unknown format, the core's
/// diagnostics, or a report that cannot be written (the Excel report's error, or a runtime
/// error naming the CSV export).
pub async fn handle(mut req: Request) -> Result<Response, ApiError> {
    let url = req.url()?;
    let format = Format::of(url.query_pairs(), req.headers().get("accept")?.as_deref())?;
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
    match format {
        Format::Json => Ok(json_response(200, outcome.to_json())?),
        Format::Xlsx => {
            let options = xlsx::Options::for_account(run.settings.account_name.as_deref());
            let bytes = xlsx::to_bytes(&report_of(&outcome), &options)?;
            Ok(file_response(bytes, XLSX_TYPE, "simopt-cost.xlsx")?)
        }
        Format::Csv => {
            let text = report::csv::to_string(&report_of(&outcome)).map_err(|e| {
                ApiError::Runtime(worker::Error::RustError(format!(
                    "cannot write the CSV export: {e}"
                )))
            })?;
            Ok(file_response(
                text.into_bytes(),
                "text/csv; charset=utf-8",
                "simopt-cost.csv",
            )?)
        }
    }
}

fn report_of(outcome: &CostOutcome) -> Report<'_> {
    Report::of_cost(&outcome.fleet, &outcome.bill, &outcome.warnings)
}

/// A file to download.
fn file_response(bytes: Vec<u8>, content_type: &str, name: &str) -> worker::Result<Response> {
    Ok(Response::builder()
        .with_status(200)
        .with_header("content-type", content_type)?
        .with_header(
            "content-disposition",
            &format!("attachment; filename=\"{name}\""),
        )?
        .fixed(bytes))
}

#[cfg(test)]
mod tests {
    use super::{form_urlencoded, Format};

    #[test]
    fn the_query_wins_then_the_accept_header() {
        let of = |query: &str, accept| Format::of(form_urlencoded::parse(query.as_bytes()), accept);
        assert_eq!(of("", None).ok(), Some(Format::Json));
        assert_eq!(of("format=xlsx", None).ok(), Some(Format::Xlsx));
        assert_eq!(of("a=1&format=CSV", None).ok(), Some(Format::Csv));
        // The first `format` counts, percent-decoded like any query parameter.
        assert_eq!(of("format=%63sv&format=xlsx", None).ok(), Some(Format::Csv));
        assert_eq!(of("", Some(super::XLSX_TYPE)).ok(), Some(Format::Xlsx));
        assert_eq!(of("", Some("text/csv")).ok(), Some(Format::Csv));
        assert_eq!(of("format=json", Some("text/csv")).ok(), Some(Format::Json));
        let error = of("format=pdf", None).expect_err("unknown");
        assert_eq!(error.code(), "bad-format");
        let error = of("format", None).expect_err("empty");
        assert_eq!(error.code(), "bad-format");
    }
}
