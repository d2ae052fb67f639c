//! The notification of a completed session, on each channel the account has, each delivered
//! once: a JSON summary POSTed to the account's webhook,
//! signed with HMAC-SHA256 under the service's `WEBHOOK_SIGNING_KEY` secret
//! (`X-Simopt-Signature: sha256=<hex>` of the exact body) and carrying the session's id as
//! `Idempotency-Key`, so a receiver can drop the one duplicate a crash between delivery and the
//! session's next write could cause; and an e-mail through the Workers `send_email` binding
//! with the summary and the Excel report attached. A failed delivery (network, a non-2xx answer,
//! a refused e-mail) is retried by the queue with backoff; the session completes once every
//! channel has delivered. The session records each channel's delivery as it happens, so a retry
//! never sends a delivered one again.

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

/// POSTs the webhook; answers the receiver's status.
///
/// # Errors
/// Why it could not be delivered (retried by the caller).
pub async fn webhook(env: &Env, record: &Record, url: &str) -> Result<u16, String> {
    let body = serde_json::to_vec(&WebhookBody {
        event: "session.completed",
        session: &record.view,
        report_url: report_url(env, record),
    })
    .map_err(|e| format!("cannot write the webhook body: {e}"))?;
    post_signed(env, url, &record.view.id, body).await
}

/// The push's webhook body: `push.completed` (with the discrepancies) or `push.no_go`.
#[derive(Serialize)]
pub struct PushWebhookBody<'a> {
    /// `push.completed`, `push.no_go`.
    pub event: &'static str,
    /// The session, its `push` included.
    pub session: &'a SessionView,
    /// Devices whose plan at the carrier differs from ours (at most 1,000).
    pub discrepancies: &'a [serde_json::Value],
}

/// POSTs the push's webhook (`Idempotency-Key: <session>-push`); answers the receiver's
/// status.
///
/// # Errors
/// Why it could not be delivered (retried by the caller).
pub async fn push_webhook(
    env: &Env,
    record: &Record,
    url: &str,
    event: &'static str,
    discrepancies: &[serde_json::Value],
) -> Result<u16, String> {
    let body = serde_json::to_vec(&PushWebhookBody {
        event,
        session: &record.view,
        discrepancies,
    })
    .map_err(|e| format!("cannot write the webhook body: {e}"))?;
    post_signed(env, url, &format!("{}-push", record.view.id), body).await
}

/// The push's e-mail: the decision and its figures, the outcomes, the discrepancies.
pub fn push_email_text(
    record: &Record,
    account_name: &str,
    discrepancies: &[serde_json::Value],
) -> (String, String) {
    let view = &record.view;
    let id = view.id.get(..8).unwrap_or(&view.id);
    let Some(push) = &view.push else {
        return (
            format!("simopt: session {id} of {account_name}"),
            String::new(),
        );
    };
    let minutes = |ms: i64| (ms.max(0) + 59_999) / 60_000;
    let mut text = String::new();
    let subject = match push.status {
        crate::session::PushStatus::NoGo => {
            text.push_str(&format!(
                "The plan changes of {account_name} for the billing period ending {} were NOT \
                 pushed to the carrier: {}.\n\n",
                view.period_end,
                push.reason.as_deref().unwrap_or("no-go")
            ));
            format!("simopt: {account_name}: changes not pushed (no-go, session {id})")
        }
        _ => {
            text.push_str(&format!(
                "The plan changes of {account_name} for the billing period ending {} were pushed \
                 to the carrier.\n\nChanges sent     {}\n",
                view.period_end, push.changes_sent
            ));
            for (name, n) in &push.counts {
                text.push_str(&format!("{name:<16} {n}\n"));
            }
            text.push('\n');
            format!(
                "simopt: {account_name}: {} plan changes pushed, {} discrepancies (session {id})",
                push.changes_sent, push.discrepancies
            )
        }
    };
    if let Some(d) = &push.decision {
        text.push_str(&format!(
            "Go/no-go: {} changes in {} batches at {}/min, about {} min plus a {} min buffer; \
             the period ended {} min after the decision.\n",
            d.changes,
            d.batches,
            d.changes_per_minute,
            minutes(d.estimated_ms),
            minutes(d.buffer_ms),
            minutes(d.available_ms)
        ));
    }
    if !discrepancies.is_empty() {
        text.push_str("\nDevices whose plan at the carrier differs from ours:\n");
        for d in discrepancies {
            text.push_str(&format!("  {d}\n"));
        }
    }
    text.push_str(&format!("\nSession {}.\n", view.id));
    (subject, text)
}

/// POSTs `body` to `url`, signed, with `Idempotency-Key: key`; answers the receiver's status.
///
/// # Errors
/// Why it could not be delivered (retried by the caller).
async fn post_signed(
    env: &Env,
    url: &str,
    idempotency_key: &str,
    body: Vec<u8>,
) -> Result<u16, String> {
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
    let headers = Headers::new();
    let set = |name: &str, value: &str| {
        headers
            .set(name, value)
            .map_err(|e| format!("cannot set the webhook's {name} header: {e}"))
    };
    set("content-type", "application/json")?;
    set("x-simopt-signature", &signature(key.as_bytes(), &body))?;
    set("idempotency-key", idempotency_key)?;
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
    Ok(status)
}

