//! Accounts: a tenant's carrier accounts and their settings (`/api/accounts`,
//! `/api/accounts/:id`).
//!
//! Settings are a JSON object with the fields of [`AccountSettings`], named as the core's
//! [`SettingsInput`] names them where they overlap. `POST` takes `name` and any others (the rest
//! get their defaults), `PATCH` any subset. Every problem is reported at once, each naming its
//! field (400 `bad-settings`); the core's own checks decide what a time zone, charge type,
//! margin or number of currency decimals may be, so an account always holds settings the core
//! accepts.

use serde::Serialize;
use serde_json::{Map, Value};
use simopt_core::period::{next_end, parse_instant, scheduled_start};
use simopt_core::{Settings, SettingsInput};
use worker::{Request, Response};

use crate::auth::{self, Tenant};
use crate::error::ApiError;
use crate::request::{self, BodyLimit};
use crate::store::Store;
use crate::{clock, json_answer};

/// The largest settings body accepted.
pub const SETTINGS_LIMIT: BodyLimit = BodyLimit {
    bytes: 64 * 1024,
    hint: "send the account's settings as a small JSON object",
};

/// Longest tenant or account name, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 200;

/// What is wrong with a tenant's or an account's name (already trimmed), and what to do, if
/// anything.
pub(crate) fn name_problem(name: &str) -> Option<(String, String)> {
    let chars = name.chars().count();
    if name.is_empty() {
        Some((
            "the name is empty".into(),
            "give it a name, e.g. \"Acme fleet\"".into(),
        ))
    } else if chars > MAX_NAME_CHARS {
        Some((
            format!("the name has {chars} characters"),
            format!("use at most {MAX_NAME_CHARS}"),
        ))
    } else if name.chars().any(char::is_control) {
        Some((
            "the name holds a line break or another control character".into(),
            "write it on one line".into(),
        ))
    } else {
        None
    }
}

/// Longest notification address or URL, in characters.
const MAX_TARGET_CHARS: usize = 2_048;

/// The settings fields, in the order they are documented and answered.
pub const FIELDS: [&str; 13] = [
    "name",
    "time_zone",
    "period_end_day",
    "period_end_hour",
    "start_hour",
    "proration",
    "charge_type",
    "projection",
    "margin_pct",
    "currency_decimals",
    "notify_email",
    "notify_webhook",
    "auto_push",
];

/// Fields of an account answer that a client cannot set.
const READ_ONLY: [&str; 4] = ["id", "created_at", "updated_at", "current_period_end"];

/// One thing wrong with a setting: which field, what is wrong, what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    /// The field's name (`time_zone`).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub hint: String,
}

