//! Checkpoints as versioned, checksummed bytes.
//!
//! Layout: magic `SIMOPTCK` (8 bytes), format version (u16, little endian), body length (u64),
//! body, CRC-32 of everything before it (u32). Decoding refuses another magic, a newer version,
//! a wrong length or checksum with a typed [`DecodeError`]; a body that does not parse is
//! [`DecodeError::Invalid`]. Inside the body, integers are LEB128 varints (zigzag for signed), so
//! small numbers — option indices, most counters — take one byte.

/// The first bytes of every checkpoint.
pub const MAGIC: &[u8; 8] = b"SIMOPTCK";
/// The format this build writes (and the newest it reads).
pub const VERSION: u16 = 13;

/// The oldest format this build reads. Version 1 (before the first release: the optimizer's
/// stages were rebuilt around bisection and pool balancing) is refused with
/// [`DecodeError::OldVersion`]; from the first release on, older versions keep decoding.
/// Version 2 lacks the constraints (version 3): it decodes as a run without any. Before
/// version 4 a bound sweep's cursor counted SIMs, not pieces of the class-wise evaluation: such
/// a sweep starts again (it is a function of its prices, so it ends the same). Before version
/// 5 the change price's pass stored its savings (now computed again on decode) and every round
/// of local search ended with ejections (a round of such a checkpoint still does). Before
/// version 6 recovery had no kicks (such a checkpoint's recovery makes none) and trimming to
/// the limit on changes stored the cost of undoing each change (now computed again); version 6
/// adds the tally stage (an assignment's totals added up a quantum at a time). Version 7 may
/// hold a finished classic stage gathering its winners' choices (with how many are gathered;
/// before, the gathering was part of the quantum that finished it, so none was encoded), and
/// adds the output stage (the result's plans listed a quantum at a time; a finished job's
/// plans are listed again on decode). Version 8 adds the branch-and-bound stage on small fleets
/// (its component in hand, open nodes and incumbent). Version 9 cuts a large fleet into work
/// units (`units::Job`): the body starts with the units' count and the one in work, then (for
/// more than one) the options and the finished units' results; a checkpoint before it is one
/// unit's state, and decodes as a job of one unit. Version 10 adds the bundle method's stage
/// where pools interact (its cuts, weights and proximal parameter bit for bit); the
/// coordinate-ascent stage is unchanged, and one of an older checkpoint runs on as a new one
/// does (into the bundle method if it runs out of rounds still climbing).
/// Version 11 adds the pool decomposition to branch and bound on small fleets (a new stage tag;
/// the old one decodes as a stage whose component in hand goes on without it).
/// Version 12 lets a pool's pricing in the decomposition go on past its first quantum (its
/// search's states after a flag); a version-11 decomposition has none in hand and goes on as
/// one of this version.
/// Version 13 adds the bundle method's climb on from coordinate ascent's recovered prices (a
/// new stage tag) and whether a recovery follows a climb (for the share done; one of an older
/// checkpoint does not).
/// (Versions 9 and 10 were made the same day; no build wrote version 9 but in development, so
/// no version-9 checkpoint is kept among the test blobs.)
pub const OLDEST_VERSION: u16 = 2;

const HEADER: usize = 8 + 2 + 8;

/// Why a checkpoint cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes are not a simopt checkpoint.
    #[error("not a simopt checkpoint (wrong magic bytes)")]
    BadMagic,
    /// Written by a newer simopt.
    #[error(
        "checkpoint format {found} is newer than this build reads ({supported}); upgrade simopt"
    )]
    FutureVersion {
        /// The version in the checkpoint.
        found: u16,
        /// The newest version this build reads.
        supported: u16,
    },
    /// Written by an older simopt whose format this build no longer reads.
    #[error("checkpoint format {found} is older than this build reads ({oldest}); start the optimization again")]
    OldVersion {
        /// The version in the checkpoint.
        found: u16,
        /// The oldest version this build reads.
        oldest: u16,
    },
    /// Shorter or longer than its header says.
    #[error("the checkpoint is truncated or has trailing bytes")]
    Truncated,
    /// The checksum does not match: the bytes were damaged.
    #[error("the checkpoint is corrupt (checksum mismatch)")]
    Corrupt,
    /// The body does not describe a valid state (or not one of this input).
    #[error("the checkpoint does not fit: {0}")]
    Invalid(&'static str),
}

