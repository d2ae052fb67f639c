//! One part of a file as a writer writes it, without holding the rest: the Worker stores a
//! report of a million SIMs (100–300 MB per file) in R2 part by part, each part made by running
//! the file's writer again and keeping only that part's bytes.
//!
//! The writer runs from the start each time (deflate and the workbook's layout cannot start in
//! the middle) and is stopped as soon as the part is full, so part `k` of `n` costs `(k + 1)/n`
//! of writing the file, and all of them together about `(n + 1)/2` times. Writers are
//! deterministic, so the parts join up into the file written in one go.

use std::io;

/// The bytes of a file from an offset on, at most a part's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The part's bytes.
    pub bytes: Vec<u8>,
    /// Whether the file ends in this part (it may then be shorter than asked, even empty when
    /// the file ends where the part would start).
    pub last: bool,
}

/// Part of what `write` writes: the `len` bytes from `from` on (fewer where the file ends).
///
/// `write` is stopped by a write error once it writes past the part; an error it returns
/// otherwise is its own, and is returned.
///
/// # Errors
/// What `write` returns, except the error it got for writing past the part.
///
/// # Panics
/// When `len` is zero (a part of nothing never ends the file).
pub fn part<E>(
    from: u64,
    len: usize,
    write: impl FnOnce(&mut dyn io::Write) -> Result<(), E>,
) -> Result<Part, E> {
    assert!(len > 0, "a part has at least one byte");
    let mut window = Window {
        from,
        len,
        at: 0,
        bytes: Vec::new(),
        past: false,
    };
    match write(&mut window) {
        Ok(()) => Ok(Part {
            bytes: window.bytes,
            last: true,
        }),
        Err(_) if window.past => Ok(Part {
            bytes: window.bytes,
            last: false,
        }),
        Err(e) => Err(e),
    }
}

/// Keeps the bytes written between `from` and `from + len`; refuses a write past them.
struct Window {
    from: u64,
    len: usize,
    /// Bytes written so far.
    at: u64,
    bytes: Vec<u8>,
    /// A write went past the part: the file goes on after it.
    past: bool,
}

impl io::Write for Window {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Writers may write on after the error (a zip writer finishes its archive when
        // dropped): none of that is kept, and it is let through quietly (the writer already
        // stopped; an error now would only be printed by the zip writer's drop).
        if self.past {
            return Ok(buf.len());
        }
        let end = self.from + self.len as u64;
        let start = self.at;
        let stop = start + buf.len() as u64;
        // The piece of `buf` within the part, if any.
        let (lo, hi) = (start.max(self.from), stop.min(end));
        if lo < hi {
            if self.bytes.capacity() == 0 {
                self.bytes.reserve_exact(self.len);
            }
            self.bytes
                .extend_from_slice(&buf[(lo - start) as usize..(hi - start) as usize]);
        }
        if stop > end {
            self.past = true;
            return Err(io::Error::other("the part is full"));
        }
        self.at = stop;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer of `data` in writes of the given sizes, like a writer with its own buffer.
    fn writer<'a>(
        data: &'a [u8],
        sizes: &'a [usize],
    ) -> impl FnOnce(&mut dyn io::Write) -> io::Result<()> + 'a {
        let sizes = sizes.to_vec();
        move |out| {
            let mut rest = data;
            for size in sizes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (now, later) = rest.split_at((*size).clamp(1, rest.len()));
                out.write_all(now)?;
                rest = later;
            }
            out.flush()
        }
    }

    fn parts(data: &[u8], len: usize, sizes: &[usize]) -> Vec<Part> {
        let mut parts: Vec<Part> = Vec::new();
        while parts.last().is_none_or(|p| !p.last) {
            let from = (parts.len() * len) as u64;
            parts.push(part(from, len, writer(data, sizes)).unwrap());
            assert!(parts.len() <= data.len() + 2, "the parts never end");
        }
        parts
    }

    proptest::proptest! {
        #[test]
        fn the_parts_join_up_into_the_file(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            len in 1usize..64,
            sizes in proptest::collection::vec(1usize..100, 1..5),
        ) {
            let parts = parts(&data, len, &sizes);
            let joined: Vec<u8> = parts.iter().flat_map(|p| p.bytes.clone()).collect();
            proptest::prop_assert_eq!(&joined, &data);
            // Every part but the last is whole; the last is never longer.
            for p in &parts[..parts.len() - 1] {
                proptest::prop_assert_eq!(p.bytes.len(), len);
                proptest::prop_assert!(!p.last);
            }
            proptest::prop_assert!(parts.last().unwrap().bytes.len() <= len);
        }
    }

    #[test]
    fn a_file_that_ends_with_a_part_ends_in_it() {
        let data = [7u8; 10];
        let two = parts(&data, 5, &[3]);
        assert_eq!(two.len(), 2);
        assert!(two[1].last);
        assert_eq!(two[1].bytes.len(), 5);
        assert_eq!(
            parts(&[], 5, &[1]),
            vec![Part {
                bytes: vec![],
                last: true
            }]
        );
    }

    #[test]
    fn the_writers_own_error_is_returned() {
        let failing = |out: &mut dyn io::Write| -> io::Result<()> {
            out.write_all(b"abc")?;
            Err(io::Error::other("disk on fire"))
        };
        let e = part(0, 100, failing).unwrap_err();
        assert_eq!(e.to_string(), "disk on fire");
        // Past the part, the file simply goes on: the writer's later error is not seen.
        let failing_late = |out: &mut dyn io::Write| -> io::Result<()> {
            out.write_all(b"abcdef")?;
            Err(io::Error::other("disk on fire"))
        };
        let p = part(0, 2, failing_late).unwrap();
        assert_eq!((p.bytes.as_slice(), p.last), (&b"ab"[..], false));
    }

    #[test]
    fn what_a_writer_writes_after_the_part_is_full_is_not_kept() {
        // As a zip writer does when dropped after an error: it finishes its archive.
        let stubborn = |out: &mut dyn io::Write| -> io::Result<()> {
            let first = out.write_all(b"abcdef");
            let _ = out.write_all(b"central directory");
            first
        };
        let p = part(2, 3, stubborn).unwrap();
        assert_eq!((p.bytes.as_slice(), p.last), (&b"cde"[..], false));
    }
}
