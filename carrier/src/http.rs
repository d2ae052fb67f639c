//! The HTTP values the adapters build and read. The caller's transport (the Worker's `fetch`, a
//! test client) moves them; this crate never opens a connection.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An HTTP method the adapters use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// Reads.
    Get,
    /// Edits (a rate plan change).
    Put,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
        }
    }
}

/// A request to send. Its `Debug` hides the `Authorization` header: requests can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL (the account's base URL, the path, the query).
    pub url: String,
    /// Headers, in order (`Authorization`, `Accept`, `Content-Type`).
    pub headers: Vec<(String, String)>,
    /// The body (JSON), for edits.
    pub body: Option<String>,
}

impl HttpRequest {
    /// The value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The URL's path and query (what follows the host), for logs and the test transport.
    pub fn path_and_query(&self) -> &str {
        let after_scheme = self.url.find("://").map_or(0, |i| i + 3);
        self.url[after_scheme..]
            .find('/')
            .map_or("/", |i| &self.url[after_scheme + i..])
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("authorization") {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (k.as_str(), v)
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &self.body)
            .finish()
    }
}

/// A response received.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Headers as received.
    pub headers: Vec<(String, String)>,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with a status and a JSON (or any) body, no headers: handy in tests.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> HttpResponse {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// `Retry-After` in milliseconds: delay-seconds only (an HTTP date would need a clock here,
    /// and the carriers send seconds).
    pub fn retry_after_ms(&self) -> Option<u64> {
        let value = self.header("retry-after")?.trim();
        let seconds: u64 = value.parse().ok()?;
        Some(seconds.saturating_mul(1000))
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why the caller's transport produced no response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportError {
    /// What happened.
    pub kind: TransportErrorKind,
    /// The transport's own words.
    pub message: String,
}

/// The kinds of transport failure; all are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransportErrorKind {
    /// No answer within the request's timeout.
    Timeout,
    /// No connection (refused, DNS, TLS).
    Connect,
    /// The connection broke, or anything else.
    Other,
}

impl TransportError {
    /// A timeout.
    pub fn timeout(message: impl Into<String>) -> TransportError {
        TransportError {
            kind: TransportErrorKind::Timeout,
            message: message.into(),
        }
    }

    /// Any other failure.
    pub fn other(kind: TransportErrorKind, message: impl Into<String>) -> TransportError {
        TransportError {
            kind,
            message: message.into(),
        }
    }
}

/// `Basic <base64(user:key)>` (RFC 7617).
pub fn basic_auth(user: &str, key: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{key}").as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Percent-encodes a query or path component (RFC 3986 unreserved characters pass).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_matches_rfc_7617() {
        // RFC 7617 §2's example.
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(
            encode_component("2026-11-01T00:00:00+00:00"),
            "2026-11-01T00%3A00%3A00%2B00%3A00"
        );
        assert_eq!(encode_component("Plan A/1"), "Plan%20A%2F1");
    }

    #[test]
    fn debug_hides_the_credentials() {
        let request = HttpRequest {
            method: Method::Get,
            url: "https://controlcenter.example/rws/api/v1/devices".into(),
            headers: vec![("Authorization".into(), basic_auth("u", "secret-key"))],
            body: None,
        };
        let shown = format!("{request:?}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(!shown.contains(&basic_auth("u", "secret-key")), "{shown}");
        assert_eq!(request.path_and_query(), "/rws/api/v1/devices");
    }

    #[test]
    fn retry_after_reads_seconds() {
        let r = HttpResponse::new(429, "").with_header("Retry-After", "3");
        assert_eq!(r.retry_after_ms(), Some(3000));
        let r = HttpResponse::new(429, "").with_header("retry-after", "soon");
        assert_eq!(r.retry_after_ms(), None);
    }
}