/// The report's link: its API path, after `PUBLIC_URL` when that is set.
fn report_url(env: &Env, record: &Record) -> Option<String> {
    let public = env
        .var("PUBLIC_URL")
        .map(|v| v.to_string())
        .unwrap_or_default();
    record
        .view
        .report
        .as_ref()
        .map(|path| format!("{}{path}", public.trim_end_matches('/')))
}

/// The e-mail binding's name in `wrangler.toml` (`[[send_email]]`).
pub const EMAIL_BINDING: &str = "EMAIL";
/// Reports larger than this are linked, not attached (mail systems refuse large messages).
pub const MAX_ATTACHMENT_BYTES: usize = 10 << 20;

/// The e-mail's subject and text.
pub fn email_text(
    record: &Record,
    account_name: &str,
    link: Option<&str>,
    attached: bool,
) -> (String, String) {
    let view = &record.view;
    let id = view.id.get(..8).unwrap_or(&view.id);
    let Some(s) = &view.summary else {
        return (
            format!("simopt: session {id} of {account_name} completed"),
            String::new(),
        );
    };
    let subject = format!(
        "simopt: {account_name} can save {} a month (session {id})",
        s.savings
    );
    let mut text = format!(
        "The optimization of {account_name} for the billing period ending {} is done.\n\n\
         SIMs            {}\n\
         Current bill    {}\n\
         Optimized bill  {}\n\
         Savings         {}\n\
         Lower bound     {} (no choice of plans costs less)\n\
         Changes         {} SIMs change plan\n\n",
        view.period_end,
        s.sims,
        s.current_cost,
        s.optimized_cost,
        s.savings,
        s.lower_bound.as_deref().unwrap_or("-"),
        s.changes,
    );
    if attached {
        text.push_str("The Excel report is attached.\n");
    }
    if let Some(link) = link {
        text.push_str(&format!("The report: {link}\n"));
    }
    text.push_str(&format!("Session {}.\n", view.id));
    (subject, text)
}

/// Sends the e-mail with the report attached (when it is small enough) through the
/// `send_email` binding.
///
/// # Errors
/// Why it could not be sent (retried by the caller).
pub async fn email(
    env: &Env,
    record: &Record,
    to: &str,
    account_name: &str,
    xlsx: Option<Vec<u8>>,
) -> Result<(), String> {
    let link = report_url(env, record);
    let attach = xlsx.filter(|x| x.len() <= MAX_ATTACHMENT_BYTES);
    let (subject, text) = email_text(record, account_name, link.as_deref(), attach.is_some());
    let attachment = attach.map(|bytes| (record.view.report_file_name(), bytes));
    send_email(env, to, &subject, &text, attachment).await
}

/// Sends an e-mail through the `send_email` binding, with an Excel attachment if given.
///
/// # Errors
/// Why it could not be sent (retried by the caller).
pub async fn send_email(
    env: &Env,
    to: &str,
    subject: &str,
    text: &str,
    attachment: Option<(String, Vec<u8>)>,
) -> Result<(), String> {
    use worker::js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
    use worker::wasm_bindgen::{JsCast, JsValue};
    let binding = Reflect::get(env.as_ref(), &JsValue::from_str(EMAIL_BINDING))
        .ok()
        .filter(|b| !b.is_undefined())
        .ok_or_else(|| {
            format!("no {EMAIL_BINDING} binding: add [[send_email]] name = \"{EMAIL_BINDING}\" to wrangler.toml")
        })?;
    let from = env
        .var("EMAIL_FROM")
        .map(|v| v.to_string())
        .ok()
        .filter(|f| !f.is_empty())
        .ok_or("no EMAIL_FROM var: the sender address of the reports")?;
    let set = |o: &Object, k: &str, v: &JsValue| {
        Reflect::set(o, &JsValue::from_str(k), v)
            .map(|_| ())
            .map_err(|e| format!("cannot build the e-mail: {e:?}"))
    };
    let message = Object::new();
    set(&message, "from", &JsValue::from_str(&from))?;
    set(&message, "to", &JsValue::from_str(to))?;
    set(&message, "subject", &JsValue::from_str(subject))?;
    set(&message, "text", &JsValue::from_str(text))?;
    if let Some((name, bytes)) = attachment {
        let attachment = Object::new();
        set(&attachment, "filename", &JsValue::from_str(&name))?;
        set(
            &attachment,
            "type",
            &JsValue::from_str(crate::cost::XLSX_TYPE),
        )?;
        set(&attachment, "disposition", &JsValue::from_str("attachment"))?;
        set(
            &attachment,
            "content",
            &Uint8Array::from(bytes.as_slice()).into(),
        )?;
        set(&message, "attachments", &Array::of1(&attachment).into())?;
    }
    let send: Function = Reflect::get(&binding, &JsValue::from_str("send"))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("the EMAIL binding has no send()")?;
    // The binding is an RPC stub: `send` is applied directly (its `.call` would be taken for a
    // remote method), and it answers a thenable, resolved into a promise.
    let answer = Reflect::apply(&send, &binding, &Array::of1(&message))
        .map_err(|e| format!("the e-mail to {to} was refused: {e:?}"))?;
    let promise = Promise::resolve(&answer);
    worker::wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| format!("the e-mail to {to} could not be sent: {e:?}"))?;
    Ok(())
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
