//! The sessions API: start an optimization of an account's current files, follow it, list the
//! account's history, download the report. The work itself runs in the session's Durable
//! Object ([`crate::object`]), driven through the queue ([`crate::chain`]).

use serde::Serialize;
use worker::{Env, Method, Request, RequestInit, Response, Stub};

use crate::accounts::{self, Account};
use crate::auth::{self, Tenant};
use crate::clock;
use crate::error::ApiError;
use crate::json_answer;
use crate::object::Approval;
use crate::object::{Start, BINDING};
use crate::session::{
    object_name, Delivered, FileRef, Inputs, ProgressView, PushStatus, Record, SessionView, State,
    Timings, Trigger,
};
use crate::store::{Store, UploadRow};
use crate::uploads::Kind;

/// The session object of an account's period.
///
/// # Errors
/// A runtime error when the binding is missing.
pub fn stub(env: &Env, account: &str, period_end: &str) -> Result<Stub, ApiError> {
    session_stub(env, &object_name(account, period_end))
}

/// The session object named `name` (`<account>/<period end>`).
///
/// # Errors
/// A runtime error when the binding is missing.
pub fn session_stub(env: &Env, name: &str) -> Result<Stub, ApiError> {
    named_stub(env, BINDING, name)
}

/// The unit object named `name` ([`crate::session::unit_object_name`]).
///
/// # Errors
/// A runtime error when the binding is missing.
pub fn unit_stub(env: &Env, name: &str) -> Result<Stub, ApiError> {
    named_stub(env, crate::unit::BINDING, name)
}

fn named_stub(env: &Env, binding: &str, name: &str) -> Result<Stub, ApiError> {
    let namespace = env.durable_object(binding).map_err(|e| {
        ApiError::Runtime(worker::Error::RustError(format!(
            "the {binding} binding is not usable ({e}); see [[durable_objects.bindings]] in \
             wrangler.toml"
        )))
    })?;
    Ok(namespace.id_from_name(name)?.get_stub()?)
}

/// A JSON request to a session object's internal route.
///
/// # Errors
/// A runtime error.
pub fn object_request(path: &str, body: &impl Serialize) -> worker::Result<Request> {
    let json = serde_json::to_string(body)
        .map_err(|e| worker::Error::RustError(format!("cannot write the request: {e}")))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(json.into()));
    Request::new_with_init(&format!("https://session{path}"), &init)
}

/// What a session keeps of an upload it runs on.
pub(crate) fn file_ref(row: UploadRow) -> FileRef {
    FileRef {
        upload: row.id,
        key: row.r2_key,
        sha256: row.sha256,
        rows: row.rows.max(0) as u64,
    }
}

/// A new session of `account` at `now` (RFC 3339), on its current files. With a carrier
/// connection it syncs the SIMs first (so it needs no SIMs file yet).
///
/// # Errors
/// [`ApiError::InputsMissing`] without plans, or without SIMs and a carrier; a storage error.
pub async fn new_record(
    store: &Store,
    tenant: &Tenant,
    account: &Account,
    trigger: Trigger,
    now: &str,
) -> Result<Record, ApiError> {
    let current = |kind| store.current_upload(&account.id, kind);
    let missing = |kind: Kind| ApiError::InputsMissing {
        account: account.id.clone(),
        kind: kind.name(),
    };
    let plans = current(Kind::Plans)
        .await?
        .ok_or_else(|| missing(Kind::Plans))?;
    let carrier = store
        .carrier_settings(&tenant.id, &account.id)
        .await?
        .is_some();
    let sims = current(Kind::Sims).await?;
    if sims.is_none() && !carrier {
        return Err(missing(Kind::Sims));
    }
    let eligibility = current(Kind::Eligibility).await?;
    let now = now.to_owned();
    let now_ms = clock::now_millis();
    let settings = &account.settings;
    let period_end = settings.period_end_after(&now).ok_or_else(|| {
        ApiError::Runtime(worker::Error::RustError(format!(
            "account {}: no billing period end follows {now}",
            account.id
        )))
    })?;
    Ok(Record {
        view: SessionView {
            id: auth::new_id()?,
            account_id: account.id.clone(),
            period_end: period_end.clone(),
            trigger,
            as_of: now.clone(),
            state: State::Created,
            reason: None,
            progress: ProgressView::start(),
            summary: None,
            sims: None,
            slices: 0,
            checkpoint_bytes: 0,
            report: None,
            notification: None,
            timings: Timings::default(),
            created_at: now.clone(),
            updated_at: now.clone(),
            finished_at: None,
            sync: None,
            push: None,
            units: None,
        },
        tenant: tenant.id.clone(),
        inputs: Inputs {
            plans: file_ref(plans),
            eligibility: eligibility.map(file_ref),
            sims: sims.map(file_ref),
            settings: settings.core_input(&now, Some(period_end)),
            notify_webhook: settings.notify_webhook.clone(),
            notify_email: settings.notify_email.clone(),
            carrier,
            auto_push: settings.auto_push,
        },
        next: Record::first_step(carrier),
        sent: false,
        failures: 0,
        moved_ms: now_ms,
        started_ms: now_ms,
        report_keys: None,
        watchdog_resends: 0,
        delivered: Delivered::default(),
        delay_seconds: 0,
        push_delivered: Delivered::default(),
        outcomes_recorded: 0,
        units: None,
        report_writing: None,
    })
}

