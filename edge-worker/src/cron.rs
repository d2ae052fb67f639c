//! The hourly schedule (the Cron Trigger in `wrangler.toml`): every account whose window is
//! open gets a session ([`simopt_core::period::scheduled_start`]: the last 8 days of its
//! period, at or after its start hour in its zone; once per period and once more on the final
//! day). A start that finds its period's session still running is answered 409 by the session
//! object and skipped; the next hour tries again. One JSON log line per account considered.

use serde::Serialize;
use worker::{console_error, console_log, Env};

use crate::auth::Tenant;
use crate::error::ApiError;
use crate::session::Trigger;
use crate::sessions;
use crate::store::Store;

/// What the schedule did for one account.
#[derive(Debug, Serialize)]
struct CronLog<'a> {
    event: &'static str,
    account: &'a str,
    tenant: &'a str,
    /// `started`, `running` (its period's session holds the lock), `not-due`, `no-input`
    /// (plans or SIMs missing) or `error`.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period_end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// Runs the schedule as of `now` (RFC 3339: the trigger's scheduled time).
///
/// # Errors
/// A storage error listing the accounts; an account's own failure is logged and skipped.
pub async fn run(env: &Env, now: &str) -> Result<(), ApiError> {
    let store = Store::from_env(env)?;
    for (tenant, account) in store.all_accounts().await? {
        let mut log = CronLog {
            event: "cron",
            account: &account.id,
            tenant: &tenant,
            outcome: "not-due",
            session: None,
            period_end: None,
            message: None,
        };
        let period_end = match account.settings.period_end_after(now) {
            Some(end) => end,
            None => continue,
        };
        let started = store
            .period_starts(&tenant, &account.id, &period_end)
            .await?;
        if let Some(end) = account.settings.scheduled_start(now, &started) {
            log.period_end = Some(end);
            let tenant = Tenant { id: tenant.clone() };
            match sessions::start_at(env, &store, &tenant, &account, Trigger::Cron, now).await {
                Ok((201, view)) => {
                    log.outcome = "started";
                    log.session = view["id"].as_str().map(str::to_owned);
                }
                Ok((409, view)) => {
                    log.outcome = "running";
                    log.session = view["session"]["id"].as_str().map(str::to_owned);
                }
                Ok((status, view)) => {
                    log.outcome = "error";
                    log.message = Some(format!("the session object answered {status}: {view}"));
                }
                Err(ApiError::InputsMissing { kind, .. }) => {
                    log.outcome = "no-input";
                    log.message = Some(format!("no {kind} file uploaded"));
                }
                Err(e) => {
                    console_error!("cron: account {}: {e}", account.id);
                    log.outcome = "error";
                    log.message = Some(e.to_string());
                }
            }
        }
        console_log!("{}", serde_json::to_string(&log).unwrap_or_default());
    }
    Ok(())
}
