//! Who is calling: bearer tokens, their hashes, and the admin secret.
//!
//! A tenant's token is 32 random bytes written as 64 hex digits, shown once when it is made.
//! Only its hex SHA-256 is stored (`api_tokens.token_hash`); a request's token is hashed and looked
//! up by that hash (what is compared is a digest, never the token). The admin route compares the
//! SHA-256 of the presented token with that of the `ADMIN_TOKEN` secret in constant time. Tokens
//! never reach a log or an error message.

use sha2::{Digest, Sha256};
use worker::{console_error, Env, Request};

use crate::error::{ApiError, AuthProblem};
use crate::store::Store;

/// The secret that lets a caller create tenants.
pub const ADMIN_SECRET: &str = "ADMIN_TOKEN";

/// The shortest admin secret accepted (a shorter one disables the admin route).
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;

/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;

/// Random bytes in a tenant or account id.
const ID_BYTES: usize = 16;

/// The tenant a request was made for, as established by its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant's id.
    pub id: String,
}

/// The token of an `Authorization: Bearer <token>` header value.
///
/// # Errors
/// [`AuthProblem::Missing`] without a header, [`AuthProblem::Malformed`] for another scheme or an
/// empty token.
pub fn bearer_token(header: Option<&str>) -> Result<&str, AuthProblem> {
    let header = header.map(str::trim).filter(|h| !h.is_empty());
    let header = header.ok_or(AuthProblem::Missing)?;
    let (scheme, token) = header.split_once(' ').ok_or(AuthProblem::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(AuthProblem::Malformed);
    }
    Ok(token)
}

/// Hex SHA-256 of some bytes (64 lower-case hex digits).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Whether two byte strings are equal, in time that depends on their length only (not on where
/// they first differ).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Lower-case hex digits of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

fn random_hex(n: usize) -> Result<String, ApiError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| {
        ApiError::Runtime(worker::Error::RustError(format!(
            "no random bytes for a token or id: {e}"
        )))
    })?;
    Ok(hex(&bytes))
}

/// A new token: 32 random bytes (`crypto.getRandomValues` in workerd) as 64 hex digits.
///
/// # Errors
/// When the runtime gives no random bytes.
pub fn new_token() -> Result<String, ApiError> {
    random_hex(TOKEN_BYTES)
}

/// A new tenant or account id: 16 random bytes as 32 hex digits.
///
/// # Errors
/// When the runtime gives no random bytes.
pub fn new_id() -> Result<String, ApiError> {
    random_hex(ID_BYTES)
}

/// Whether `presented` is the admin secret `secret` (both hashed, compared in constant time).
///
/// # Errors
/// [`AuthProblem::AdminTokenUnset`] when the secret is absent or shorter than
/// [`MIN_ADMIN_TOKEN_CHARS`]; [`AuthProblem::NotAdmin`] when the token is another.
pub fn check_admin(presented: &str, secret: Option<&str>) -> Result<(), AuthProblem> {
    let secret = secret
        .filter(|s| s.chars().count() >= MIN_ADMIN_TOKEN_CHARS)
        .ok_or(AuthProblem::AdminTokenUnset)?;
    let same = constant_time_eq(
        &Sha256::digest(presented.as_bytes()),
        &Sha256::digest(secret.as_bytes()),
    );
    if same {
        Ok(())
    } else {
        Err(AuthProblem::NotAdmin)
    }
}

fn authorization(req: &Request) -> Result<Option<String>, ApiError> {
    Ok(req.headers().get("authorization")?)
}

/// Lets the request in only with the service's admin token.
///
/// # Errors
/// [`ApiError::Unauthorized`] otherwise.
pub fn require_admin(req: &Request, env: &Env) -> Result<(), ApiError> {
    let header = authorization(req)?;
    let token = bearer_token(header.as_deref()).map_err(ApiError::Unauthorized)?;
    let secret = env.secret(ADMIN_SECRET).ok().map(|s| s.to_string());
    check_admin(token, secret.as_deref()).map_err(|problem| {
        if problem == AuthProblem::AdminTokenUnset {
            console_error!("simopt-edge: {problem}");
        }
        ApiError::Unauthorized(problem)
    })
}

/// The tenant whose token the request carries.
///
/// # Errors
/// [`ApiError::Unauthorized`] without a token or with one no tenant has; a storage error.
pub async fn require_tenant(req: &Request, store: &Store) -> Result<Tenant, ApiError> {
    let header = authorization(req)?;
    let token = bearer_token(header.as_deref()).map_err(ApiError::Unauthorized)?;
    let hash = token_hash(token);
    match store.tenant_of_token(&hash).await? {
        Some(id) => Ok(Tenant { id }),
        None => Err(ApiError::Unauthorized(AuthProblem::UnknownToken)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header() {
        assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Ok("abc"));
        assert_eq!(bearer_token(None), Err(AuthProblem::Missing));
        assert_eq!(bearer_token(Some("  ")), Err(AuthProblem::Missing));
        assert_eq!(bearer_token(Some("Basic abc")), Err(AuthProblem::Malformed));
        assert_eq!(bearer_token(Some("Bearer")), Err(AuthProblem::Malformed));
        assert_eq!(bearer_token(Some("Bearer ")), Err(AuthProblem::Malformed));
        assert_eq!(
            bearer_token(Some("Bearer a b")),
            Err(AuthProblem::Malformed)
        );
        assert_eq!(bearer_token(Some("abc")), Err(AuthProblem::Malformed));
    }

    #[test]
    fn hashes_are_hex_sha256() {
        // FIPS 180-2 test vector.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(token_hash("abc"), sha256_hex(b"abc"));
        assert_eq!(hex(&[0, 9, 10, 255]), "00090aff");
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abcd", b"abcd"));
        assert!(!constant_time_eq(b"abcd", b"abce"));
        assert!(!constant_time_eq(b"abcd", b"bbcd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    #[test]
    fn tokens_and_ids_are_random_hex() {
        let a = new_token().expect("random");
        let b = new_token().expect("random");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        let id = new_id().expect("random");
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn the_admin_secret() {
        let secret = "s".repeat(MIN_ADMIN_TOKEN_CHARS);
        assert_eq!(check_admin(&secret, Some(&secret)), Ok(()));
        assert_eq!(
            check_admin("guess", Some(&secret)),
            Err(AuthProblem::NotAdmin)
        );
        assert_eq!(check_admin("x", None), Err(AuthProblem::AdminTokenUnset));
        // A short secret disables the route, even when the token matches it.
        assert_eq!(
            check_admin("short", Some("short")),
            Err(AuthProblem::AdminTokenUnset)
        );
    }
}
