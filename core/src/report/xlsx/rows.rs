//! Worksheet rows written as XML by simopt itself, for the per-SIM sheets: plain `<c>` cells
//! with the style numbers the workbook's `styles.xml` gave their formats, strings inline
//! (`t="inlineStr"`, no shared-strings table to grow with the fleet), numbers as the shortest
//! text that reads back as the same double. Escaping follows rust_xlsxwriter's (so a string
//! reads back the same whichever writer wrote it). Rows go through a small buffer: memory does
//! not grow with the sheet.

use std::io::{self, Write};

/// Bytes buffered before they go to the compressor.
const FLUSH_AT: usize = 1 << 16;

/// Writes `<row>` elements to `out`.
pub(super) struct Rows<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// The current row's number (1-based) as text.
    row: String,
    /// ` s="N"` of each style number met so far, by number.
    styles: Vec<Vec<u8>>,
}

impl<W: Write> Rows<W> {
    pub fn new(out: W) -> Self {
        Rows {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            row: String::new(),
            styles: Vec::new(),
        }
    }

    /// Opens row `row` (0-based).
    pub fn start(&mut self, row: u32) {
        self.row.clear();
        use std::fmt::Write as _;
        let _ = write!(self.row, "{}", row + 1);
        self.buf.extend_from_slice(b"<row r=\"");
        self.buf.extend_from_slice(self.row.as_bytes());
        self.buf.extend_from_slice(b"\">");
    }

    /// `<c r="B7" s="3"` (no `s` for the default style).
    fn open_cell(&mut self, col: u16, style: u32) {
        self.buf.extend_from_slice(b"<c r=\"");
        push_column(&mut self.buf, col);
        self.buf.extend_from_slice(self.row.as_bytes());
        self.buf.push(b'"');
        if style > 0 {
            let i = style as usize;
            if i >= self.styles.len() {
                self.styles.resize(i + 1, Vec::new());
            }
            if self.styles[i].is_empty() {
                let _ = write!(self.styles[i], " s=\"{style}\"");
            }
            self.buf.extend_from_slice(&self.styles[i]);
        }
    }

    /// A string cell.
    pub fn text(&mut self, col: u16, style: u32, text: &str) {
        self.open_cell(col, style);
        let preserve = text.starts_with(['\t', '\n', ' ']) || text.ends_with(['\t', '\n', ' ']);
        self.buf.extend_from_slice(if preserve {
            b" t=\"inlineStr\"><is><t xml:space=\"preserve\">".as_slice()
        } else {
            b" t=\"inlineStr\"><is><t>".as_slice()
        });
        push_escaped(&mut self.buf, text);
        self.buf.extend_from_slice(b"</t></is></c>");
    }

    /// A number cell.
    pub fn number(&mut self, col: u16, style: u32, value: f64) {
        self.open_cell(col, style);
        self.buf.extend_from_slice(b"><v>");
        let _ = write!(self.buf, "{value}");
        self.buf.extend_from_slice(b"</v></c>");
    }

    /// Closes the row.
    ///
    /// # Errors
    /// When the output refuses the bytes.
    pub fn end(&mut self) -> io::Result<()> {
        self.buf.extend_from_slice(b"</row>");
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes out what is buffered.
    ///
    /// # Errors
    /// When the output refuses the bytes.
    pub fn finish(mut self) -> io::Result<()> {
        // No flush: on the zip it would end a deflate block early (and change the bytes).
        self.out.write_all(&self.buf)
    }
}

/// The column's letters: A…Z, AA…
fn push_column(buf: &mut Vec<u8>, col: u16) {
    let mut n = u32::from(col) + 1;
    let mut letters = [0u8; 3];
    let mut i = letters.len();
    while n > 0 {
        i -= 1;
        letters[i] = b'A' + ((n - 1) % 26) as u8;
        n = (n - 1) / 26;
    }
    buf.extend_from_slice(&letters[i..]);
}

/// `text` as XML character data, escaped as Excel (and rust_xlsxwriter) escape it: `&`, `<`,
/// `>`; control characters and the non-characters U+FFFE, U+FFFF as `_xHHHH_`; a literal
/// `_xHHHH_` as `_x005F_xHHHH_`.
fn push_escaped(buf: &mut Vec<u8>, text: &str) {
    let plain = text.bytes().all(|b| {
        !matches!(b, 0..=0x1F | b'&' | b'<' | b'>' | b'_' | 0xEF) || b == b'\t' || b == b'\n'
    });
    if plain {
        buf.extend_from_slice(text.as_bytes());
        return;
    }
    for (i, ch) in text.char_indices() {
        match ch {
            '&' => buf.extend_from_slice(b"&amp;"),
            '<' => buf.extend_from_slice(b"&lt;"),
            '>' => buf.extend_from_slice(b"&gt;"),
            '\t' | '\n' => buf.push(ch as u8),
            '\x00'..='\x1F' | '\u{FFFE}' | '\u{FFFF}' => {
                let _ = write!(buf, "_x{:04X}_", u32::from(ch));
            }
            '_' => {
                let rest = &text.as_bytes()[i..];
                if rest.len() >= 7
                    && rest[1] == b'x'
                    && rest[2..6].iter().all(u8::is_ascii_hexdigit)
                    && rest[6] == b'_'
                {
                    buf.extend_from_slice(b"_x005F");
                }
                buf.push(b'_');
            }
            _ => {
                let mut utf8 = [0u8; 4];
                buf.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut buf = Vec::new();
        push_escaped(&mut buf, text);
        String::from_utf8(buf).expect("UTF-8")
    }

    #[test]
    fn strings_are_escaped_as_excel_reads_them() {
        assert_eq!(escaped("plain ICCID 8901"), "plain ICCID 8901");
        assert_eq!(escaped("a<b & c>d"), "a&lt;b &amp; c&gt;d");
        assert_eq!(escaped("tab\there\nnew"), "tab\there\nnew");
        assert_eq!(escaped("bell\x07"), "bell_x0007_");
        assert_eq!(escaped("_x00E9_ é_x"), "_x005F_x00E9_ é_x");
        assert_eq!(escaped("snake_case_x12"), "snake_case_x12");
        assert_eq!(escaped("\u{FFFF}"), "_xFFFF_");
    }

    #[test]
    fn columns_are_lettered_as_excel_does() {
        for (col, name) in [
            (0, "A"),
            (13, "N"),
            (25, "Z"),
            (26, "AA"),
            (701, "ZZ"),
            (702, "AAA"),
        ] {
            let mut buf = Vec::new();
            push_column(&mut buf, col);
            assert_eq!(buf, name.as_bytes());
        }
    }

    #[test]
    fn rows_hold_inline_strings_and_numbers() {
        let mut out = Vec::new();
        let mut rows = Rows::new(&mut out);
        rows.start(2);
        rows.text(0, 0, "8901");
        rows.number(5, 20, 3.725);
        rows.text(13, 27, " padded");
        rows.end().expect("buffered");
        rows.finish().expect("written");
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            "<row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t>8901</t></is></c>\
             <c r=\"F3\" s=\"20\"><v>3.725</v></c>\
             <c r=\"N3\" s=\"27\" t=\"inlineStr\"><is><t xml:space=\"preserve\"> padded</t></is></c></row>"
        );
    }
}
