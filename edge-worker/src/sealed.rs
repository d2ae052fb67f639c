//! Carrier API keys sealed at rest: AES-256-GCM under a key derived (SHA-256) from the
//! `CARRIER_KEYS_SECRET` wrangler secret, a fresh random 96-bit nonce per sealing, and the
//! account's id as associated data (a sealed key copied to another account does not open).
//! Stored as `v1.<hex nonce>.<hex ciphertext and tag>`. Neither the secret nor an API key is
//! ever logged or answered.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};

use crate::auth::hex;

/// The secret's name (`wrangler secret put CARRIER_KEYS_SECRET`, or `.dev.vars` locally).
pub const SECRET: &str = "CARRIER_KEYS_SECRET";
/// The shortest secret accepted, in characters.
pub const MIN_SECRET_CHARS: usize = 32;

/// Why a key cannot be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The service has no usable secret.
    #[error(
        "the service has no {SECRET} of at least {MIN_SECRET_CHARS} characters to seal carrier \
         API keys with; set one with `wrangler secret put {SECRET}` (locally: scripts/dev-vars)"
    )]
    NoSecret,
    /// The stored value is not a sealed key, or does not open under this secret and account.
    #[error(
        "the account's stored carrier API key does not open (the {SECRET} secret changed, or \
         the row was altered); set the carrier connection again (PUT /api/accounts/:id/carrier)"
    )]
    DoesNotOpen,
}

fn cipher(secret: &str) -> Result<Aes256Gcm, SealError> {
    if secret.chars().count() < MIN_SECRET_CHARS {
        return Err(SealError::NoSecret);
    }
    let key = Sha256::digest(secret.as_bytes());
    Aes256Gcm::new_from_slice(&key).map_err(|_| SealError::NoSecret)
}

/// Seals `api_key` for `account` under `secret`, with the 12 random bytes `nonce`.
///
/// # Errors
/// [`SealError::NoSecret`] for a secret under [`MIN_SECRET_CHARS`] characters.
pub fn seal_with(
    secret: &str,
    account: &str,
    api_key: &str,
    nonce: [u8; 12],
) -> Result<String, SealError> {
    let sealed = cipher(secret)?
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: api_key.as_bytes(),
                aad: account.as_bytes(),
            },
        )
        .map_err(|_| SealError::NoSecret)?;
    Ok(format!("v1.{}.{}", hex(&nonce), hex(&sealed)))
}

/// Seals `api_key` for `account` with a fresh random nonce.
///
/// # Errors
/// As [`seal_with`]; [`SealError::NoSecret`] when no random bytes are to be had.
pub fn seal(secret: &str, account: &str, api_key: &str) -> Result<String, SealError> {
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(|_| SealError::NoSecret)?;
    seal_with(secret, account, api_key, nonce)
}

/// Opens a key sealed for `account`.
///
/// # Errors
/// [`SealError::NoSecret`], or [`SealError::DoesNotOpen`] for another secret, another account,
/// or an altered value.
pub fn open(secret: &str, account: &str, sealed: &str) -> Result<String, SealError> {
    let cipher = cipher(secret)?;
    let mut parts = sealed.split('.');
    let (Some("v1"), Some(nonce), Some(body), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SealError::DoesNotOpen);
    };
    let nonce = unhex(nonce)
        .filter(|n| n.len() == 12)
        .ok_or(SealError::DoesNotOpen)?;
    let body = unhex(body).ok_or(SealError::DoesNotOpen)?;
    let plain = cipher
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &body,
                aad: account.as_bytes(),
            },
        )
        .map_err(|_| SealError::DoesNotOpen)?;
    String::from_utf8(plain).map_err(|_| SealError::DoesNotOpen)
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The secret from the Worker's environment.
///
/// # Errors
/// [`SealError::NoSecret`] when it is unset or short.
pub fn secret(env: &worker::Env) -> Result<String, SealError> {
    env.secret(SECRET)
        .map(|s| s.to_string())
        .ok()
        .filter(|s| s.chars().count() >= MIN_SECRET_CHARS)
        .ok_or(SealError::NoSecret)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET_TEXT: &str = "a-test-secret-of-at-least-32-characters!";

    #[test]
    fn seals_and_opens_for_the_same_account_only() {
        let sealed = seal_with(SECRET_TEXT, "acc1", "the-api-key", [7; 12]).expect("seals");
        assert!(
            sealed.starts_with("v1.070707070707070707070707."),
            "{sealed}"
        );
        assert!(!sealed.contains("the-api-key"));
        assert_eq!(
            open(SECRET_TEXT, "acc1", &sealed).as_deref(),
            Ok("the-api-key")
        );
        assert_eq!(
            open(SECRET_TEXT, "acc2", &sealed),
            Err(SealError::DoesNotOpen)
        );
        let other = "another-secret-of-at-least-32-characters";
        assert_eq!(open(other, "acc1", &sealed), Err(SealError::DoesNotOpen));
        let mut altered = sealed.clone();
        altered.pop();
        altered.push('0');
        assert!(open(SECRET_TEXT, "acc1", &altered).is_err());
        assert_eq!(
            open(SECRET_TEXT, "acc1", "plain"),
            Err(SealError::DoesNotOpen)
        );
    }

    #[test]
    fn a_short_secret_is_refused_with_what_to_do() {
        let e = seal_with("short", "a", "k", [0; 12]).expect_err("short");
        assert_eq!(e, SealError::NoSecret);
        assert!(e
            .to_string()
            .contains("wrangler secret put CARRIER_KEYS_SECRET"));
    }

    #[test]
    fn fresh_nonces_make_different_values() {
        let a = seal(SECRET_TEXT, "a", "k").expect("seals");
        let b = seal(SECRET_TEXT, "a", "k").expect("seals");
        assert_ne!(a, b);
    }
}