impl FieldProblem {
    /// A problem of `field`.
    pub fn new(field: &str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        FieldProblem {
            field: field.to_owned(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// All problems in one sentence: `the account settings have 2 problems: time_zone: ...`.
    pub fn summary(problems: &[FieldProblem]) -> String {
        let n = problems.len();
        let list: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {} ({})", p.field, p.message, p.hint))
            .collect();
        format!(
            "the account settings have {n} problem{}: {}",
            if n == 1 { "" } else { "s" },
            list.join("; ")
        )
    }
}

/// An account's settings, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSettings {
    /// The account's name (titles its reports).
    pub name: String,
    /// IANA time zone of the billing period (`America/New_York`). Default `UTC`.
    pub time_zone: String,
    /// Day of the month the billing period ends, 1–31 (clamped to the month's length: 31 is
    /// always the last day). Default 1 (with hour 0: calendar months).
    pub period_end_day: u32,
    /// Local hour the period ends, 0–23. Default 0.
    pub period_end_hour: u32,
    /// Local hour from which a scheduled run may start, 0–23. Default 0.
    pub start_hour: u32,
    /// Prorate SIMs activated inside the period. Default on.
    pub proration: bool,
    /// `rate-and-overage` (default), `overage-only` or `rate-only`.
    pub charge_type: String,
    /// Project usage to the period end. Default on.
    pub projection: bool,
    /// Projection margin in percent, exact decimal text. Default `1`.
    pub margin_pct: String,
    /// Decimals of the currency's minor unit, 0–6. Default 2.
    pub currency_decimals: u32,
    /// Where the run's summary is mailed, if anywhere.
    pub notify_email: Option<String>,
    /// Where the run's summary is posted (http or https URL), if anywhere.
    pub notify_webhook: Option<String>,
    /// Push the changes to the carrier without approval. Default off.
    pub auto_push: bool,
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings {
            name: String::new(),
            time_zone: "UTC".into(),
            period_end_day: 1,
            period_end_hour: 0,
            start_hour: 0,
            proration: true,
            charge_type: "rate-and-overage".into(),
            projection: true,
            margin_pct: "1".into(),
            currency_decimals: 2,
            notify_email: None,
            notify_webhook: None,
            auto_push: false,
        }
    }
}

impl AccountSettings {
    /// The settings of a new account from a JSON body: `name` and any other fields.
    ///
    /// # Errors
    /// [`ApiError::BadJson`] for a body that is not a JSON object, [`ApiError::BadAccount`] with
    /// every problem found.
    pub fn create(body: &[u8]) -> Result<AccountSettings, ApiError> {
        let map = json_object(body)?;
        let mut problems = Vec::new();
        if !map.contains_key("name") {
            problems.push(FieldProblem::new(
                "name",
                "the account has no name",
                "give it one, e.g. {\"name\": \"Acme fleet\"}",
            ));
        }
        AccountSettings::default().merged(map, problems)
    }

    /// These settings with the fields of a JSON body replaced (`null` clears a notification
    /// target).
    ///
    /// # Errors
    /// As [`AccountSettings::create`].
    pub fn patched(&self, body: &[u8]) -> Result<AccountSettings, ApiError> {
        let map = json_object(body)?;
        self.clone().merged(map, Vec::new())
    }

    fn merged(
        mut self,
        map: Map<String, Value>,
        mut problems: Vec<FieldProblem>,
    ) -> Result<AccountSettings, ApiError> {
        problems.extend(self.apply(map));
        let reported: Vec<String> = problems.iter().map(|p| p.field.clone()).collect();
        let checked = self.checked();
        if let Err(more) = &checked {
            problems.extend(
                more.iter()
                    .filter(|p| !reported.contains(&p.field))
                    .cloned(),
            );
        }
        match checked {
            Ok(settings) if problems.is_empty() => Ok(settings),
            _ => Err(ApiError::BadAccount(problems)),
        }
    }

    /// Sets each field of `map`; the problems are those of the values' types and of unknown
    /// fields (ranges and names are [`AccountSettings::checked`]'s).
    fn apply(&mut self, map: Map<String, Value>) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        for (key, value) in map {
            let field = key.as_str();
            let result = match field {
                "name" => text(field, &value).map(|v| self.name = v.trim().to_owned()),
                "time_zone" => text(field, &value).map(|v| self.time_zone = v.trim().to_owned()),
                "charge_type" => text(field, &value).map(|v| self.charge_type = v),
                "period_end_day" => whole(field, &value, "1 to 31 (31 = the month's last day)")
                    .map(|v| self.period_end_day = v),
                "period_end_hour" => {
                    whole(field, &value, "an hour, 0 to 23").map(|v| self.period_end_hour = v)
                }
                "start_hour" => {
                    whole(field, &value, "an hour, 0 to 23").map(|v| self.start_hour = v)
                }
                "currency_decimals" => {
                    whole(field, &value, "0 to 6 (2 for cents)").map(|v| self.currency_decimals = v)
                }
                "proration" => flag(field, &value).map(|v| self.proration = v),
                "projection" => flag(field, &value).map(|v| self.projection = v),
                "auto_push" => flag(field, &value).map(|v| self.auto_push = v),
                "margin_pct" => decimal(field, &value).map(|v| self.margin_pct = v),
                "notify_email" => optional_text(field, &value).map(|v| self.notify_email = v),
                "notify_webhook" => optional_text(field, &value).map(|v| self.notify_webhook = v),
                _ if READ_ONLY.contains(&field) => Err(FieldProblem::new(
                    field,
                    format!("{field} is set by the service"),
                    "leave it out",
                )),
                _ => Err(FieldProblem::new(
                    field,
                    format!("there is no setting {field:?}"),
                    format!("the settings are {}", FIELDS.join(", ")),
                )),
            };
            if let Err(problem) = result {
                problems.push(problem);
            }
        }
        problems
    }

