//! Test support: awkward SIMs files, as bytes, for checking that reading a file in pieces gives
//! what reading it whole does.
//!
//! The files mix what real exports get wrong: a byte order mark, CRLF, LF and lone CR line ends,
//! semicolon and tab separators, quoted values holding separators, quotes and line breaks,
//! blank and whitespace-only lines, rows with too many or too few fields, bad values, unknown
//! plans, repeated ICCIDs, bytes that are not UTF-8, an unclosed quote at the end, and now and
//! then no rows, nothing at all, or JSON.

use proptest::prelude::*;
use proptest::sample::select;

/// The SIMs file's columns and ones it does not know.
const COLUMNS: &[&str] = &[
    "iccid",
    "current_plan",
    "usage_mb",
    "usage_bytes",
    "comm_plan",
    "status",
    "sms_count",
    "locked",
    "activated_on",
    "usage_as_of",
    "msisdn",
    "plan_type",
    "note",
];

/// Values a column takes that load.
fn good(column: &str) -> &'static [&'static [u8]] {
    match column {
        "current_plan" => &[b"S", b"M", b" M "],
        "usage_mb" => &[b"0", b"1", b"12.5", b"700", b""],
        "usage_bytes" => &[b"1048576", b"", b"12"],
        "comm_plan" => &[b"CP1", b"CP2", b"", b"CP,3", b"CP\n4"],
        "status" => &[b"active", b"deactivated", b"", b"Active"],
        "sms_count" => &[b"3", b"", b"0"],
        "locked" => &[b"true", b"no", b""],
        "activated_on" => &[b"2026-11-05", b"", b"2020-01-01"],
        "usage_as_of" => &[b"2026-11-20T10:00", b""],
        "msisdn" => &[b"1555000", b"", b"x\"y"],
        "plan_type" => &[b"M2M", b"", b"IOT"],
        _ => &[b"free text", b"", b"a;b", b"\xe6\x97\xa5\xe6\x9c\xac"],
    }
}

/// Values a column takes that do not load, or load with a warning.
fn bad(column: &str) -> &'static [&'static [u8]] {
    match column {
        "iccid" => &[b"8901001", b"8901001", b"", b" "],
        "current_plan" => &[b"s", b"X", b""],
        "usage_mb" => &[b"-1", b"abc", b"5,5", b"1e3"],
        "usage_bytes" => &[b"x", b"-5"],
        "comm_plan" => &[b"CP9"],
        "status" => &[b"weird"],
        "sms_count" => &[b"-2", b"x"],
        "locked" => &[b"maybe"],
        "activated_on" => &[b"2026-13-01", b"2026-11-30"],
        "usage_as_of" => &[b"2025-01-01T00:00", b"bad"],
        _ => &[b"\xff"],
    }
}

/// Values that may turn up in any column.
const ODD: &[&[u8]] = &[
    b"\xff\xfe",
    b"a\"\"b",
    b"\xe6\x97\xa5\xe6\x9c\xac",
    b"x\r\ny",
    b"\"",
    b" ",
    b"\xef\xbb\xbf",
    b"\xc3",
    b"8901001",
    b"\t",
];

/// Blank lines.
const BLANKS: &[&[u8]] = &[b"", b"   ", b"\t"];

/// One value: its bytes and whether it is written in quotes even when it need not be.
type Value = (Vec<u8>, bool);

/// A value for `column`; only good ones when `clean`.
fn value(column: &'static str, clean: bool) -> impl Strategy<Value = Value> {
    let good = if column == "iccid" {
        // Numbered apart, so a clean file lists each SIM once.
        (0..1_000_000u32)
            .prop_map(|n| format!("8901{n:06}").into_bytes())
            .boxed()
    } else {
        select(good(column)).prop_map(<[u8]>::to_vec).boxed()
    };
    let text = if clean {
        good
    } else {
        prop_oneof![
            24 => good,
            3 => select(bad(column)).prop_map(<[u8]>::to_vec),
            1 => select(ODD).prop_map(<[u8]>::to_vec),
        ]
        .boxed()
    };
    (text, prop::bool::weighted(0.2))
}

