//! CSV and JSON files as rows of text fields addressed by column name.
//!
//! CSV: header-based, any column order, extra columns ignored, missing trailing fields empty, UTF-8 with or without BOM, LF or
//! CRLF, comma (or, when the header has none, semicolon or tab) separated. JSON: an array of
//! objects, or an object holding that array under the file's kind (`{"sims": [...]}`); values
//! may be strings, numbers, booleans or null. Either way each row reaches the caller as the text
//! of the columns it asked for, with the row number a person would look for.
//!
//! A file may arrive in pieces ([`RowReader`]): CSV rows are read as their records complete, so
//! only the record in progress is kept between pieces.

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
    schema: &'static Schema,
    errors: &mut Collector,
    mut each: impl FnMut(&Row<'_>, &mut Collector),
) -> bool {
    let mut reader = RowReader::new(file.name, schema);
    reader.push(file.bytes, errors, &mut each);
    reader.finish(errors, &mut each)
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// Whether a file holds nothing but spaces and line breaks (after its byte order mark).
fn blank(bytes: &[u8]) -> bool {
    without_bom(bytes).iter().all(u8::is_ascii_whitespace)
}

/// Reads a file's rows from its bytes as they arrive, in pieces cut anywhere (inside a line, a
/// quoted value, a line break or a UTF-8 character): each piece goes to [`RowReader::push`], and
/// [`RowReader::finish`] ends the file. Every row reaches `each` once its record is complete, with
/// the same numbers and diagnostics as when the file comes in one piece.
///
/// Between pieces a CSV file costs only the record being read, already split into fields (and,
/// at the start, the bytes up to the end of the first line and the first character that is not a
/// space, which tell CSV from JSON and choose the separator). serde_json reads only complete
/// documents, so a JSON file is kept whole and read by `finish`.
pub(crate) struct RowReader {
    name: String,
    schema: &'static Schema,
    /// The file's first bytes, until they tell its format.
    head: Vec<u8>,
    format: Option<Format>,
}

enum Format {
    /// The text so far, byte order mark included.
    Json(Vec<u8>),
    Csv(Box<Csv>),
    /// The CSV header is unusable (reported): the rows are not read.
    Unreadable,
}

impl RowReader {
    /// A reader for the file `name` (a `.json` name means JSON; otherwise the first character
    /// that is not a space tells: `[` or `{` is JSON, anything else CSV).
    pub fn new(name: &str, schema: &'static Schema) -> Self {
        let json = name.to_ascii_lowercase().ends_with(".json");
        Self {
            name: name.to_owned(),
            schema,
            head: Vec::new(),
            format: json.then(|| Format::Json(Vec::new())),
        }
    }

    /// Reads the file's next bytes, passing each row they complete to `each`.
    pub fn push(
        &mut self,
        mut bytes: &[u8],
        errors: &mut Collector,
        each: &mut impl FnMut(&Row<'_>, &mut Collector),
    ) {
        if self.format.is_none() {
            let Some(taken) = head_end(&self.head, bytes) else {
                self.head.extend_from_slice(bytes);
                return;
            };
            self.head.extend_from_slice(&bytes[..taken]);
            bytes = &bytes[taken..];
            let head = std::mem::take(&mut self.head);
            self.format = Some(begin(&self.name, self.schema, head, errors, each));
        }
        match &mut self.format {
            Some(Format::Json(text)) => text.extend_from_slice(bytes),
            Some(Format::Csv(csv)) => {
                if !csv.read(bytes, false, &self.name, self.schema, errors, each) {
                    self.format = Some(Format::Unreadable);
                }
            }
            Some(Format::Unreadable) | None => {}
        }
    }

    /// Ends the file: reads what is left and reports what only its end tells (an empty file, a
    /// header without rows). Returns false when the file could not be read at all.
    pub fn finish(
        self,
        errors: &mut Collector,
        each: &mut impl FnMut(&Row<'_>, &mut Collector),
    ) -> bool {
        let format = match self.format {
            Some(format) => format,
            None if blank(&self.head) => return empty_file(&self.name, self.schema, errors),
            None => begin(&self.name, self.schema, self.head, errors, each),
        };
        match format {
            Format::Json(text) if blank(&text) => empty_file(&self.name, self.schema, errors),
            Format::Json(text) => {
                read_json(&self.name, without_bom(&text), self.schema, errors, each)
            }
            Format::Csv(csv) => csv.finish(&self.name, self.schema, errors, each),
            Format::Unreadable => false,
        }
    }
}

/// Reports a file with nothing in it; returns false (it cannot be read).
fn empty_file(name: &str, schema: &Schema, errors: &mut Collector) -> bool {
    errors.error(
        Code::EmptyFile,
        &Location::file(name),
        format!("the {} file is empty", schema.kind),
        format!(
            "export it again with a header row naming at least: {}",
            schema.required.join(", ")
        ),
    );
    false
}

/// How many of the `more` bytes complete a file's start, whose bytes so far are `head`: enough
/// to settle whether it begins with a byte order mark, and to hold its first line break and
/// first character other than a space. `None` when all of them do not.
fn head_end(head: &[u8], more: &[u8]) -> Option<usize> {
    let text = || head.iter().chain(more).enumerate();
    let skip = if text().take(3).map(|(_, b)| b).eq(BOM) {
        3
    } else {
        0
    };
    let line_break = text().skip(skip).find(|(_, b)| **b == b'\n')?.0;
    let character = text().skip(skip).find(|(_, b)| !b.is_ascii_whitespace())?.0;
    // A line break among the first three bytes rules out a byte order mark: the head may end
    // before them.
    let end = line_break.max(character) + 1;
    Some(end.saturating_sub(head.len()).min(more.len()))
}

/// Starts reading a file from its first bytes (`head`, which is not blank).
fn begin(
    name: &str,
    schema: &Schema,
    head: Vec<u8>,
    errors: &mut Collector,
    each: &mut impl FnMut(&Row<'_>, &mut Collector),
) -> Format {
    let body = without_bom(&head);
    if let Some(b'[' | b'{') = body.iter().find(|b| !b.is_ascii_whitespace()) {
        return Format::Json(head);
    }
    let mut csv = Box::new(Csv::new(sniff_delimiter(body)));
    if csv.read(body, false, name, schema, errors, each) {
        Format::Csv(csv)
    } else {
        Format::Unreadable
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

/// A CSV file being read: csv_core's parser, which keeps its place between pieces, and the record
/// it is in the middle of.
struct Csv {
    parser: csv_core::Reader,
    /// The fields of the record being read, one after another, and where each ends; csv_core
    /// fills them up to `fields_len` and `ends_len`.
    fields: Vec<u8>,
    ends: Vec<usize>,
    fields_len: usize,
    ends_len: usize,
    /// The header's columns, once it is read.
    columns: Option<Columns>,
    /// Line feeds read so far: rows are numbered by the line they start on.
    line_feeds: u64,
    /// The line the record being read starts on, once a byte of it other than a line break is in.
    record_line: Option<u64>,
    /// Whether a row with something other than spaces was read.
    has_rows: bool,
}

/// The header, read.
struct Columns {
    /// Fields in the header.
    count: usize,
    /// Where each schema column is in a row, if anywhere.
    positions: Vec<Option<usize>>,
    present: Vec<bool>,
}

impl Csv {
    fn new(delimiter: u8) -> Self {
        Self {
            parser: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            fields: vec![0; 1024],
            ends: vec![0; 32],
            fields_len: 0,
            ends_len: 0,
            columns: None,
            line_feeds: 0,
            record_line: None,
            has_rows: false,
        }
    }

    /// Parses `input`, passing each row it completes to `each`; `end`: the file ends here.
    /// Returns false when the header is unusable (reported).
    fn read(
        &mut self,
        mut input: &[u8],
        end: bool,
        name: &str,
        schema: &Schema,
        errors: &mut Collector,
        each: &mut impl FnMut(&Row<'_>, &mut Collector),
    ) -> bool {
        // csv_core takes empty input for the end of the file, so it gets none before then.
        while end || !input.is_empty() {
            let (result, read, written, ended) = self.parser.read_record(
                input,
                &mut self.fields[self.fields_len..],
                &mut self.ends[self.ends_len..],
            );
            self.count_lines(&input[..read]);
            input = &input[read..];
            self.fields_len += written;
            self.ends_len += ended;
            match result {
                csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => {
                    return true
                }
                csv_core::ReadRecordResult::OutputFull => {
                    self.fields.resize(self.fields.len() * 2, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    self.ends.resize(self.ends.len() * 2, 0);
                }
                csv_core::ReadRecordResult::Record => {
                    let line = self.record_line.take().unwrap_or(self.line_feeds + 1);
                    let usable = self.record(line, name, schema, errors, each);
                    self.fields_len = 0;
                    self.ends_len = 0;
                    if !usable {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Counts the line feeds in bytes the parser read, noting the line a record starts on.
    fn count_lines(&mut self, read: &[u8]) {
        let feeds = |bytes: &[u8]| bytes.iter().filter(|b| **b == b'\n').count() as u64;
        let mut rest = read;
        if self.record_line.is_none() {
            // A record starts at its first byte that is not a line break: csv_core skips blank
            // lines, and the line feed of a CRLF is read with the record after it.
            if let Some(start) = read.iter().position(|b| !matches!(b, b'\r' | b'\n')) {
                self.line_feeds += feeds(&read[..start]);
                self.record_line = Some(self.line_feeds + 1);
                rest = &read[start..];
            }
        }
        self.line_feeds += feeds(rest);
    }

    /// Handles a complete record: the header, or a row starting on `line`. Returns false when the
    /// header is unusable (reported).
    fn record(
        &mut self,
        line: u64,
        name: &str,
        schema: &Schema,
        errors: &mut Collector,
        each: &mut impl FnMut(&Row<'_>, &mut Collector),
    ) -> bool {
        let (fields, ends) = (&self.fields[..self.fields_len], &self.ends[..self.ends_len]);
        let field = |i: usize| {
            let end = *ends.get(i)?;
            let start = if i == 0 { 0 } else { ends[i - 1] };
            Some(&fields[start..end])
        };
        let Some(columns) = &self.columns else {
            let header: Vec<String> = (0..ends.len())
                .filter_map(field)
                .map(|f| normalise(&String::from_utf8_lossy(f)))
                .collect();
            let Some(positions) = map_columns(name, &header, schema, errors) else {
                return false;
            };
            self.columns = Some(Columns {
                count: header.len(),
                present: positions.iter().map(Option::is_some).collect(),
                positions,
            });
            return true;
        };
        if (0..ends.len())
            .filter_map(field)
            .all(|f| f.iter().all(u8::is_ascii_whitespace))
        {
            return true;
        }
        self.has_rows = true;
        // Fewer fields than the header: the missing trailing fields are empty (some exports omit
        // them). More fields: the values cannot be attributed to columns.
        let ragged = ends.len() > columns.count;
        if ragged {
            errors.error(
                Code::RaggedRow,
                &Location::row(name, line),
                format!(
                    "the row has {} fields but the header has only {}",
                    ends.len(),
                    columns.count
                ),
                "check for a missing or extra separator, or a value with a comma that is not in quotes",
            );
        }
        let mut texts: Vec<&str> = Vec::with_capacity(columns.positions.len());
        let mut utf8_ok = true;
        for (i, position) in columns.positions.iter().enumerate() {
            let text = match position.and_then(field) {
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
            texts.push(text);
        }
        if utf8_ok {
            each(
                &Row {
                    number: line,
                    ragged,
                    fields: &texts,
                    present: &columns.present,
                },
                errors,
            );
        }
        true
    }

    /// Reads the last record and reports a file without a header or rows.
    fn finish(
        mut self,
        name: &str,
        schema: &Schema,
        errors: &mut Collector,
        each: &mut impl FnMut(&Row<'_>, &mut Collector),
    ) -> bool {
        if !self.read(&[], true, name, schema, errors, each) {
            return false;
        }
        if self.columns.is_none() {
            errors.error(
                Code::EmptyFile,
                &Location::file(name),
                format!("the {} file has no header row", schema.kind),
                format!("add a header row naming: {}", schema.required.join(", ")),
            );
            return false;
        }
        if !self.has_rows {
            errors.error(
                Code::EmptyFile,
                &Location::file(name),
                format!("the {} file has a header but no rows", schema.kind),
                "check that the export is complete",
            );
        }
        true
    }
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
    each: &mut impl FnMut(&Row<'_>, &mut Collector),
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