    /// Checks ranges and names, the core's settings through the core itself, and writes them in
    /// their canonical form (`RATE_ONLY` → `rate-only`, `2.50` → `2.5`).
    fn checked(mut self) -> Result<AccountSettings, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        if let Some((why, hint)) = name_problem(&self.name) {
            problems.push(FieldProblem::new("name", why, hint));
        }
        for (field, hour) in [
            ("period_end_hour", self.period_end_hour),
            ("start_hour", self.start_hour),
        ] {
            if hour > 23 {
                problems.push(FieldProblem::new(
                    field,
                    format!("{hour} is not an hour"),
                    "use 0 to 23 (local time in the account's time zone)",
                ));
            }
        }
        if let Some(address) = &self.notify_email {
            if !plausible_email(address) {
                problems.push(FieldProblem::new(
                    "notify_email",
                    format!("{address:?} is not an email address"),
                    "write one address such as fleet-ops@example.com, or null for none",
                ));
            }
        }
        if let Some(url) = &self.notify_webhook {
            if let Err(why) = webhook_problem(url) {
                problems.push(FieldProblem::new(
                    "notify_webhook",
                    why,
                    "write an http or https URL without user or password, or null for none",
                ));
            }
        }
        // The core decides the rest, with its own messages.
        match Settings::resolve(&self.core_input("2026-01-01T00:00", None)) {
            Ok(settings) => {
                self.charge_type = settings.charge_type.as_str().to_owned();
                self.margin_pct = settings.margin_pct_text();
            }
            Err(errors) => problems.extend(errors.errors().map(|d| {
                FieldProblem::new(
                    d.column.as_deref().unwrap_or("settings"),
                    d.message.clone(),
                    d.hint.clone(),
                )
            })),
        }
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(problems)
        }
    }

    /// The core's settings for a run at `as_of` (text the core reads), in the period ending at
    /// `period_end` (local `YYYY-MM-DDTHH:MM`; `None`: the calendar month of `as_of`).
    pub fn core_input(&self, as_of: &str, period_end: Option<String>) -> SettingsInput {
        let on_off = |b: bool| if b { "on" } else { "off" }.to_owned();
        SettingsInput {
            period_end,
            period_end_day: Some(self.period_end_day.to_string()),
            time_zone: Some(self.time_zone.clone()),
            as_of: Some(as_of.to_owned()),
            proration: Some(on_off(self.proration)),
            charge_type: Some(self.charge_type.clone()),
            projection: Some(on_off(self.projection)),
            margin_pct: Some(self.margin_pct.clone()),
            currency_decimals: Some(self.currency_decimals.to_string()),
            account_name: Some(self.name.clone()),
        }
    }

    /// The end of the billing period running at `now` (RFC 3339), as local
    /// `YYYY-MM-DDTHH:MM` in the account's zone.
    pub fn period_end_after(&self, now: &str) -> Option<String> {
        let settings = Settings::resolve(&self.core_input(now, None)).ok()?;
        let end = next_end(
            settings.as_of,
            settings.period.zone,
            self.period_end_day,
            self.period_end_hour,
        )?;
        Some(end.format("%Y-%m-%dT%H:%M").to_string())
    }

    /// A session's moment asked for by hand (`as_of`, local in the account's zone or RFC 3339),
    /// as RFC 3339 UTC: it must read and not be after `now`.
    ///
    /// # Errors
    /// The problem, naming the field.
    pub fn session_moment(&self, as_of: &str, now: &str) -> Result<String, FieldProblem> {
        let zone = Settings::resolve(&self.core_input(now, None))
            .map(|s| s.period.zone)
            .map_err(|_| {
                FieldProblem::new(
                    "as_of",
                    "the account's settings do not resolve",
                    "fix the account's settings",
                )
            })?;
        let problem = |why: &str| {
            FieldProblem::new(
                "as_of",
                why,
                "give a moment up to now, e.g. \"2026-11-20T12:00\" (the account's zone) or \
                 \"2026-11-20T17:00:00Z\"",
            )
        };
        let at = parse_instant(as_of, zone)
            .ok_or_else(|| problem(&format!("{as_of:?} is not a date and time")))?;
        let now = parse_instant(now, zone).ok_or_else(|| problem("the clock does not read"))?;
        if at > now {
            return Err(problem(&format!(
                "{as_of:?} is in the future: usage is not known yet"
            )));
        }
        let utc = chrono::DateTime::from_timestamp(at, 0).ok_or_else(|| problem("out of range"))?;
        Ok(utc.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    /// The end of the period (local `YYYY-MM-DDTHH:MM`) whose scheduled session is due at `now`
    /// (RFC 3339), given when the period's sessions so far were started (RFC 3339); `None` when
    /// none is due ([`simopt_core::period::scheduled_start`]).
    pub fn scheduled_start(&self, now: &str, started: &[String]) -> Option<String> {
        let settings = Settings::resolve(&self.core_input(now, None)).ok()?;
        let zone = settings.period.zone;
        let started: Vec<i64> = started
            .iter()
            .filter_map(|t| parse_instant(t, zone))
            .collect();
        let end = scheduled_start(
            settings.as_of,
            zone,
            self.period_end_day,
            self.period_end_hour,
            self.start_hour,
            &started,
        )?;
        Some(end.format("%Y-%m-%dT%H:%M").to_string())
    }
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// 32 hex digits.
    pub id: String,
    /// Its settings.
    pub settings: AccountSettings,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
    /// When its settings last changed.
    pub updated_at: String,
}

/// An account as answered: id, settings (in the documented order), times, and the end of the
/// period running now.
#[derive(Debug, Serialize)]
pub struct AccountView<'a> {
    id: &'a str,
    #[serde(flatten)]
    settings: &'a AccountSettings,
    created_at: &'a str,
    updated_at: &'a str,
    current_period_end: Option<String>,
}

