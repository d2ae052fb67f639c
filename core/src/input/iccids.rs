//! ICCIDs listed more than once, found from the ICCIDs and their rows alone (for checking a SIMs
//! file without keeping its SIMs).

use compact_str::CompactString;

use crate::diagnostics::{Code, Collector, Location};

/// Longest ICCID packed into a `u128`: a nibble a digit above a 40-bit row.
const PACKED_DIGITS: usize = 22;
const ROW_BITS: u32 = 40;
const ROW_MASK: u128 = (1 << ROW_BITS) - 1;

/// The ICCIDs of a SIMs file and the row of each, in 16 bytes a SIM for ICCIDs of up to 22
/// digits (ITU-T E.118 ones are 19 or 20) on rows below 2^40.
#[derive(Default)]
pub(crate) struct IccidRows {
    /// Each digit as digit + 1 from the top nibble down (0 past the end, so an ICCID sorts
    /// before the longer ones it starts, as text does), the row in the low bits: sorting the
    /// numbers sorts by ICCID as text, then by row.
    packed: Vec<u128>,
    /// The ICCIDs that do not pack (not all digits, too long, or on a row past 2^40).
    others: Vec<(CompactString, u64)>,
}

impl IccidRows {
    /// Makes room for this many ICCIDs.
    pub fn reserve(&mut self, iccids: usize) {
        self.packed.reserve_exact(iccids);
    }

    /// Adds the ICCID of the SIM on this row.
    pub fn push(&mut self, iccid: &str, row: u64) {
        match pack(iccid, row) {
            Some(key) => self.packed.push(key),
            None => self.others.push((CompactString::from(iccid), row)),
        }
    }

    /// Reports each ICCID that appears more than once, naming the rows, in the order (ICCID,
    /// then row) that [`report_repeat`] is called in when the SIMs are kept.
    pub fn report_repeats(mut self, file: &str, errors: &mut Collector) {
        self.packed.sort_unstable();
        self.others.sort_unstable();
        let mut packed = self.packed.into_iter().map(unpack).peekable();
        let mut others = self.others.into_iter().peekable();
        let mut previous: Option<(CompactString, u64)> = None;
        loop {
            let next = match (packed.peek(), others.peek()) {
                (Some(a), Some(b)) if a > b => others.next(),
                (Some(_), _) => packed.next(),
                (None, _) => others.next(),
            };
            let Some((iccid, row)) = next else { break };
            if let Some((first, first_row)) = &previous {
                if *first == iccid {
                    report_repeat(file, &iccid, row, *first_row, errors);
                }
            }
            previous = Some((iccid, row));
        }
    }
}

/// Reports the ICCID on `row` as listed already on `first_row`.
pub(crate) fn report_repeat(
    file: &str,
    iccid: &str,
    row: u64,
    first_row: u64,
    out: &mut Collector,
) {
    out.error(
        Code::DuplicateIccid,
        &Location::row(file, row).column("iccid"),
        format!("ICCID {iccid} is listed again (also on row {first_row})"),
        "keep one row per SIM",
    );
}

fn pack(iccid: &str, row: u64) -> Option<u128> {
    let digits = iccid.as_bytes();
    if digits.len() > PACKED_DIGITS
        || !digits.iter().all(u8::is_ascii_digit)
        || u128::from(row) > ROW_MASK
    {
        return None;
    }
    let mut key = u128::from(row);
    for (i, digit) in digits.iter().enumerate() {
        key |= u128::from(digit - b'0' + 1) << (124 - 4 * i);
    }
    Some(key)
}

fn unpack(key: u128) -> (CompactString, u64) {
    let mut iccid = CompactString::default();
    for i in 0..PACKED_DIGITS {
        let nibble = (key >> (124 - 4 * i)) & 0xf;
        if nibble == 0 {
            break;
        }
        iccid.push(char::from(b'0' + nibble as u8 - 1));
    }
    (iccid, (key & ROW_MASK) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_keeps_text_order() {
        let iccids = [
            "",
            "0",
            "00",
            "01",
            "1",
            "10",
            "8901",
            "89014103211118510720",
            "9",
        ];
        let keys: Vec<u128> = iccids.iter().map(|i| pack(i, 7).expect("packs")).collect();
        assert!(keys.windows(2).all(|k| k[0] < k[1]));
        for (iccid, key) in iccids.iter().zip(&keys) {
            assert_eq!(unpack(*key), (CompactString::from(*iccid), 7));
        }
        let longest = "9".repeat(PACKED_DIGITS);
        assert_eq!(
            unpack(pack(&longest, ROW_MASK as u64).expect("packs")),
            (CompactString::from(longest.as_str()), ROW_MASK as u64)
        );
        assert_eq!(pack(&"1".repeat(PACKED_DIGITS + 1), 1), None);
        assert_eq!(pack("89a", 1), None);
        assert_eq!(pack("1", 1 << ROW_BITS), None);
    }
}
