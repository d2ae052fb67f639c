//! An account's carrier connection and change rules (`/api/accounts/:id/carrier`): where its
//! SIMs come from (the carrier's API, synced at the start of every session) and the rules its
//! pushes keep. `PUT` sets them (the API key sealed at rest, [`crate::sealed`]), `GET` answers
//! them without the key, `DELETE` removes the connection (sessions then optimize the uploaded
//! SIMs file, as without a carrier). Whether the changes are pushed without approval is the
//! account's `auto_push` setting.
//!
//! ```json
//! {"kind": "control_center", "base_url": "https://controlcenter.example", "username": "api-user",
//!  "api_key": "…", "max_changes_per_sim_per_month": 1, "earliest_effective_date": "2026-12-01"}
//! ```

use serde::Serialize;
use serde_json::{Map, Value};
use simopt_carrier::{ChangeRules, ControlCenter};
use worker::{Env, Request, Response};

use crate::accounts::{self, text, FieldProblem};
use crate::auth::Tenant;
use crate::error::ApiError;
use crate::store::Store;
use crate::{clock, json_answer, sealed};

/// The carrier kinds the service speaks.
pub const KINDS: [&str; 1] = ["control_center"];
/// The fields of the body.
pub const FIELDS: [&str; 6] = [
    "kind",
    "base_url",
    "username",
    "api_key",
    "max_changes_per_sim_per_month",
    "earliest_effective_date",
];
const MAX_TEXT_CHARS: usize = 1_024;

/// An account's carrier connection, as stored (the key sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierSettings {
    /// The account.
    pub account_id: String,
    /// `control_center`.
    pub kind: String,
    /// The API's base URL.
    pub base_url: String,
    /// The API user.
    pub username: String,
    /// The API key, sealed ([`sealed::seal`]).
    pub api_key_sealed: String,
    /// The carrier's limit of rate plan changes per SIM per calendar month, if any.
    pub max_changes_per_sim_per_month: Option<u32>,
    /// Changes may not take effect before this day (`YYYY-MM-DD`, the account's zone), if set.
    pub earliest_effective_date: Option<String>,
    /// When it was first set (RFC 3339).
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

/// The connection as answered: never the key.
#[derive(Debug, Serialize)]
pub struct CarrierView<'a> {
    account_id: &'a str,
    kind: &'a str,
    base_url: &'a str,
    username: &'a str,
    /// Always true: a key is stored (it is never answered).
    api_key_set: bool,
    max_changes_per_sim_per_month: Option<u32>,
    earliest_effective_date: Option<&'a str>,
    created_at: &'a str,
    updated_at: &'a str,
    /// The account's last sync, if any.
    last_sync: Option<Value>,
}

impl CarrierSettings {
    /// The view answered.
    pub fn view(&self, last_sync: Option<Value>) -> CarrierView<'_> {
        CarrierView {
            account_id: &self.account_id,
            kind: &self.kind,
            base_url: &self.base_url,
            username: &self.username,
            api_key_set: true,
            max_changes_per_sim_per_month: self.max_changes_per_sim_per_month,
            earliest_effective_date: self.earliest_effective_date.as_deref(),
            created_at: &self.created_at,
            updated_at: &self.updated_at,
            last_sync,
        }
    }

    /// The adapter, with the key opened under `secret`.
    ///
    /// # Errors
    /// The key does not open, or the stored URL or user is not usable (both checked when set).
    pub fn adapter(&self, secret: &str) -> Result<ControlCenter, String> {
        let key = sealed::open(secret, &self.account_id, &self.api_key_sealed)
            .map_err(|e| e.to_string())?;
        let account = simopt_carrier::Account::new(&self.base_url, &self.username, key)
            .map_err(|e| format!("the account's carrier connection is not usable: {e}"))?;
        Ok(ControlCenter::new(account))
    }

    /// The push's change rules: the carrier's (from these settings) and the service's own
    /// defaults (batches of 250, a 10-minute buffer, 60 changes a minute without history).
    /// `earliest_effective_ms` is the earliest effective date's start in the account's zone.
    pub fn rules(&self, earliest_effective_ms: Option<i64>) -> ChangeRules {
        ChangeRules {
            max_changes_per_sim_per_month: self.max_changes_per_sim_per_month,
            earliest_effective_ms,
            ..ChangeRules::default()
        }
    }
}

