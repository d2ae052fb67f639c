//! The Excel report and the CSV export, as the handles hand them to JavaScript.

use simopt_core::report::{csv, xlsx, Report};

use crate::error::internal_error;

/// The workbook's bytes.
pub(crate) fn xlsx_bytes(
    report: &Report<'_>,
    account_name: Option<&str>,
) -> Result<Vec<u8>, js_sys::Error> {
    let options = xlsx::Options {
        account_name: account_name.map(str::to_owned),
        ..xlsx::Options::default()
    };
    xlsx::to_bytes(report, &options).map_err(|e| internal_error(&e.to_string()))
}

/// The CSV export as text.
pub(crate) fn csv_text(report: &Report<'_>) -> Result<String, js_sys::Error> {
    let mut out = Vec::new();
    csv::write(&mut out, report)
        .map_err(|e| internal_error(&format!("cannot write the CSV export: {e}")))?;
    String::from_utf8(out).map_err(|e| internal_error(&format!("the CSV export: {e}")))
}