/// `POST /api/accounts/:id/sessions`: starts a session of the account now — or as of the
/// moment the optional JSON body `{"as_of": "…"}` names (not in the future; the session is of
/// the period running then); `201` and the session, or `409` and the running one.
///
/// # Errors
/// 404 for another tenant's or no account, 400 for a bad body, 409 without plans or SIMs, a
/// runtime error.
pub async fn start(
    mut req: Request,
    env: &Env,
    store: &Store,
    tenant: &Tenant,
    account_id: &str,
) -> Result<Response, ApiError> {
    let account = accounts::find(store, tenant, account_id).await?;
    let body = accounts::settings_body(&mut req).await?;
    let now = clock::now_rfc3339();
    let moment = match start_body(&body)? {
        Some(as_of) => account
            .settings
            .session_moment(&as_of, &now)
            .map_err(|p| ApiError::BadAccount(vec![p]))?,
        None => now,
    };
    let (status, body) = start_at(env, store, tenant, &account, Trigger::Manual, &moment).await?;
    let mut response = json_answer(status, &body)?;
    if status == 201 {
        if let Some(id) = body["id"].as_str() {
            response
                .headers_mut()
                .set("location", &format!("/api/sessions/{id}"))?;
        }
    }
    Ok(response)
}

/// The `as_of` of a start's body: none for an empty body.
fn start_body(body: &[u8]) -> Result<Option<String>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        as_of: Option<String>,
    }
    let body: Body = serde_json::from_slice(body).map_err(|e| {
        ApiError::BadJson(format!(
            "the body of a session start is JSON {{\"as_of\": \"2026-11-20T12:00\"}} or \
             nothing: {e}"
        ))
    })?;
    Ok(body.as_of)
}

/// Asks the account's session object of the period running at `now` to start a session:
/// its status (`201` made, `409` one is running) and answer.
///
/// # Errors
/// 409 without plans or SIMs, a runtime error.
pub async fn start_at(
    env: &Env,
    store: &Store,
    tenant: &Tenant,
    account: &Account,
    trigger: Trigger,
    now: &str,
) -> Result<(u16, serde_json::Value), ApiError> {
    let record = new_record(store, tenant, account, trigger, now).await?;
    let stub = stub(env, &account.id, &record.view.period_end)?;
    let mut answer = stub
        .fetch_with_request(object_request("/start", &Start { record })?)
        .await?;
    let status = answer.status_code();
    let body = answer.json::<serde_json::Value>().await?;
    Ok((status, body))
}

/// `GET /api/sessions/:id`.
///
/// # Errors
/// 404 for another tenant's or no session; a storage error.
pub async fn get(store: &Store, tenant: &Tenant, id: &str) -> Result<Response, ApiError> {
    let view = find(store, tenant, id).await?;
    Ok(json_answer(200, &view)?)
}