impl DecodeError {
    /// A stable identifier.
    pub const fn code(&self) -> &'static str {
        match self {
            DecodeError::BadMagic => "checkpoint-bad-magic",
            DecodeError::FutureVersion { .. } => "checkpoint-future-version",
            DecodeError::OldVersion { .. } => "checkpoint-old-version",
            DecodeError::Truncated => "checkpoint-truncated",
            DecodeError::Corrupt => "checkpoint-corrupt",
            DecodeError::Invalid(_) => "checkpoint-invalid",
        }
    }
}

/// Builds a checkpoint body.
#[derive(Debug, Default)]
pub struct Writer {
    body: Vec<u8>,
}

impl Writer {
    /// An empty body.
    pub fn new() -> Self {
        Writer::default()
    }

    /// An unsigned integer.
    pub fn u64(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.body.push(byte);
                return;
            }
            self.body.push(byte | 0x80);
        }
    }

    /// A signed integer.
    pub fn i64(&mut self, v: i64) {
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A signed 128-bit integer (as two halves).
    pub fn i128(&mut self, v: i128) {
        self.i64((v >> 64) as i64);
        self.u64(v as u64);
    }

    /// A boolean.
    pub fn bool(&mut self, v: bool) {
        self.body.push(u8::from(v));
    }

    /// A list of unsigned integers.
    pub fn u64s(&mut self, values: impl ExactSizeIterator<Item = u64>) {
        self.u64(values.len() as u64);
        for v in values {
            self.u64(v);
        }
    }

    /// The finished checkpoint: header, body, checksum.
    pub fn finish(self) -> Vec<u8> {
        self.finish_as(VERSION)
    }

    /// The checkpoint as a build of format `version` wrote it (for the tests of older formats:
    /// the body must be one of that format).
    pub(crate) fn finish_as(self, version: u16) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.body.len() + 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&(self.body.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.body);
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }
}

/// Reads a checkpoint body.
#[derive(Debug)]
pub struct Reader<'a> {
    body: &'a [u8],
    at: usize,
    version: u16,
}

impl<'a> Reader<'a> {
    /// Checks the header and checksum of `bytes` and returns a reader over the body.
    ///
    /// # Errors
    /// [`DecodeError`] for a foreign, newer, retired, truncated or damaged checkpoint.
    pub fn open(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        if bytes.len() < HEADER + 4 {
            return Err(DecodeError::Truncated);
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version > VERSION {
            return Err(DecodeError::FutureVersion {
                found: version,
                supported: VERSION,
            });
        }
        if version < OLDEST_VERSION {
            return Err(DecodeError::OldVersion {
                found: version,
                oldest: OLDEST_VERSION,
            });
        }
        let mut length = [0u8; 8];
        length.copy_from_slice(&bytes[10..18]);
        let length = u64::from_le_bytes(length);
        if length != (bytes.len() - HEADER - 4) as u64 {
            return Err(DecodeError::Truncated);
        }
        let (content, crc) = bytes.split_at(bytes.len() - 4);
        if crc32(content).to_le_bytes() != crc {
            return Err(DecodeError::Corrupt);
        }
        Ok(Reader {
            body: &content[HEADER..],
            at: 0,
            version,
        })
    }

    /// The format version of the checkpoint.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// An unsigned integer.
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] past the end of the body or on an overlong number.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .body
                .get(self.at)
                .ok_or(DecodeError::Invalid("the body ends early"))?;
            self.at += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::Invalid("a number is too long"))
    }

    /// A signed integer.
    ///
    /// # Errors
    /// As [`Reader::u64`].
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        let v = self.u64()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// A signed 128-bit integer.
    ///
    /// # Errors
    /// As [`Reader::u64`].
    pub fn i128(&mut self) -> Result<i128, DecodeError> {
        let high = self.i64()?;
        let low = self.u64()?;
        Ok((i128::from(high) << 64) | i128::from(low))
    }

    /// A boolean.
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] past the end or for a byte other than 0 or 1.
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u64()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Invalid("a flag is neither 0 nor 1")),
        }
    }

    /// A number that must be below `limit` (an index, a count).
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] with `what` when it is not.
    pub fn below(&mut self, limit: u64, what: &'static str) -> Result<u64, DecodeError> {
        let v = self.u64()?;
        if v < limit {
            Ok(v)
        } else {
            Err(DecodeError::Invalid(what))
        }
    }

    /// A list of unsigned integers, at most `max_len` long.
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] for a longer list or a short body.
    pub fn u64s(&mut self, max_len: u64) -> Result<Vec<u64>, DecodeError> {
        let len = self.below(max_len + 1, "a list is longer than the input allows")?;
        (0..len).map(|_| self.u64()).collect()
    }

    /// Checks that the whole body was read.
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] when bytes are left.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.at == self.body.len() {
            Ok(())
        } else {
            Err(DecodeError::Invalid("the body has bytes left over"))
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected), eight bytes a step ("slicing by 8"): a million SIMs'
/// checkpoint is megabytes, checked on every slice's save and resume, where a bit a step took
/// tens of milliseconds.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let lo = crc ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        let t = &CRC_TABLES;
        crc = t[7][(lo & 0xFF) as usize]
            ^ t[6][((lo >> 8) & 0xFF) as usize]
            ^ t[5][((lo >> 16) & 0xFF) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][w[4] as usize]
            ^ t[2][w[5] as usize]
            ^ t[1][w[6] as usize]
            ^ t[0][w[7] as usize];
    }
    for &b in words.remainder() {
        crc = (crc >> 8) ^ CRC_TABLES[0][((crc ^ u32::from(b)) & 0xFF) as usize];
    }
    !crc
}

