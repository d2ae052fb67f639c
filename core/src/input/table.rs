//! CSV and JSON files as rows of text fields addressed by column name.
//!
//! CSV: header-based, any column order, extra columns ignored, missing trailing fields empty, UTF-8 with or without BOM, LF or
//! CRLF, comma (or, when the header has none, semicolon or tab) separated. JSON: an array of
//! objects, or an object holding that array under the file's kind (`{"sims": [...]}`); values
//! may be strings, numbers, booleans or null. Either way each row reaches the caller as the text
//! of the columns it asked for, with the row number a person would look for.

use super::SourceFile;
use crate::diagnostics::{Code, Collector, Location};

/// The columns a file kind reads.
pub(crate) struct Schema {
    /// What the file holds, for messages and JSON keys (`sims`, `plans`, `eligibility`).
    pub kind: &'static str,
    /// Columns that must be in the header.
    pub required: &'static [&'static str],
    /// Columns read when present.
    pub optional: &'static [&'static str],
}

impl Schema {
    fn columns(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.required.iter().chain(self.optional).copied()
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.columns().position(|c| c == name)
    }
}

/// One row: the text of each schema column (empty when absent), in schema order.
pub(crate) struct Row<'r> {
    /// Row number: the file's line for CSV (header = 1), the item number for JSON (first = 1).
    pub number: u64,
    /// The row has a different number of fields than the header (already reported): its values
    /// may be in the wrong columns and serve only to limit follow-on messages.
    pub ragged: bool,
    fields: &'r [&'r str],
    present: &'r [bool],
}

impl Row<'_> {
    /// The trimmed text of a column (empty when the column is absent).
    pub fn get(&self, schema: &Schema, column: &str) -> &str {
        schema
            .index_of(column)
            .map_or("", |i| self.fields[i].trim())
    }

    /// Whether the file has this column at all.
    pub fn has_column(&self, schema: &Schema, column: &str) -> bool {
        schema.index_of(column).is_some_and(|i| self.present[i])
    }
}

/// Normalises a header name: trimmed, lower case, spaces and dashes as underscores.
fn normalise(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .replace([' ', '-'], "_")
}

/// Reads every row of `file`, calling `each` with it; problems go to `errors`. Returns false when
/// the file could not be read at all (nothing was passed to `each` then).
pub(crate) fn read_rows(
    file: &SourceFile<'_>,
    schema: &Schema,
    errors: &mut Collector,
    each: impl FnMut(&Row<'_>, &mut Collector),
) -> bool {
    let bytes = file
        .bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(file.bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_none() {
        errors.error(
            Code::EmptyFile,
            &Location::file(file.name),
            format!("the {} file is empty", schema.kind),
            format!(
                "export it again with a header row naming at least: {}",
                schema.required.join(", ")
            ),
        );
        return false;
    }
    if file.is_json() {
        read_json(file.name, bytes, schema, errors, each)
    } else {
        read_csv(file.name, bytes, schema, errors, each)
    }
}

fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let header = bytes.split(|b| *b == b'\n').next().unwrap_or(bytes);
    let count = |d: u8| header.iter().filter(|b| **b == d).count();
    if count(b',') == 0 {
        if count(b';') > 0 {
            return b';';
        }
        if count(b'\t') > 0 {
            return b'\t';
        }
    }
    b','
}

fn read_csv(
    name: &str,
    bytes: &[u8],
    schema: &Schema,
    errors: &mut Collector,
    mut each: impl FnMut(&Row<'_>, &mut Collector),
) -> bool {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(bytes))
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let header_ok = match reader.read_byte_record(&mut record) {
        Ok(true) => true,
        Ok(false) => false,
        Err(e) => {
            unreadable_csv(name, &e, errors);
            return false;
        }
    };
    if !header_ok {
        errors.error(
            Code::EmptyFile,
            &Location::file(name),
            format!("the {} file has no header row", schema.kind),
            format!("add a header row naming: {}", schema.required.join(", ")),
        );
        return false;
    }
    let header: Vec<String> = record
        .iter()
        .map(|f| normalise(&String::from_utf8_lossy(f)))
        .collect();
    let Some(positions) = map_columns(name, &header, schema, errors) else {
        return false;
    };
    let present: Vec<bool> = positions.iter().map(Option::is_some).collect();
    let mut empty_data = true;
    // The csv crate miscounts lines in CRLF files, so lines are counted here from byte offsets.
    let mut counted_to = 0usize;
    let mut line = 1u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                unreadable_csv(name, &e, errors);
                return false;
            }
        }
        let mut offset = record
            .position()
            .map_or(counted_to, |p| (p.byte() as usize).min(bytes.len()));
        // In CRLF files a record's position is the `\n` ending the line before it.
        while offset < bytes.len() && matches!(bytes[offset], b'\r' | b'\n') {
            offset += 1;
        }
        line += bytes[counted_to.min(offset)..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        counted_to = offset;
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        empty_data = false;
        // Fewer fields than the header: the missing trailing fields are empty (some exports omit
        // them). More fields: the values cannot be attributed to columns.
        let ragged = record.len() > header.len();
        if ragged {
            errors.error(
                Code::RaggedRow,
                &Location::row(name, line),
                format!(
                    "the row has {} fields but the header has only {}",
                    record.len(),
                    header.len()
                ),
                "check for a missing or extra separator, or a value with a comma that is not in quotes",
            );
        }
        let mut fields: Vec<&str> = Vec::with_capacity(positions.len());
        let mut utf8_ok = true;
        for (i, position) in positions.iter().enumerate() {
            let text = match position.and_then(|p| record.get(p)) {
                Some(field) => match std::str::from_utf8(field) {
                    Ok(t) => t,
                    Err(_) => {
                        let column = schema.columns().nth(i).unwrap_or("?");
                        errors.error(
                            Code::UnreadableFile,
                            &Location::row(name, line).column(column),
                            "the value is not valid UTF-8 text",
                            "save the file as UTF-8 (in Excel: \"CSV UTF-8\")",
                        );
                        utf8_ok = false;
                        ""
                    }
                },
                None => "",
            };
            fields.push(text);
        }
        if utf8_ok {
            each(
                &Row {
                    number: line,
                    ragged,
                    fields: &fields,
                    present: &present,
                },
                errors,
            );
        }
    }
    if empty_data {
        errors.error(
            Code::EmptyFile,
            &Location::file(name),
            format!("the {} file has a header but no rows", schema.kind),
            "check that the export is complete",
        );
    }
    true
}

