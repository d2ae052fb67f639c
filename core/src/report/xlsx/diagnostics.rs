//! The Diagnostics sheet: the data-quality warnings kept (the first of each kind), with where
//! they are and what to do.

use rust_xlsxwriter::Worksheet;

use super::style::Styles;
use super::{landscape, XlsxError};
use crate::report::Report;

const HEADERS: [(&str, f64); 6] = [
    ("Kind", 22.0),
    ("File", 16.0),
    ("Row", 8.0),
    ("Column", 14.0),
    ("What is wrong", 60.0),
    ("What to do", 60.0),
];

/// The Diagnostics sheet.
pub(super) fn write(
    sheet: &mut Worksheet,
    report: &Report<'_>,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let warnings = report.warnings;
    sheet.set_name("Diagnostics")?;
    sheet.write_string_with_format(0, 0, "Diagnostics", &styles.title)?;
    let total: u64 = warnings.counts.iter().map(|c| c.count).sum();
    let mut note = format!(
        "{total} warning{} found reading the input; the bill uses the data as described.",
        if total == 1 { "" } else { "s" }
    );
    if warnings.not_shown() > 0 {
        note.push_str(&format!(
            " The first {} of each kind are listed ({} more not shown).",
            crate::diagnostics::KEEP_PER_CODE,
            warnings.not_shown()
        ));
    }
    sheet.write_string_with_format(1, 0, note, &styles.note)?;
    let header_row = 3;
    for (col, (name, width)) in HEADERS.iter().enumerate() {
        let col = col as u16;
        sheet.set_column_width(col, *width)?;
        let format = if *name == "Row" {
            &styles.header
        } else {
            &styles.header_left
        };
        sheet.write_string_with_format(header_row, col, *name, format)?;
    }
    let mut row = header_row;
    for d in &warnings.items {
        row += 1;
        sheet.write_string(row, 0, d.code.as_str())?;
        sheet.write_string(row, 1, &d.file)?;
        if let Some(r) = d.row {
            sheet.write_number_with_format(row, 2, r as f64, &styles.count)?;
        }
        if let Some(column) = &d.column {
            sheet.write_string(row, 3, column)?;
        }
        sheet.write_string(row, 4, &d.message)?;
        sheet.write_string(row, 5, &d.hint)?;
    }
    sheet.autofilter(header_row, 0, row, HEADERS.len() as u16 - 1)?;
    sheet.set_freeze_panes(header_row + 1, 0)?;
    landscape(sheet, header_row)?;
    Ok(())
}
