//! The Excel report and the CSV export, as the handles hand them to JavaScript.

use simopt_core::report::{csv, xlsx, Report};

use crate::error::internal_error;

/// The workbook's bytes.
pub(crate) fn xlsx_bytes(
    report: &Report<'_>,
    account_name: Option<&str>,
) -> Result<Vec<u8>, js_sys::Error> {
    xlsx::to_bytes(report, &xlsx::Options::for_account(account_name))
        .map_err(|e| internal_error(&e.to_string()))
}

/// The CSV export as text.
pub(crate) fn csv_text(report: &Report<'_>) -> Result<String, js_sys::Error> {
    csv::to_string(report).map_err(|e| internal_error(&format!("cannot write the CSV export: {e}")))
}