async fn find(store: &Store, tenant: &Tenant, id: &str) -> Result<SessionView, ApiError> {
    store
        .session(&tenant.id, id)
        .await?
        .ok_or_else(|| ApiError::NoSuchSession { id: id.to_owned() })
}

/// `GET /api/accounts/:id/sessions`: the account's sessions, newest first.
///
/// # Errors
/// 404 for another tenant's or no account; a storage error.
pub async fn list(store: &Store, tenant: &Tenant, account_id: &str) -> Result<Response, ApiError> {
    let account = accounts::find(store, tenant, account_id).await?;
    let sessions = store.sessions(&tenant.id, &account.id).await?;
    #[derive(Serialize)]
    struct List {
        sessions: Vec<SessionView>,
    }
    Ok(json_answer(200, &List { sessions })?)
}

/// `GET /api/sessions/:id/report.xlsx`: the session's Excel report.
///
/// # Errors
/// 404 for another tenant's or no session, 409 before the report is written; a storage error.
pub async fn report(store: &Store, tenant: &Tenant, id: &str) -> Result<Response, ApiError> {
    let view = find(store, tenant, id).await?;
    if view.report.is_none() {
        return Err(ApiError::ReportNotReady {
            id: id.to_owned(),
            state: view.state.as_str(),
        });
    }
    let key = crate::session::ReportKeys::of(&tenant.id, &view.account_id, &view.id).xlsx;
    let (body, size) = store.file_stream(&key).await?.ok_or_else(|| {
        ApiError::Runtime(worker::Error::RustError(format!(
            "the report {key} of session {} is missing from R2",
            view.id
        )))
    })?;
    let name = view.report_file_name();
    Ok(Response::builder()
        .with_status(200)
        .with_header("content-type", crate::cost::XLSX_TYPE)?
        .with_header("content-length", &size.to_string())?
        .with_header(
            "content-disposition",
            &format!("attachment; filename=\"{name}\""),
        )?
        .body(body))
}

/// `POST /api/sessions/:id/push`: approves the push of a completed session's changes to the
/// carrier (an account without `auto_push`); `202` and the session, now `pushing`. At most one
/// push per account and billing period.
///
/// # Errors
/// 404 for another tenant's or no session; 409 when the session has no push awaiting approval
/// (no carrier, not completed, already started) or the period's changes were pushed by another
/// session; a runtime error.
pub async fn push(
    env: &Env,
    store: &Store,
    tenant: &Tenant,
    id: &str,
) -> Result<Response, ApiError> {
    let view = find(store, tenant, id).await?;
    let status = view.push.as_ref().map(|p| p.status);
    if status != Some(PushStatus::AwaitingApproval) || view.state != State::Completed {
        let why = match (view.state, status) {
            (_, None) => "its account had no carrier connection when it ran".to_owned(),
            (State::Completed, Some(s)) => {
                format!("its push was already started (it is {})", s.as_str())
            }
            (state, _) => format!("it is {}, not completed", state.as_str()),
        };
        return Err(ApiError::PushRefused(format!(
            "session {id} has no push awaiting approval: {why}"
        )));
    }
    if let Some(holder) = store
        .push_holder(&view.account_id, &view.period_end)
        .await?
    {
        if holder != view.id {
            return Err(ApiError::PushRefused(format!(
                "the changes of the billing period ending {} were already pushed by session \
                 {holder}: at most one push per billing period",
                view.period_end
            )));
        }
    }
    let stub = stub(env, &view.account_id, &view.period_end)?;
    let mut answer = stub
        .fetch_with_request(object_request(
            "/push",
            &Approval {
                session: view.id.clone(),
            },
        )?)
        .await?;
    let status = answer.status_code();
    let body = answer.json::<serde_json::Value>().await?;
    if status == 409 {
        return Err(ApiError::PushRefused(
            body["message"].as_str().unwrap_or("refused").to_owned(),
        ));
    }
    Ok(json_answer(status, &body)?)
}

/// The largest page of `GET /api/sessions/:id/sims`.
pub const MAX_SIMS_PAGE: u64 = 1_000;

