//! # simopt-edge
//!
//! The Cloudflare Worker front end of simopt: the same pure core as the command line and the
//! browser, answering over HTTP inside workerd. A bill computed here is byte-identical to the one
//! `simopt cost --json` writes for the same files and settings.
//!
//! | route | who | answer |
//! |---|---|---|
//! | `GET /api/health` | anyone | `200 {"status":"ok"}` |
//! | `POST /api/cost` | anyone | `200` and the cost document (or `?format=xlsx`/`csv`); `422` and the core's diagnostics for bad input |
//! | `POST /api/admin/tenants` | admin token | `201`, a new tenant and its first bearer token (shown once) |
//! | `GET`/`POST /api/accounts` | tenant token | the tenant's accounts / `201` a new account |
//! | `GET`/`PATCH /api/accounts/:id` | tenant token | an account / its changed settings |
//! | `PUT /api/accounts/:id/{plans,eligibility,sims}` | tenant token | `201` the upload record, after the core checked the CSV body |
//! | `DELETE /api/accounts/:id/eligibility` | tenant token | `200`: from now on every plan is allowed (a record saying so) |
//! | `GET /api/accounts/:id/uploads` | tenant token | the account's uploads, newest first |
//! | `GET`/`POST /api/accounts/:id/sessions` | tenant token | the account's sessions / `201` a new session (`409` while one runs) |
//! | `GET`/`PUT`/`DELETE /api/accounts/:id/carrier` | tenant token | the account's carrier connection and change rules (never the API key) / set them / remove them |
//! | `GET /api/sessions/:id` | tenant token | a session: state, progress, summary, carrier sync and push |
//! | `POST /api/sessions/:id/push` | tenant token | `202`: the approved push of a completed session's changes (`409` unless awaiting approval; once per billing period) |
//! | `GET /api/sessions/:id/report.xlsx` | tenant token | a session's Excel report |
//! | `GET /api/sessions/:id/sims` | tenant token | a session's per-SIM results, a page at a time (`?changed=true&offset=&limit=`) |
//!
//! Besides requests, the Worker consumes the work queue ([`chain`]: each message is a piece of a
//! session, run by the session's Durable Object, [`object`]) and answers the hourly cron
//! trigger ([`cron`]).
//!
//! `POST /api/cost` takes `multipart/form-data` (file fields `sims`, `plans`, optional
//! `eligibility`; settings as text fields `period_end`, `time_zone`, `as_of`, `proration`,
//! `charge_type`, `projection`, `margin_pct`, `currency_decimals`, `account_name` (the Excel
//! report's title)) or `application/json`
//! (`{"sims": "<csv>" | [rows], "plans": ..., "eligibility": ..., "settings": {...}}`). Without
//! `as_of` the run happens "now". See [`request`] for the details and the upload limit.
//!
//! The modules: [`routes`] matches paths, [`auth`] establishes the caller (bearer tokens, stored
//! hashed; the admin secret), [`accounts`] and [`uploads`] are the account API, [`tenants`] the
//! admin route, [`store`] holds D1 and R2, [`request`] reads a cost request's body, [`cost`]
//! runs the core, [`error`] maps every failure to its HTTP status in one place, [`log`] writes
//! one JSON line per request and per session event, [`clock`] supplies "now"; [`session`] is a
//! session's record and rules, [`sessions`] its routes, [`notify`] the signed webhook;
//! [`carrier_settings`] an account's carrier connection (its key [`sealed`]),
//! [`carrier_sync`] and [`carrier_push`] the session's carrier phases (requests sent by
//! [`carrier_fetch`]), [`carrier_store`] their D1 rows.
//!
//! Built by `scripts/build-worker` (worker-build), run by `wrangler dev` from the repository
//! root, tested in workerd by `scripts/test-worker`.

#![deny(missing_docs)]

pub mod accounts;
pub mod auth;
pub mod carrier_fetch;
pub mod carrier_push;
pub mod carrier_settings;
pub mod carrier_store;
pub mod carrier_sync;
pub mod chain;
pub mod clock;
pub mod cors;
pub mod cost;
pub mod cron;
pub mod error;
pub mod lines;
pub mod log;
pub mod notify;
pub mod object;
pub mod request;
pub mod routes;
pub mod sealed;
pub mod session;
pub mod sessions;
pub mod store;
pub mod tenants;
pub mod unit;
pub mod uploads;

use worker::{
    console_error, console_log, event, Context, Env, MessageBatch, Method, Request, Response,
    ScheduleContext, ScheduledEvent,
};