impl Account {
    /// The account as answered at `now` (RFC 3339).
    pub fn view(&self, now: &str) -> AccountView<'_> {
        AccountView {
            id: &self.id,
            settings: &self.settings,
            created_at: &self.created_at,
            updated_at: &self.updated_at,
            current_period_end: self.settings.period_end_after(now),
        }
    }
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    object_body(
        body,
        "send a JSON object of settings, e.g. {\"name\": \"Acme fleet\", \"time_zone\": \
         \"America/New_York\", \"period_end_day\": 22}",
    )
}

/// A request body that must be a JSON object; `example` tells what to send instead.
///
/// # Errors
/// [`ApiError::BadJson`] for an empty body, one that is not JSON, or JSON that is not an object.
pub(crate) fn object_body(body: &[u8], example: &str) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadJson(format!(
            "the request body is empty; {example}"
        )));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadJson(format!(
            "the request body is not a JSON object; {example}"
        ))),
        Err(e) => Err(ApiError::BadJson(format!(
            "the request body is not JSON: {e}; {example}"
        ))),
    }
}

/// A field that must be a JSON string.
///
/// # Errors
/// The problem, naming the field.
pub(crate) fn text(field: &str, value: &Value) -> Result<String, FieldProblem> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(FieldProblem::new(
            field,
            format!("{field} must be text, not {other}"),
            "write it as a JSON string",
        )),
    }
}

fn optional_text(field: &str, value: &Value) -> Result<Option<String>, FieldProblem> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        other => Err(FieldProblem::new(
            field,
            format!("{field} must be text or null, not {other}"),
            "write it as a JSON string, or null for none",
        )),
    }
}