/// A line of the file after the header.
#[derive(Debug, Clone)]
enum Line {
    /// Nothing, or only spaces.
    Blank(&'static [u8]),
    /// Values, one a column (more or fewer when the row is ragged).
    Values(Vec<Value>),
}

/// A SIMs file, before it is written out.
#[derive(Debug, Clone)]
pub(crate) struct CsvFile {
    bom: bool,
    /// Blank lines before the header.
    leading_blank: bool,
    delimiter: u8,
    /// Line ends: 0 LF, 1 CRLF, 2 any of LF, CRLF and CR from `line_ends`.
    line_style: u8,
    line_ends: Vec<u8>,
    /// Header names as written.
    header: Vec<String>,
    lines: Vec<Line>,
    trailing_line_end: bool,
    /// An unclosed quote at the very end.
    open_quote: bool,
}

/// How a header names a column: as in the schema, or as a person might type it.
fn spelling(column: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(column.to_owned()),
        1 => Just(column.to_ascii_uppercase()),
        1 => Just(format!(" {} ", column.replace('_', " "))),
    ]
}

/// Every required column and some optional ones, in any order.
fn clean_header() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(&COLUMNS[3..], 0..=COLUMNS.len() - 3)
        .prop_map(|rest| {
            let mut columns = COLUMNS[..3].to_vec();
            columns.extend(rest);
            columns
        })
        .prop_shuffle()
}

fn header() -> impl Strategy<Value = Vec<&'static str>> {
    prop_oneof![
        8 => clean_header(),
        // Now and then anything, including a required column missing or one named twice.
        1 => prop::sample::subsequence(COLUMNS, 1..=COLUMNS.len()),
        1 => (prop::sample::subsequence(COLUMNS, 3..=6), select(COLUMNS)).prop_map(|(mut c, twice)| {
            c.push(twice);
            c
        }),
    ]
    .prop_shuffle()
}

fn line(columns: &[&'static str], clean: bool) -> impl Strategy<Value = Line> {
    let values: Vec<_> = columns.iter().map(|&c| value(c, clean)).collect();
    prop_oneof![
        1 => select(BLANKS).prop_map(Line::Blank),
        12 => (values, 0..12usize, prop::collection::vec(value("note", clean), 1..3)).prop_map(
            move |(mut values, ragged, extra)| {
                // One row in twelve has fewer fields; outside clean files, one more has too many.
                match ragged {
                    0 => values.truncate(values.len().saturating_sub(1).max(1)),
                    1 if !clean => values.extend(extra),
                    _ => {}
                }
                Line::Values(values)
            }
        ),
    ]
}

/// A CSV file; `clean`: one that loads (its values good, no ragged rows, its header whole).
fn csv_file(clean: bool) -> impl Strategy<Value = CsvFile> {
    let header = if clean {
        clean_header().boxed()
    } else {
        header().boxed()
    };
    header.prop_flat_map(move |columns| {
        let names: Vec<_> = columns.iter().map(|&c| spelling(c)).collect();
        (
            (
                prop::bool::weighted(0.2),
                prop::bool::weighted(0.1),
                prop_oneof![6 => Just(b','), 2 => Just(b';'), 1 => Just(b'\t')],
                0..3u8,
                prop::collection::vec(0..3u8, 16),
            ),
            names,
            prop::collection::vec(line(&columns, clean), 0..10),
            prop::bool::weighted(0.8),
            prop::bool::weighted(if clean { 0.0 } else { 0.03 }),
        )
            .prop_map(
                |(
                    (bom, leading_blank, delimiter, line_style, line_ends),
                    header,
                    lines,
                    trailing_line_end,
                    open_quote,
                )| CsvFile {
                    bom,
                    leading_blank,
                    delimiter,
                    line_style,
                    line_ends,
                    header,
                    lines,
                    trailing_line_end,
                    open_quote,
                },
            )
    })
}

impl CsvFile {
    fn line_end(&self, index: usize) -> &'static [u8] {
        let pick = match self.line_style {
            0 => 0,
            1 => 1,
            _ => self.line_ends[index % self.line_ends.len()],
        };
        [&b"\n"[..], b"\r\n", b"\r"][pick as usize]
    }

    fn write_value(&self, text: &[u8], quoted: bool, out: &mut Vec<u8>) {
        let needs = text
            .iter()
            .any(|b| matches!(*b, b'"' | b'\n' | b'\r') || *b == self.delimiter);
        if quoted || needs {
            out.push(b'"');
            for b in text {
                if *b == b'"' {
                    out.push(b'"');
                }
                out.push(*b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(text);
        }
    }

    /// The file's bytes.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.bom {
            out.extend_from_slice(b"\xEF\xBB\xBF");
        }
        if self.leading_blank {
            out.extend_from_slice(self.line_end(15));
        }
        for (i, name) in self.header.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            self.write_value(name.as_bytes(), false, &mut out);
        }
        for (index, line) in self.lines.iter().enumerate() {
            out.extend_from_slice(self.line_end(index + 1));
            match line {
                Line::Blank(text) => out.extend_from_slice(text),
                Line::Values(values) => {
                    for (i, (text, quoted)) in values.iter().enumerate() {
                        if i > 0 {
                            out.push(self.delimiter);
                        }
                        self.write_value(text, *quoted, &mut out);
                    }
                }
            }
        }
        if self.trailing_line_end {
            out.extend_from_slice(self.line_end(0));
        }
        if self.open_quote {
            out.extend_from_slice(b"\"8901009,S");
        }
        out
    }
}

