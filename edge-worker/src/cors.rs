//! Cross-origin calls of the API, for a page served from another origin than the Worker (the
//! standalone web UI, a customer's copy of it). The `ALLOWED_ORIGINS` var lists the origins
//! allowed, comma-separated (`*`: any); empty, the API answers its own origin only (browsers
//! block the rest). Credentials are bearer tokens, never cookies, so no
//! `Access-Control-Allow-Credentials`.

use worker::{Headers, Response};

/// The `Access-Control-Allow-Origin` value for a request from `origin`, when `allowed` lets it
/// in.
pub fn allowed_origin(origin: Option<&str>, allowed: &str) -> Option<String> {
    let origin = origin?.trim();
    if origin.is_empty() || origin == "null" {
        return None;
    }
    allowed
        .split(',')
        .map(str::trim)
        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin))
        .then(|| origin.to_owned())
}

/// Adds the CORS headers of an answer to `origin` (when it is allowed).
///
/// # Errors
/// When the runtime refuses a header.
pub fn decorate(headers: &Headers, origin: &str) -> worker::Result<()> {
    headers.set("access-control-allow-origin", origin)?;
    headers.append("vary", "Origin")?;
    headers.set(
        "access-control-expose-headers",
        "content-disposition, location",
    )?;
    Ok(())
}

/// The answer to a preflight (`OPTIONS /api/...`) from an allowed origin.
///
/// # Errors
/// When the runtime cannot build the response.
pub fn preflight(origin: &str) -> worker::Result<Response> {
    let response = Response::empty()?.with_status(204);
    let headers = response.headers();
    decorate(headers, origin)?;
    headers.set(
        "access-control-allow-methods",
        "GET, HEAD, POST, PUT, PATCH, DELETE",
    )?;
    headers.set(
        "access-control-allow-headers",
        "authorization, content-type, content-encoding",
    )?;
    headers.set("access-control-max-age", "600")?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::allowed_origin;

    #[test]
    fn only_listed_origins_are_allowed() {
        let list = "https://fleet.example.com, http://127.0.0.1:5173/";
        assert_eq!(
            allowed_origin(Some("https://fleet.example.com"), list).as_deref(),
            Some("https://fleet.example.com")
        );
        assert_eq!(
            allowed_origin(Some("http://127.0.0.1:5173"), list).as_deref(),
            Some("http://127.0.0.1:5173")
        );
        assert_eq!(allowed_origin(Some("https://evil.example"), list), None);
        assert_eq!(allowed_origin(None, list), None);
        assert_eq!(allowed_origin(Some("null"), "*"), None);
        assert_eq!(allowed_origin(Some("https://a.test"), ""), None);
        assert_eq!(
            allowed_origin(Some("https://a.test"), "*").as_deref(),
            Some("https://a.test")
        );
    }
}