fn whole(field: &str, value: &Value, range: &str) -> Result<u32, FieldProblem> {
    let n = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    n.and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
        FieldProblem::new(
            field,
            format!("{value} is not a whole number"),
            format!("use {range}"),
        )
    })
}

fn flag(field: &str, value: &Value) -> Result<bool, FieldProblem> {
    let b = match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => simopt_core::settings::parse_flag(s),
        Value::Number(n) => match n.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    };
    b.ok_or_else(|| {
        FieldProblem::new(
            field,
            format!("{value} is not on or off"),
            "use true or false (\"on\"/\"off\" work too)",
        )
    })
}

/// A decimal given as a JSON number or text, as text (the core checks it).
fn decimal(field: &str, value: &Value) -> Result<String, FieldProblem> {
    match value {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s.trim().to_owned()),
        other => Err(FieldProblem::new(
            field,
            format!("{other} is not a number"),
            "write the margin in percent, e.g. 1 or \"2.5\"",
        )),
    }
}

/// One address, `local@domain.tld`, no spaces.
fn plausible_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    address.chars().count() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
}

fn webhook_problem(url: &str) -> Result<(), String> {
    if url.chars().count() > MAX_TARGET_CHARS {
        return Err(format!(
            "the URL is longer than {MAX_TARGET_CHARS} characters"
        ));
    }
    let parsed = worker::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?} is not an http or https URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} names no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the URL carries a user or password".into());
    }
    Ok(())
}

// ---- handlers ----

pub(crate) async fn settings_body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    let media = request::media_type(&content_type);
    if !media.is_empty() && !request::is_json(&media) {
        return Err(ApiError::UnsupportedMediaType {
            content_type,
            accepted: "send the settings as application/json",
        });
    }
    request::read_capped(req, SETTINGS_LIMIT).await
}

fn not_found(id: &str) -> ApiError {
    ApiError::NoSuchAccount { id: id.to_owned() }
}

/// `GET /api/accounts`: the tenant's accounts, oldest first.
///
/// # Errors
/// A storage error.
pub async fn list(store: &Store, tenant: &Tenant) -> Result<Response, ApiError> {
    let now = clock::now_rfc3339();
    let accounts = store.accounts(&tenant.id).await?;
    #[derive(Serialize)]
    struct List<'a> {
        accounts: Vec<AccountView<'a>>,
    }
    let list = List {
        accounts: accounts.iter().map(|a| a.view(&now)).collect(),
    };
    Ok(json_answer(200, &list)?)
}

/// `POST /api/accounts`: a new account; answers 201 and the account.
///
/// # Errors
/// 400/413/415 for a body that is not good settings; a storage error.
pub async fn create(
    mut req: Request,
    store: &Store,
    tenant: &Tenant,
) -> Result<Response, ApiError> {
    let settings = AccountSettings::create(&settings_body(&mut req).await?)?;
    let now = clock::now_rfc3339();
    let account = Account {
        id: auth::new_id()?,
        settings,
        created_at: now.clone(),
        updated_at: now.clone(),
    };
    store.insert_account(&tenant.id, &account).await?;
    let mut response = json_answer(201, &account.view(&now))?;
    response
        .headers_mut()
        .set("location", &format!("/api/accounts/{}", account.id))?;
    Ok(response)
}