/// What a `PUT` body asks for, checked; `api_key` is `None` when the body keeps the stored one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierInput {
    /// `control_center`.
    pub kind: String,
    /// The base URL, without a trailing slash.
    pub base_url: String,
    /// The API user.
    pub username: String,
    /// The API key, in clear (sealed before it is stored), or none to keep the stored one.
    pub api_key: Option<String>,
    /// Changes per SIM per month.
    pub max_changes_per_sim_per_month: Option<u32>,
    /// `YYYY-MM-DD`.
    pub earliest_effective_date: Option<String>,
}

impl CarrierInput {
    /// Reads and checks a `PUT` body; `has_key`: a key is stored already (the body may leave
    /// it out).
    ///
    /// # Errors
    /// [`ApiError::BadJson`] for a body that is not a JSON object; [`ApiError::BadAccount`]
    /// with every problem, each naming its field.
    pub fn read(body: &[u8], has_key: bool) -> Result<CarrierInput, ApiError> {
        let map = object(body)?;
        let mut problems = Vec::new();
        let mut input = CarrierInput {
            kind: String::new(),
            base_url: String::new(),
            username: String::new(),
            api_key: None,
            max_changes_per_sim_per_month: None,
            earliest_effective_date: None,
        };
        for (key, value) in &map {
            let field = key.as_str();
            let result = match field {
                "kind" => text(field, value).map(|v| input.kind = v.trim().to_owned()),
                "base_url" => text(field, value).map(|v| input.base_url = v.trim().to_owned()),
                "username" => text(field, value).map(|v| input.username = v.trim().to_owned()),
                "api_key" => text(field, value).map(|v| input.api_key = Some(v)),
                "max_changes_per_sim_per_month" => match value {
                    Value::Null => Ok(()),
                    Value::Number(n) => match n.as_u64().filter(|n| *n <= 1_000) {
                        Some(n) => {
                            input.max_changes_per_sim_per_month = Some(n as u32);
                            Ok(())
                        }
                        None => Err(FieldProblem::new(
                            field,
                            format!("{n} is not a whole number from 0 to 1000"),
                            "write the carrier's limit, e.g. 1, or null for none",
                        )),
                    },
                    other => Err(FieldProblem::new(
                        field,
                        format!("{other} is not a number"),
                        "write the carrier's limit, e.g. 1, or null for none",
                    )),
                },
                "earliest_effective_date" => match value {
                    Value::Null => Ok(()),
                    Value::String(s) if date_ok(s.trim()) => {
                        input.earliest_effective_date = Some(s.trim().to_owned());
                        Ok(())
                    }
                    other => Err(FieldProblem::new(
                        field,
                        format!("{other} is not a date"),
                        "write YYYY-MM-DD (the account's zone), or null for none",
                    )),
                },
                _ => Err(FieldProblem::new(
                    field,
                    format!("there is no carrier setting {field:?}"),
                    format!("the carrier settings are {}", FIELDS.join(", ")),
                )),
            };
            if let Err(p) = result {
                problems.push(p);
            }
        }
        let named = |problems: &[FieldProblem], f: &str| problems.iter().any(|p| p.field == f);
        if !named(&problems, "kind") && !KINDS.contains(&input.kind.as_str()) {
            let message = if input.kind.is_empty() {
                "the kind of carrier is missing".to_owned()
            } else {
                format!("{:?} is not a carrier the service speaks", input.kind)
            };
            problems.push(FieldProblem::new(
                "kind",
                message,
                "write \"control_center\" (Cisco IoT Control Center)",
            ));
        }
        if !named(&problems, "base_url") {
            if let Some(why) = base_url_problem(&input.base_url) {
                problems.push(FieldProblem::new(
                    "base_url",
                    why,
                    "write the API's https:// address, e.g. https://controlcenter.example \
                     (plain http only to 127.0.0.1, for tests)",
                ));
            } else {
                input.base_url = input.base_url.trim_end_matches('/').to_owned();
            }
        }
        if !named(&problems, "username") {
            if let Some(why) = line_problem(&input.username) {
                problems.push(FieldProblem::new(
                    "username",
                    format!("the user name {why}"),
                    "write the carrier API user's name",
                ));
            }
        }
        if !named(&problems, "api_key") {
            match &input.api_key {
                None if !has_key => problems.push(FieldProblem::new(
                    "api_key",
                    "the API key is missing",
                    "write the carrier API key (it is stored sealed and never shown again)",
                )),
                Some(key) => {
                    if let Some(why) = line_problem(key) {
                        problems.push(FieldProblem::new(
                            "api_key",
                            format!("the API key {why}"),
                            "paste the key exactly as the carrier gave it",
                        ));
                    }
                }
                None => {}
            }
        }
        if problems.is_empty() {
            Ok(input)
        } else {
            Err(ApiError::BadAccount(problems))
        }
    }
}

fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    accounts::object_body(
        body,
        "send a JSON object of carrier settings, e.g. {\"kind\": \"control_center\", \
         \"base_url\": \"https://controlcenter.example\", \"username\": \"api-user\", \
         \"api_key\": \"…\"}",
    )
}

/// What is wrong with a one-line value (a user name, a key), if anything.
fn line_problem(value: &str) -> Option<String> {
    if value.trim().is_empty() {
        Some("is empty".into())
    } else if value.chars().count() > MAX_TEXT_CHARS {
        Some(format!("is longer than {MAX_TEXT_CHARS} characters"))
    } else if value.chars().any(char::is_control) {
        Some("holds a line break or another control character".into())
    } else {
        None
    }
}

fn base_url_problem(url: &str) -> Option<String> {
    if url.is_empty() {
        return Some("the base URL is missing".into());
    }
    if url.chars().count() > MAX_TEXT_CHARS {
        return Some(format!(
            "the base URL is longer than {MAX_TEXT_CHARS} characters"
        ));
    }
    let parsed = match worker::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(e) => return Some(format!("{url:?} is not a URL: {e}")),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some(
            "the URL carries a user or password (give them as username and api_key)".into(),
        );
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Some("the URL carries a query or fragment".into());
    }
    simopt_carrier::Account::new(url, "check", "check")
        .err()
        .map(|e| e.to_string())
}