/// Files that are not CSV, or hardly.
const ODD_FILES: &[&[u8]] = &[
    b"",
    b"  \r\n\t",
    b"\xEF\xBB\xBF",
    b"\xEF\xBB",
    b"\xEF\xBB\xBF\n\n",
    b"iccid,current_plan,usage_mb",
    b"iccid;current_plan;usage_mb\r\n",
    b"\xEF\xBB\xBF  [{\"iccid\": \"1\", \"current_plan\": \"S\", \"usage_mb\": 3}]",
    b"{\"sims\": [{\"iccid\": \"1\", \"current_plan\": \"X\", \"usage_mb\": 3}, 4]}",
    b"[{\"iccid\": \"1\", \"current_plan\": \"S\"",
    b"\n\n  {}",
];

/// Bytes of a SIMs file: mostly CSV as [`CsvFile`] writes it, now and then nothing, blanks or
/// JSON.
pub(crate) fn sims_file() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        20 => csv_file(true).prop_map(|f| f.bytes()),
        20 => csv_file(false).prop_map(|f| f.bytes()),
        1 => select(ODD_FILES)
        .prop_map(<[u8]>::to_vec),
    ]
}

/// Where to cut a file of `len` bytes into pieces: positions in order, repeats making empty
/// pieces; or `None`, one byte at a time.
pub(crate) fn cuts() -> impl Strategy<Value = Option<Vec<prop::sample::Index>>> {
    prop_oneof![
        8 => prop::collection::vec(any::<prop::sample::Index>(), 0..12).prop_map(Some),
        1 => Just(None),
    ]
}

/// Cuts `bytes` where [`cuts`] says.
pub(crate) fn pieces<'a>(
    bytes: &'a [u8],
    cuts: &Option<Vec<prop::sample::Index>>,
) -> Vec<&'a [u8]> {
    let Some(cuts) = cuts else {
        return bytes.chunks(1).collect();
    };
    let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut pieces = Vec::with_capacity(at.len() + 1);
    let mut start = 0;
    for end in at {
        pieces.push(&bytes[start..end]);
        start = end;
    }
    pieces.push(&bytes[start..]);
    pieces
}
