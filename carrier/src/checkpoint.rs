//! A job's state as versioned bytes: magic, format version, kind, checksum, length, JSON body.
//! Decoding refuses another magic, a future version, another kind or a corrupt body with
//! [`CarrierError::BadState`].

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::CarrierError;

const MAGIC: &[u8; 8] = b"SIMOPTCJ";
/// The format version written.
pub const VERSION: u16 = 1;
const HEADER: usize = 8 + 2 + 1 + 8 + 4;

/// Which job a blob holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sync = 1,
    Push = 2,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub(crate) fn encode<T: Serialize>(kind: Kind, state: &T) -> Vec<u8> {
    let body = serde_json::to_vec(state).unwrap_or_default();
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.push(kind as u8);
    out.extend_from_slice(&fnv1a(&body).to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

pub(crate) fn decode<T: DeserializeOwned>(kind: Kind, bytes: &[u8]) -> Result<T, CarrierError> {
    let bad = |problem: String| CarrierError::BadState { problem };
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(bad(
            "it is not a simopt carrier job state (wrong header); start the job afresh".into(),
        ));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version > VERSION {
        return Err(bad(format!(
            "it was written by a newer simopt (format {version}, this one reads up to \
             {VERSION}); resume it with that version or start the job afresh"
        )));
    }
    if bytes[10] != kind as u8 {
        return Err(bad(format!(
            "it holds another kind of job (kind {}, expected {}); check which state was loaded",
            bytes[10], kind as u8
        )));
    }
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&bytes[11..19]);
    let mut len = [0u8; 4];
    len.copy_from_slice(&bytes[19..23]);
    let body = &bytes[HEADER..];
    if body.len() != u32::from_le_bytes(len) as usize || fnv1a(body) != u64::from_le_bytes(sum) {
        return Err(bad(
            "it is truncated or corrupt (length or checksum mismatch); start the job afresh \
             (a push re-reads every device first, so nothing is pushed twice)"
                .into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| bad(format!("its body does not decode: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let state = vec![1u32, 2, 3];
        let bytes = encode(Kind::Sync, &state);
        assert_eq!(decode::<Vec<u32>>(Kind::Sync, &bytes).unwrap(), state);

        let wrong_kind = decode::<Vec<u32>>(Kind::Push, &bytes).unwrap_err();
        assert!(
            wrong_kind.to_string().contains("another kind of job"),
            "{wrong_kind}"
        );

        let mut corrupt = bytes.clone();
        *corrupt.last_mut().unwrap() ^= 1;
        let e = decode::<Vec<u32>>(Kind::Sync, &corrupt).unwrap_err();
        assert!(e.to_string().contains("corrupt"), "{e}");

        let mut future = bytes.clone();
        future[8] = 9;
        let e = decode::<Vec<u32>>(Kind::Sync, &future).unwrap_err();
        assert!(e.to_string().contains("newer simopt"), "{e}");

        let e = decode::<Vec<u32>>(Kind::Sync, b"nope").unwrap_err();
        assert_eq!(e.code(), "carrier-bad-state");
    }
}