/// Whether `text` is a `YYYY-MM-DD` date.
fn date_ok(text: &str) -> bool {
    text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

// ---- handlers ----

/// `GET /api/accounts/:id/carrier`.
///
/// # Errors
/// 404 for another tenant's or no account, or an account without a carrier; a storage error.
pub async fn get(store: &Store, tenant: &Tenant, id: &str) -> Result<Response, ApiError> {
    let account = accounts::find(store, tenant, id).await?;
    let settings = store
        .carrier_settings(&tenant.id, &account.id)
        .await?
        .ok_or_else(|| ApiError::NoCarrier {
            account: account.id.clone(),
        })?;
    let last = store.last_sync(&account.id).await?;
    Ok(json_answer(200, &settings.view(last.map(|s| s.view())))?)
}

/// `PUT /api/accounts/:id/carrier`: sets the connection and rules; answers them (200).
///
/// # Errors
/// 404 for another tenant's or no account; 400 naming each bad field; 503 without the sealing
/// secret; a storage error.
pub async fn put(
    mut req: Request,
    env: &Env,
    store: &Store,
    tenant: &Tenant,
    id: &str,
) -> Result<Response, ApiError> {
    let account = accounts::find(store, tenant, id).await?;
    let body = accounts::settings_body(&mut req).await?;
    let stored = store.carrier_settings(&tenant.id, &account.id).await?;
    let input = CarrierInput::read(&body, stored.is_some())?;
    let api_key_sealed = match (&input.api_key, &stored) {
        (Some(key), _) => {
            let secret = sealed::secret(env).map_err(ApiError::CarrierSecret)?;
            sealed::seal(&secret, &account.id, key).map_err(ApiError::CarrierSecret)?
        }
        (None, Some(stored)) => stored.api_key_sealed.clone(),
        (None, None) => unreachable_missing_key()?,
    };
    let now = clock::now_rfc3339();
    let settings = CarrierSettings {
        account_id: account.id.clone(),
        kind: input.kind,
        base_url: input.base_url,
        username: input.username,
        api_key_sealed,
        max_changes_per_sim_per_month: input.max_changes_per_sim_per_month,
        earliest_effective_date: input.earliest_effective_date,
        created_at: stored.map_or_else(|| now.clone(), |s| s.created_at),
        updated_at: now,
    };
    store.put_carrier_settings(&tenant.id, &settings).await?;
    let last = store.last_sync(&account.id).await?;
    Ok(json_answer(200, &settings.view(last.map(|s| s.view())))?)
}

fn unreachable_missing_key() -> Result<String, ApiError> {
    Err(ApiError::BadAccount(vec![FieldProblem::new(
        "api_key",
        "the API key is missing",
        "write the carrier API key",
    )]))
}

/// `DELETE /api/accounts/:id/carrier`: removes the connection (200 `{"removed": true}`).
///
/// # Errors
/// 404 for another tenant's or no account, or none set; a storage error.
pub async fn delete(store: &Store, tenant: &Tenant, id: &str) -> Result<Response, ApiError> {
    let account = accounts::find(store, tenant, id).await?;
    if !store
        .delete_carrier_settings(&tenant.id, &account.id)
        .await?
    {
        return Err(ApiError::NoCarrier {
            account: account.id.clone(),
        });
    }
    Ok(json_answer(
        200,
        &serde_json::json!({ "account_id": account.id, "removed": true }),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str, has_key: bool) -> Vec<String> {
        match CarrierInput::read(body.as_bytes(), has_key) {
            Err(ApiError::BadAccount(p)) => p.into_iter().map(|p| p.field).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    const GOOD: &str = r#"{"kind":"control_center","base_url":"https://cc.example/","username":" u ","api_key":"k","max_changes_per_sim_per_month":1,"earliest_effective_date":"2026-12-01"}"#;

    #[test]
    fn a_good_body_is_read_canonically() {
        let input = CarrierInput::read(GOOD.as_bytes(), false).expect("good");
        assert_eq!(input.base_url, "https://cc.example");
        assert_eq!(input.username, "u");
        assert_eq!(input.api_key.as_deref(), Some("k"));
        assert_eq!(input.max_changes_per_sim_per_month, Some(1));
        assert_eq!(input.earliest_effective_date.as_deref(), Some("2026-12-01"));
        let local = r#"{"kind":"control_center","base_url":"http://127.0.0.1:9999","username":"u","api_key":"k"}"#;
        assert!(CarrierInput::read(local.as_bytes(), false).is_ok());
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (
                r#"{"base_url":"https://a.example","username":"u","api_key":"k"}"#,
                "kind",
            ),
            (
                r#"{"kind":"thingspace","base_url":"https://a.example","username":"u","api_key":"k"}"#,
                "kind",
            ),
            (
                r#"{"kind":"control_center","base_url":"http://a.example","username":"u","api_key":"k"}"#,
                "base_url",
            ),
            (
                r#"{"kind":"control_center","base_url":"https://u:p@a.example","username":"u","api_key":"k"}"#,
                "base_url",
            ),
            (
                r#"{"kind":"control_center","base_url":"nope","username":"u","api_key":"k"}"#,
                "base_url",
            ),
            (
                r#"{"kind":"control_center","base_url":"https://a.example","username":" ","api_key":"k"}"#,
                "username",
            ),
            (
                r#"{"kind":"control_center","base_url":"https://a.example","username":"u"}"#,
                "api_key",
            ),
            (
                r#"{"kind":"control_center","base_url":"https://a.example","username":"u","api_key":"a\nb"}"#,
                "api_key",
            ),
            (
                r#"{"kind":"control_center","base_url":"https://a.example","username":"u","api_key":"k","max_changes_per_sim_per_month":-1}"#,
                "max_changes_per_sim_per_month",
            ),
            (
                r#"{"kind":"control_center","base_url":"https://a.example","username":"u","api_key":"k","earliest_effective_date":"2026-13-01"}"#,
                "earliest_effective_date",
            ),
            (
                r#"{"kind":"control_center","base_url":"https://a.example","username":"u","api_key":"k","password":"x"}"#,
                "password",
            ),
        ];
        for (body, field) in cases {
            assert_eq!(fields(body, false), [field], "{body}");
        }
        // A stored key may be kept.
        let keep = r#"{"kind":"control_center","base_url":"https://a.example","username":"u"}"#;
        assert!(CarrierInput::read(keep.as_bytes(), true).is_ok());
        assert!(matches!(
            CarrierInput::read(b"[1]", false),
            Err(ApiError::BadJson(_))
        ));
    }
}