fn unreadable_csv(name: &str, error: &csv::Error, errors: &mut Collector) {
    let row = error.position().map(csv::Position::line);
    let at = Location {
        file: name,
        row,
        column: None,
    };
    errors.error(
        Code::UnreadableFile,
        &at,
        format!("the file cannot be read as CSV: {error}"),
        "save it as CSV (comma separated, UTF-8) with one header row",
    );
}

/// Finds each schema column in the header; reports missing required and duplicate columns.
fn map_columns(
    name: &str,
    header: &[String],
    schema: &Schema,
    errors: &mut Collector,
) -> Option<Vec<Option<usize>>> {
    let mut ok = true;
    let positions: Vec<Option<usize>> = schema
        .columns()
        .map(|column| {
            let mut found = header.iter().enumerate().filter(|(_, h)| *h == column);
            let first = found.next().map(|(i, _)| i);
            if found.next().is_some() {
                errors.error(
                    Code::DuplicateColumn,
                    &Location::row(name, 1).column(column),
                    format!("the column {column} appears more than once in the header"),
                    "keep one of them",
                );
                ok = false;
            }
            first
        })
        .collect();
    for (column, position) in schema.columns().zip(&positions) {
        if position.is_none() && schema.required.contains(&column) {
            let alternative_ok = column == "usage_mb" && header.iter().any(|h| h == "usage_bytes");
            if !alternative_ok {
                errors.error(
                    Code::MissingColumn,
                    &Location::row(name, 1).column(column),
                    format!("the required column {column} is missing"),
                    format!(
                        "the header has: {}; a {} file needs: {}",
                        if header.is_empty() {
                            "nothing".into()
                        } else {
                            header.join(", ")
                        },
                        schema.kind,
                        schema.required.join(", ")
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(positions)
}

fn read_json(
    name: &str,
    bytes: &[u8],
    schema: &Schema,
    errors: &mut Collector,
    mut each: impl FnMut(&Row<'_>, &mut Collector),
) -> bool {
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            errors.error(
                Code::UnreadableFile,
                &Location::row(name, e.line() as u64),
                format!("the file cannot be read as JSON: {e}"),
                format!(
                    "write an array of objects, or {{\"{}\": [...]}}, with keys {}",
                    schema.kind,
                    schema.required.join(", ")
                ),
            );
            return false;
        }
    };
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut map) => match map.remove(schema.kind) {
            Some(serde_json::Value::Array(items)) => items,
            _ => {
                errors.error(
                    Code::UnreadableFile,
                    &Location::file(name),
                    format!("the JSON object has no array under \"{}\"", schema.kind),
                    format!(
                        "write {{\"{}\": [{{...}}, ...]}} or a plain array",
                        schema.kind
                    ),
                );
                return false;
            }
        },
        _ => {
            errors.error(
                Code::UnreadableFile,
                &Location::file(name),
                "the JSON file is neither an array nor an object",
                format!("write an array of {} objects", schema.kind),
            );
            return false;
        }
    };
    if items.is_empty() {
        errors.error(
            Code::EmptyFile,
            &Location::file(name),
            format!("the {} array is empty", schema.kind),
            "check that the export is complete",
        );
        return true;
    }
    let columns: Vec<&str> = schema.columns().collect();
    let mut texts: Vec<String> = vec![String::new(); columns.len()];
    let mut present = vec![false; columns.len()];
    for (index, item) in items.iter().enumerate() {
        let number = index as u64 + 1;
        let Some(object) = item.as_object() else {
            errors.error(
                Code::UnreadableFile,
                &Location::row(name, number),
                "the item is not an object",
                format!(
                    "each item is an object with keys such as {}",
                    schema.required.join(", ")
                ),
            );
            continue;
        };
        for t in &mut texts {
            t.clear();
        }
        present.fill(false);
        let mut ok = true;
        for (key, value) in object {
            let Some(i) = columns.iter().position(|c| *c == normalise(key)) else {
                continue;
            };
            present[i] = true;
            match value {
                serde_json::Value::String(s) => texts[i].push_str(s),
                serde_json::Value::Number(n) => texts[i].push_str(&n.to_string()),
                serde_json::Value::Bool(b) => texts[i].push_str(if *b { "true" } else { "false" }),
                serde_json::Value::Null => {}
                _ => {
                    errors.error(
                        Code::UnreadableFile,
                        &Location::row(name, number).column(columns[i]),
                        "the value is a list or an object",
                        "use a string, a number, true/false or null",
                    );
                    ok = false;
                }
            }
        }
        if !ok {
            continue;
        }
        let fields: Vec<&str> = texts.iter().map(String::as_str).collect();
        each(
            &Row {
                number,
                ragged: false,
                fields: &fields,
                present: &present,
            },
            errors,
        );
    }
    true
}