/// The query of `GET /api/sessions/:id/sims`: `changed` (true: only the SIMs that change plan),
/// `offset`, `limit` (default 100, at most [`MAX_SIMS_PAGE`]).
///
/// # Errors
/// [`ApiError::BadSettings`] naming the parameter.
pub fn sims_query<'a>(
    pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
) -> Result<(bool, u64, u64), ApiError> {
    let (mut changed, mut offset, mut limit) = (false, 0, 100);
    for (key, value) in pairs {
        let number = |v: &str| {
            v.parse::<u64>().map_err(|_| {
                ApiError::BadSettings(format!(
                    "{key}={v:?} is not a whole number of at least 0; e.g. ?offset=0&limit=100"
                ))
            })
        };
        match key.as_ref() {
            "changed" => {
                changed = match value.as_ref() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    v => {
                        return Err(ApiError::BadSettings(format!(
                            "changed={v:?}: give true (only the SIMs that change plan) or false"
                        )))
                    }
                }
            }
            "offset" => offset = number(&value)?,
            "limit" => {
                limit = number(&value)?;
                if !(1..=MAX_SIMS_PAGE).contains(&limit) {
                    return Err(ApiError::BadSettings(format!(
                        "limit={limit}: give 1 to {MAX_SIMS_PAGE} SIMs a page"
                    )));
                }
            }
            other => {
                return Err(ApiError::BadSettings(format!(
                    "unknown parameter {other:?}; this route takes changed, offset and limit"
                )))
            }
        }
    }
    Ok((changed, offset, limit))
}

/// `GET /api/sessions/:id/sims`: the session's per-SIM results in fleet order, a page at a
/// time: `{session, total, offset, limit, sims: [...]}`.
///
/// # Errors
/// 404 for another tenant's or no session, 400 for a bad query, 409 before the results are
/// written; a storage error.
pub async fn sims(
    req: &Request,
    store: &Store,
    tenant: &Tenant,
    id: &str,
) -> Result<Response, ApiError> {
    let url = req.url()?;
    let (changed, offset, limit) = sims_query(url.query_pairs())?;
    let view = find(store, tenant, id).await?;
    if !matches!(
        view.state,
        State::Notifying | State::Pushing | State::Completed
    ) {
        return Err(ApiError::ReportNotReady {
            id: id.to_owned(),
            state: view.state.as_str(),
        });
    }
    let (total, sims) = store.session_sims(&view.id, changed, offset, limit).await?;
    #[derive(Serialize)]
    struct Page {
        session: String,
        changed_only: bool,
        total: u64,
        offset: u64,
        limit: u64,
        sims: Vec<crate::store::SimResult>,
    }
    Ok(json_answer(
        200,
        &Page {
            session: view.id,
            changed_only: changed,
            total,
            offset,
            limit,
            sims,
        },
    )?)
}

#[cfg(test)]
mod tests {
    use super::{sims_query, start_body};

    #[test]
    fn the_sims_query_reads_changed_offset_and_limit() {
        let q = |s: &'static str| sims_query(worker::url::form_urlencoded::parse(s.as_bytes()));
        assert_eq!(q("").ok(), Some((false, 0, 100)));
        assert_eq!(
            q("changed=true&offset=200&limit=50").ok(),
            Some((true, 200, 50))
        );
        assert_eq!(q("changed=0").ok(), Some((false, 0, 100)));
        for bad in [
            "limit=0",
            "limit=1001",
            "offset=-1",
            "changed=yes",
            "page=2",
        ] {
            let e = q(bad).expect_err(bad);
            assert_eq!(e.status(), 400, "{bad}");
        }
    }

    #[test]
    fn a_start_takes_nothing_or_an_as_of() {
        assert_eq!(start_body(b"").ok(), Some(None));
        assert_eq!(start_body(b"  \n").ok(), Some(None));
        assert_eq!(start_body(b"{}").ok(), Some(None));
        assert_eq!(
            start_body(br#"{"as_of": "2026-11-20T12:00"}"#).ok(),
            Some(Some("2026-11-20T12:00".into()))
        );
        let e = start_body(br#"{"asOf": "x"}"#).expect_err("unknown field");
        assert_eq!(e.code(), "bad-json");
        assert!(start_body(b"[1]").is_err());
    }
}
