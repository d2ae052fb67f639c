//! The xlsx package: rust_xlsxwriter lays out every sheet (the per-SIM ones with their totals,
//! header and one "probe" row of blank cells in the formats the SIM rows use), then this module
//! copies its zip part by part to the output, except the per-SIM worksheets, whose SIM rows it
//! streams itself ([`super::rows`]) in place of the probe row, compressed on the fly. The probe
//! row tells which style number the workbook gave each format; the dimension is set to the
//! rows written. The zip is written in streaming form (sizes after each part), as
//! rust_xlsxwriter writes it: no temporary file, no whole sheet in memory, the same bytes on
//! every platform.

use std::io::{self, Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::XlsxError;

/// From this many rows a streamed sheet is written with zip64 sizes (a part may then pass
/// 4 GiB; below, its rows would have to average 40 KB to).
const LARGE_FROM_ROWS: u32 = 100_000;

/// A worksheet whose data rows are streamed.
#[derive(Debug, Clone)]
pub(super) struct Streamed<T> {
    /// Its 1-based position among the worksheets (`xl/worksheets/sheet{index}.xml`).
    pub index: usize,
    /// The 0-based row of the first data row (where the probe row is, when there is one).
    pub first_row: u32,
    /// Data rows.
    pub rows: u32,
    /// Whether rust_xlsxwriter wrote a probe row at `first_row`.
    pub probe: bool,
    /// What the rows are.
    pub lines: T,
}

impl From<zip::result::ZipError> for XlsxError {
    fn from(e: zip::result::ZipError) -> Self {
        XlsxError::Write(e.to_string())
    }
}

impl From<io::Error> for XlsxError {
    fn from(e: io::Error) -> Self {
        XlsxError::Write(e.to_string())
    }
}

/// Copies the package `laid_out` to `out`, the sheets of `streamed` completed by `rows`
/// (called with the sheet, the style numbers of its probe row's cells in order, and where to
/// write its `<row>` elements) and compressed at `compression_level` (1 to 9).
pub(super) fn assemble<T>(
    out: impl Write,
    laid_out: &[u8],
    streamed: &[Streamed<T>],
    compression_level: u8,
    mut rows: impl FnMut(&Streamed<T>, &[u32], &mut dyn Write) -> Result<(), XlsxError>,
) -> Result<(), XlsxError> {
    let mut archive = ZipArchive::new(Cursor::new(laid_out))?;
    let mut zip = ZipWriter::new_stream(out);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(i64::from(compression_level)))
        .unix_permissions(0o600)
        .last_modified_time(DateTime::default());
    for i in 0..archive.len() {
        let name = archive.by_index_raw(i)?.name()?.into_owned();
        let Some(sheet) = streamed
            .iter()
            .find(|s| *name == format!("xl/worksheets/sheet{}.xml", s.index))
        else {
            zip.raw_copy_file(archive.by_index_raw(i)?)?;
            continue;
        };
        let mut xml = String::new();
        archive.by_index(i)?.read_to_string(&mut xml)?;
        let (head, styles, tail) = split(&xml, sheet)?;
        zip.start_file(name, options.large_file(sheet.rows >= LARGE_FROM_ROWS))?;
        zip.write_all(head.as_bytes())?;
        rows(sheet, &styles, &mut zip)?;
        zip.write_all(tail.as_bytes())?;
    }
    zip.finish()?;
    Ok(())
}

/// The sheet's XML before the data rows (its dimension set to them), the style numbers of the
/// probe row, and the XML after the data rows.
fn split<'x, T>(
    xml: &'x str,
    sheet: &Streamed<T>,
) -> Result<(String, Vec<u32>, &'x str), XlsxError> {
    let bad = || XlsxError::Write(format!("unexpected layout of worksheet {}", sheet.index));
    let end = xml.find("</sheetData>").ok_or_else(bad)?;
    let (mut head, styles) = if sheet.probe {
        let probe = format!("<row r=\"{}\"", sheet.first_row + 1);
        let at = xml[..end].rfind(&probe).ok_or_else(bad)?;
        let styles = xml[at..end]
            .split("<c ")
            .skip(1)
            .map(|cell| {
                cell.split_once(" s=\"")
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map_or(Ok(0), |(n, _)| n.parse().map_err(|_| bad()))
            })
            .collect::<Result<Vec<u32>, _>>()?;
        (xml[..at].to_owned(), styles)
    } else {
        (xml[..end].to_owned(), Vec::new())
    };
    // `<dimension ref="A1:N3"/>`: the last row becomes the last data row.
    let from = head.find("<dimension ref=\"").ok_or_else(bad)? + "<dimension ref=\"".len();
    let to = from + head[from..].find('"').ok_or_else(bad)?;
    let last_col = head[from..to]
        .rsplit(':')
        .next()
        .map(|cell| cell.trim_end_matches(|c: char| c.is_ascii_digit()))
        .ok_or_else(bad)?;
    let dimension = format!("A1:{last_col}{}", sheet.first_row + sheet.rows);
    head.replace_range(from..to, &dimension);
    Ok((head, styles, &xml[end..]))
}

pub(super) fn on_a_second_thread<T: Sync>(
    rows: impl Fn(&Streamed<T>, &[u32], &mut dyn Write) -> Result<(), XlsxError> + Sync,
) -> impl FnMut(&Streamed<T>, &[u32], &mut dyn Write) -> Result<(), XlsxError> {
    move |sheet, styles, zip| {
        if cfg!(target_arch = "wasm32") {
            return rows(sheet, styles, zip);
        }
        let rows = &rows;
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        std::thread::scope(|scope| {
            let maker = scope.spawn(move || rows(sheet, styles, &mut Channel(send)));
            let mut written = Ok(());
            for chunk in receive {
                // On a failed write, stop: dropping the receiver ends the row writer too.
                if let Err(e) = zip.write_all(&chunk) {
                    written = Err(e);
                    break;
                }
            }
            let made = maker
                .join()
                .unwrap_or_else(|_| Err(XlsxError::Write("the row writer failed".to_owned())));
            // The write's own error first: the row writer's is then only the closed channel.
            written.map_err(XlsxError::from).and(made)
        })
    }
}

/// Hands each chunk written to the compressing thread.
struct Channel(std::sync::mpsc::SyncSender<Vec<u8>>);

impl Write for Channel {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the package is closed"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