/// The tenant's account `id`.
///
/// # Errors
/// [`ApiError::NoSuchAccount`] when the tenant has none of that id (another tenant's is none
/// of its); a storage error.
pub async fn find(store: &Store, tenant: &Tenant, id: &str) -> Result<Account, ApiError> {
    store
        .account(&tenant.id, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// `GET /api/accounts/:id`.
///
/// # Errors
/// As [`find`].
pub async fn get(store: &Store, tenant: &Tenant, id: &str) -> Result<Response, ApiError> {
    let account = find(store, tenant, id).await?;
    Ok(json_answer(200, &account.view(&clock::now_rfc3339()))?)
}

/// `PATCH /api/accounts/:id`: changes some settings; answers the account.
///
/// # Errors
/// As [`find`], and as [`create`] for the body.
pub async fn patch(
    mut req: Request,
    store: &Store,
    tenant: &Tenant,
    id: &str,
) -> Result<Response, ApiError> {
    let mut account = find(store, tenant, id).await?;
    account.settings = account.settings.patched(&settings_body(&mut req).await?)?;
    let now = clock::now_rfc3339();
    account.updated_at = now.clone();
    if !store.update_account(&tenant.id, &account).await? {
        return Err(not_found(id));
    }
    Ok(json_answer(200, &account.view(&now))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(result: Result<AccountSettings, ApiError>) -> Vec<(String, String)> {
        match result {
            Err(ApiError::BadAccount(problems)) => {
                problems.into_iter().map(|p| (p.field, p.message)).collect()
            }
            other => panic!("expected bad settings, got {other:?}"),
        }
    }

    fn fields(result: Result<AccountSettings, ApiError>) -> Vec<String> {
        problems(result).into_iter().map(|p| p.0).collect()
    }

    #[test]
    fn a_name_alone_gives_the_defaults() {
        let s = AccountSettings::create(br#"{"name": " Acme "}"#).expect("valid");
        assert_eq!(
            s,
            AccountSettings {
                name: "Acme".into(),
                ..AccountSettings::default()
            }
        );
    }

    #[test]
    fn every_field_is_read_and_written_canonically() {
        let body = br#"{"name":"Acme","time_zone":"America/New_York","period_end_day":"22",
            "period_end_hour":6,"start_hour":2,"proration":"off","charge_type":"OVERAGE_ONLY",
            "projection":false,"margin_pct":2.50,"currency_decimals":3,
            "notify_email":"ops@example.com","notify_webhook":"http://127.0.0.1:9/hook",
            "auto_push":true}"#;
        let s = AccountSettings::create(body).expect("valid");
        assert_eq!(s.time_zone, "America/New_York");
        assert_eq!(
            (s.period_end_day, s.period_end_hour, s.start_hour),
            (22, 6, 2)
        );
        assert!(!s.proration && !s.projection && s.auto_push);
        assert_eq!(s.charge_type, "overage-only");
        assert_eq!(s.margin_pct, "2.5");
        assert_eq!(s.currency_decimals, 3);
        assert_eq!(s.notify_email.as_deref(), Some("ops@example.com"));
        assert_eq!(s.notify_webhook.as_deref(), Some("http://127.0.0.1:9/hook"));
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: [(&[u8], &str); 14] = [
            (br#"{"time_zone":"UTC"}"#, "name"),
            (br#"{"name":""}"#, "name"),
            (br#"{"name":"A","time_zone":"Mars/Olympus"}"#, "time_zone"),
            (br#"{"name":"A","period_end_day":0}"#, "period_end_day"),
            (br#"{"name":"A","period_end_day":32}"#, "period_end_day"),
            (br#"{"name":"A","period_end_hour":24}"#, "period_end_hour"),
            (br#"{"name":"A","start_hour":-1}"#, "start_hour"),
            (br#"{"name":"A","charge_type":"free"}"#, "charge_type"),
            (br#"{"name":"A","margin_pct":"-1"}"#, "margin_pct"),
            (
                br#"{"name":"A","currency_decimals":9}"#,
                "currency_decimals",
            ),
            (br#"{"name":"A","proration":"maybe"}"#, "proration"),
            (br#"{"name":"A","notify_email":"ops"}"#, "notify_email"),
            (
                br#"{"name":"A","notify_webhook":"ftp://h/x"}"#,
                "notify_webhook",
            ),
            (br#"{"name":"A","colour":"red"}"#, "colour"),
        ];
        for (body, field) in cases {
            let got = fields(AccountSettings::create(body));
            assert_eq!(got, [field], "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn all_problems_at_once_with_the_core_messages() {
        let got = problems(AccountSettings::create(
            br#"{"name":"A","time_zone":"Mars/Olympus","period_end_hour":24,"id":"x"}"#,
        ));
        let names: Vec<&str> = got.iter().map(|p| p.0.as_str()).collect();
        assert!(names.contains(&"time_zone"), "{got:?}");
        assert!(names.contains(&"period_end_hour"), "{got:?}");
        assert!(names.contains(&"id"), "{got:?}");
        let zone = got
            .iter()
            .find(|p| p.0 == "time_zone")
            .map(|p| p.1.as_str());
        assert_eq!(zone, Some("unknown time zone \"Mars/Olympus\""));
    }

    #[test]
    fn bodies_that_are_not_objects() {
        for body in [&b""[..], b"  ", b"[1]", b"{name:", b"\"x\""] {
            let error = AccountSettings::create(body).expect_err("not an object");
            assert_eq!(
                error.code(),
                "bad-json",
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn a_patch_changes_only_its_fields() {
        let s = AccountSettings::create(br#"{"name":"A","notify_email":"a@b.co"}"#).expect("ok");
        let p = s
            .patched(br#"{"start_hour":5,"notify_email":null}"#)
            .expect("ok");
        assert_eq!(p.start_hour, 5);
        assert_eq!(p.notify_email, None);
        assert_eq!(p.name, "A");
        assert_eq!(fields(s.patched(br#"{"name":"  "}"#)), ["name"]);
        assert_eq!(
            fields(s.patched(br#"{"start_hour":"noon"}"#)),
            ["start_hour"]
        );
        assert_eq!(s.patched(b"{}").expect("no change"), s);
    }

    #[test]
    fn the_current_period_end() {
        let s = AccountSettings::create(
            br#"{"name":"A","time_zone":"America/New_York","period_end_day":22}"#,
        )
        .expect("ok");
        assert_eq!(
            s.period_end_after("2026-11-20T17:00:00Z").as_deref(),
            Some("2026-11-22T00:00")
        );
        assert_eq!(
            s.period_end_after("2026-11-22T05:00:00Z").as_deref(),
            Some("2026-12-22T00:00")
        );
        let account = Account {
            id: "a".into(),
            settings: s,
            created_at: "t0".into(),
            updated_at: "t1".into(),
        };
        let text = serde_json::to_string(&account.view("2026-11-20T17:00:00Z")).expect("json");
        assert!(
            text.starts_with(r#"{"id":"a","name":"A","time_zone":"America/New_York","#),
            "{text}"
        );
        let json: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(json["current_period_end"], "2026-11-22T00:00");
        assert_eq!(json["id"], "a");
        assert_eq!(json["period_end_day"], 22);
        assert_eq!(json["proration"], true);
        assert_eq!(json["notify_webhook"], Value::Null);
    }

    #[test]
    fn a_period_of_a_month_end_account_starts_where_the_last_one_ended() {
        // Periods ending on the 31st at 17:00: April's ends on the 30th and starts on 31 March
        // at 17:00, where March's ended — the core's period, not "one month before the end".
        let s = AccountSettings::create(
            br#"{"name":"A","time_zone":"UTC","period_end_day":31,"period_end_hour":17}"#,
        )
        .expect("ok");
        let now = "2026-04-20T09:00:00Z";
        let end = s.period_end_after(now).expect("an end");
        assert_eq!(end, "2026-04-30T17:00");
        let settings = Settings::resolve(&s.core_input(now, Some(end))).expect("valid");
        assert_eq!(
            settings.period.format_instant(settings.period.start),
            "2026-03-31T17:00:00+00:00"
        );
        assert_eq!(settings.period.days(), 30);
    }

    #[test]
    fn email_and_webhook_shapes() {
        assert!(plausible_email("fleet-ops@example.com"));
        for bad in [
            "",
            "a",
            "@b.co",
            "a@b",
            "a@.co",
            "a@b.",
            "a b@c.co",
            "a@b.co,c@d.co",
        ] {
            assert!(!plausible_email(bad), "{bad}");
        }
        assert!(webhook_problem("https://127.0.0.1/hook").is_ok());
        for bad in [
            "127.0.0.1/hook",
            "ftp://h/x",
            "https://u:p@127.0.0.1/",
            "mailto:a@b.co",
        ] {
            assert!(webhook_problem(bad).is_err(), "{bad}");
        }
    }
}