use crate::error::ApiError;
use crate::log::RequestLog;
use crate::routes::{Access, Route};
use crate::session::DEFAULT_PART_BYTES;
use crate::store::Store;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let started = clock::now_millis();
    let mut log = RequestLog {
        method: req.method().to_string(),
        ..RequestLog::default()
    };
    let allowed = env
        .var("ALLOWED_ORIGINS")
        .map(|v| v.to_string())
        .unwrap_or_default();
    let origin = cors::allowed_origin(req.headers().get("origin")?.as_deref(), &allowed);
    if let (Method::Options, Some(origin)) = (req.method(), &origin) {
        if req.path().starts_with("/api/") {
            return cors::preflight(origin);
        }
    }
    let response = match handle(req, &env, &mut log).await {
        Ok(response) => response,
        Err(error) => {
            log.error = Some(error.code());
            error.into_response()?
        }
    };
    if let Some(origin) = &origin {
        cors::decorate(response.headers(), origin)?;
    }
    log.status = response.status_code();
    log.ms = (clock::now_millis() - started).max(0.0) as u64;
    console_log!("{}", log.line());
    Ok(response)
}

#[event(queue)]
async fn queue(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    _ctx: Context,
) -> worker::Result<()> {
    chain::consume(batch, env).await
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    // The trigger's own time, to the second, as "now".
    let now = worker::js_sys::Date::new(&(event.schedule()).into());
    let iso: String = now.to_iso_string().into();
    let now = clock::whole_seconds(&iso);
    if let Err(e) = cron::run(&env, &now).await {
        console_error!("cron: {e}");
    }
}

/// Sends a request to its handler, once the caller is known to be allowed on its route.
async fn handle(req: Request, env: &Env, log: &mut RequestLog) -> Result<Response, ApiError> {
    let path = req.path();
    let method = req.method();
    let route = Route::of(&path).ok_or_else(|| ApiError::NotFound { path: path.clone() })?;
    log.route = Some(route.pattern());
    // Credentials before methods: a caller without them learns nothing more of a route.
    let tenant = match route.access() {
        Access::Public => None,
        Access::Admin => {
            auth::require_admin(&req, env)?;
            None
        }
        Access::Tenant => {
            let store = Store::from_env(env)?;
            let tenant = auth::require_tenant(&req, &store).await?;
            log.tenant = Some(tenant.id.clone());
            Some((store, tenant))
        }
    };
    if !route.allows(&method) {
        return Err(ApiError::MethodNotAllowed {
            method: method.to_string(),
            path,
            allow: route.allow(),
        });
    }
    match (route, tenant) {
        (Route::Health, _) => Ok(json_response(200, r#"{"status":"ok"}"#.to_owned())?),
        (Route::Cost, _) => cost::handle(req).await,
        (Route::AdminTenants, _) => tenants::create(req, &Store::from_env(env)?).await,
        (route, Some((store, tenant))) => match route {
            Route::Accounts if method == Method::Get => accounts::list(&store, &tenant).await,
            Route::Accounts => accounts::create(req, &store, &tenant).await,
            Route::Account(id) if method == Method::Get => {
                accounts::get(&store, &tenant, &id).await
            }
            Route::Account(id) => accounts::patch(req, &store, &tenant, &id).await,
            Route::Uploads(id) => uploads::list(&store, &tenant, &id).await,
            Route::Upload(id, _) if method == Method::Delete => {
                uploads::remove_eligibility(&store, &tenant, &id).await
            }
            Route::Upload(id, kind) => {
                let part_bytes = object::var_u64(env, "PART_BYTES", DEFAULT_PART_BYTES);
                uploads::put(req, &store, &tenant, &id, kind, part_bytes).await
            }
            Route::AccountSessions(id) if method == Method::Get => {
                sessions::list(&store, &tenant, &id).await
            }
            Route::AccountSessions(id) => sessions::start(req, env, &store, &tenant, &id).await,
            Route::Session(id) => sessions::get(&store, &tenant, &id).await,
            Route::SessionPush(id) => sessions::push(env, &store, &tenant, &id).await,
            Route::Carrier(id) if method == Method::Get => {
                carrier_settings::get(&store, &tenant, &id).await
            }
            Route::Carrier(id) if method == Method::Delete => {
                carrier_settings::delete(&store, &tenant, &id).await
            }
            Route::Carrier(id) => carrier_settings::put(req, env, &store, &tenant, &id).await,
            Route::SessionReport(id) => sessions::report(&store, &tenant, &id).await,
            Route::SessionSims(id) => sessions::sims(&req, &store, &tenant, &id).await,
            Route::Health | Route::Cost | Route::AdminTenants => unreachable_route(&path),
        },
        (_, None) => unreachable_route(&path),
    }
}

/// A route whose access and handler disagree: a bug, answered as an internal error.
fn unreachable_route(path: &str) -> Result<Response, ApiError> {
    Err(ApiError::Runtime(worker::Error::RustError(format!(
        "no handler for {path} with its credentials"
    ))))
}

/// A JSON answer.
///
/// # Errors
/// When the runtime cannot build a response.
pub(crate) fn json_response(status: u16, body: String) -> worker::Result<Response> {
    Ok(Response::builder()
        .with_status(status)
        .with_header("content-type", "application/json")?
        .fixed(body.into_bytes()))
}

/// A JSON answer of a value (the views answered are plain structs: serializing them cannot
/// fail).
///
/// # Errors
/// When the runtime cannot build a response.
pub(crate) fn json_answer(status: u16, value: &impl serde::Serialize) -> worker::Result<Response> {
    json_response(status, serde_json::to_string(value).unwrap_or_default())
}