/// `CRC_TABLES[k][b]`: the CRC register after byte `b` followed by `k` zero bytes.
const CRC_TABLES: [[u32; 256]; 8] = crc_tables();

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut b = 0;
    while b < 256 {
        let mut crc = b as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (!(crc & 1)).wrapping_add(1));
            bit += 1;
        }
        t[0][b] = crc;
        b += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut b = 0;
        while b < 256 {
            let prev = t[k - 1][b];
            t[k][b] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            b += 1;
        }
        k += 1;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    /// The CRC a bit at a time, as the standard defines it.
    fn crc32_bitwise(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = (crc >> 1) ^ (0xEDB8_8320 & (!(crc & 1)).wrapping_add(1));
            }
        }
        !crc
    }

    #[test]
    fn crc32_eight_bytes_a_step_is_the_crc_a_bit_a_step_at_every_length_and_offset() {
        let bytes: Vec<u8> = (0u32..4099)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in 0..40 {
            for at in 0..9 {
                let s = &bytes[at..at + len];
                assert_eq!(crc32(s), crc32_bitwise(s), "{len} bytes at {at}");
            }
        }
        assert_eq!(crc32(&bytes), crc32_bitwise(&bytes));
    }

    #[test]
    fn values_round_trip() {
        let mut w = Writer::new();
        w.u64(0);
        w.u64(300);
        w.u64(u64::MAX);
        w.i64(-1);
        w.i64(i64::MIN);
        w.i128(-(1i128 << 100) + 7);
        w.bool(true);
        w.u64s([1u64, 2, 3].into_iter());
        let bytes = w.finish();
        let mut r = Reader::open(&bytes).expect("opens");
        assert_eq!(r.u64(), Ok(0));
        assert_eq!(r.u64(), Ok(300));
        assert_eq!(r.u64(), Ok(u64::MAX));
        assert_eq!(r.i64(), Ok(-1));
        assert_eq!(r.i64(), Ok(i64::MIN));
        assert_eq!(r.i128(), Ok(-(1i128 << 100) + 7));
        assert_eq!(r.bool(), Ok(true));
        assert_eq!(r.u64s(3), Ok(vec![1, 2, 3]));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn damaged_foreign_and_future_checkpoints_are_refused() {
        let mut w = Writer::new();
        w.u64(42);
        let good = w.finish();
        let mut flipped = good.clone();
        flipped[HEADER] ^= 1;
        assert_eq!(Reader::open(&flipped).err(), Some(DecodeError::Corrupt));
        assert_eq!(
            Reader::open(b"PK\x03\x04 not ours").err(),
            Some(DecodeError::BadMagic)
        );
        assert_eq!(
            Reader::open(&good[..good.len() - 1]).err(),
            Some(DecodeError::Truncated)
        );
        let mut future = good.clone();
        future[8] = (VERSION + 1) as u8;
        assert_eq!(
            Reader::open(&future).err(),
            Some(DecodeError::FutureVersion {
                found: VERSION + 1,
                supported: VERSION
            })
        );
        let mut old = good.clone();
        old[8] = 1;
        assert_eq!(
            Reader::open(&old).err(),
            Some(DecodeError::OldVersion {
                found: 1,
                oldest: OLDEST_VERSION
            })
        );
        let r = Reader::open(&good).expect("opens");
        assert_eq!(
            r.finish(),
            Err(DecodeError::Invalid("the body has bytes left over"))
        );
    }
}
