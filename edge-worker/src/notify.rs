//! The notification of a completed session: a JSON summary POSTed to the account's webhook,
//! signed with HMAC-SHA256 under the service's `WEBHOOK_SIGNING_KEY` secret
//! (`X-Simopt-Signature: sha256=<hex>` of the exact body) and carrying the session's id as
//! `Idempotency-Key`, so a receiver can drop the one duplicate a crash between delivery and the
//! session's next write could cause. A failed delivery (network, a non-2xx answer) is retried
//! by the queue with backoff; the session completes once it is delivered.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use worker::{Env, Fetch, Headers, Method, Request, RequestInit};

use crate::auth::hex;
use crate::session::{Record, SessionView};

/// The secret that signs webhook bodies.
pub const SIGNING_KEY: &str = "WEBHOOK_SIGNING_KEY";

/// The webhook's body.
#[derive(Serialize)]
pub struct WebhookBody<'a> {
    /// Always `session.completed`.
    pub event: &'static str,
    /// The session, as `GET /api/sessions/:id` answers it.
    pub session: &'a SessionView,
    /// Where to download the report (the API's path, prefixed with `PUBLIC_URL` when set).
    pub report_url: Option<String>,
}

/// `sha256=<hex HMAC-SHA256 of body under key>`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

/// Delivers the session's notification; answers what became of it, for the session's view.
///
/// # Errors
/// Why the webhook could not be delivered (retried by the caller).
pub async fn deliver(env: &Env, record: &Record) -> Result<String, String> {
    let mut notes = Vec::new();
    if let Some(url) = &record.inputs.notify_webhook {
        let key = env
            .secret(SIGNING_KEY)
            .map(|s| s.to_string())
            .ok()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                format!(
                    "the webhook cannot be signed: set the {SIGNING_KEY} secret (wrangler secret \
                     put {SIGNING_KEY}, or .dev.vars locally)"
                )
            })?;
        let public = env
            .var("PUBLIC_URL")
            .map(|v| v.to_string())
            .unwrap_or_default();
        let body = serde_json::to_vec(&WebhookBody {
            event: "session.completed",
            session: &record.view,
            report_url: record
                .view
                .report
                .as_ref()
                .map(|path| format!("{}{path}", public.trim_end_matches('/'))),
        })
        .map_err(|e| format!("cannot write the webhook body: {e}"))?;
        let headers = Headers::new();
        let set = |name: &str, value: &str| {
            headers
                .set(name, value)
                .map_err(|e| format!("cannot set the webhook's {name} header: {e}"))
        };
        set("content-type", "application/json")?;
        set("x-simopt-signature", &signature(key.as_bytes(), &body))?;
        set("idempotency-key", &record.view.id)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers.clone())
            .with_body(Some(
                worker::js_sys::Uint8Array::from(body.as_slice()).into(),
            ));
        let request = Request::new_with_init(url, &init)
            .map_err(|e| format!("the webhook URL {url} cannot be requested: {e}"))?;
        let response = Fetch::Request(request)
            .send()
            .await
            .map_err(|e| format!("the webhook {url} could not be reached: {e}"))?;
        let status = response.status_code();
        if !(200..300).contains(&status) {
            return Err(format!("the webhook {url} answered {status}"));
        }
        notes.push(format!("webhook delivered ({status})"));
    }
    if record.inputs.notify_email.is_some() {
        notes.push("e-mail not sent: the send_email binding is not wired yet".into());
    }
    if notes.is_empty() {
        notes.push("none configured".into());
    }
    Ok(notes.join("; "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_are_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            super::signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
