//! Cisco IoT Control Center (the REST API under `/rws/api/v1`), the platform behind several
//! operators' IoT offers.
//!
//! | operation | request |
//! |---|---|
//! | list devices | `GET /rws/api/v1/devices?modifiedSince=…&pageSize=50&pageNumber=N` |
//! | device details | `GET /rws/api/v1/devices/{iccid}` |
//! | device usage | `GET /rws/api/v1/devices/{iccid}/ctdUsages` |
//! | rate plans | `GET /rws/api/v1/rateplans?pageSize=50&pageNumber=N` |
//! | change rate plan | `PUT /rws/api/v1/devices/{iccid}` with `{"ratePlan": …[, "effectiveDate": …]}` |
//!
//! Authentication is HTTP Basic with the API user name and API key. Pages hold at most 50
//! records; `lastPage` says whether another follows. Dates come as `2026-11-02 10:20:30.000+0000`
//! (or ISO 8601); `modifiedSince` and `effectiveDate` are sent as ISO 8601 with an offset. Errors
//! carry `{"errorCode": …, "errorMessage": …}`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::adapter::{
    Account, Carrier, CarrierRatePlan, DeviceDetails, DevicePage, DeviceSummary, DeviceUsage,
    Operation, RatePlanPage,
};
use crate::error::CarrierError;
use crate::http::{basic_auth, encode_component, HttpRequest, HttpResponse, Method};

/// The largest page Control Center serves.
pub const PAGE_SIZE: u32 = 50;

/// The Control Center adapter for one account.
#[derive(Debug, Clone)]
pub struct ControlCenter {
    account: Account,
}

impl ControlCenter {
    /// The adapter for an account.
    pub fn new(account: Account) -> ControlCenter {
        ControlCenter { account }
    }

    /// The account.
    pub fn account(&self) -> &Account {
        &self.account
    }

    fn request(&self, method: Method, path_and_query: &str, body: Option<String>) -> HttpRequest {
        let mut headers = vec![
            (
                "Authorization".to_owned(),
                basic_auth(&self.account.username, self.account.api_key.expose()),
            ),
            ("Accept".to_owned(), "application/json".to_owned()),
        ];
        if body.is_some() {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        HttpRequest {
            method,
            url: format!("{}/rws/api/v1{path_and_query}", self.account.base_url),
            headers,
            body,
        }
    }
}

/// `2026-11-02T10:20:30+00:00`, as Control Center takes dates.
pub fn format_date(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Reads a Control Center date: `2026-11-02 10:20:30.123+0000`, or ISO 8601 / RFC 3339.
pub fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    for format in ["%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.timestamp_millis());
        }
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Maps a non-2xx status to its error. `iccid` names the device for a 404.
fn check_status(
    operation: Operation,
    iccid: Option<&str>,
    response: &HttpResponse,
) -> Result<(), CarrierError> {
    let status = response.status;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let operation_name = operation.as_str().to_owned();
    let message = error_message(&response.body);
    let detail = message.map(|m| format!(": {m}")).unwrap_or_default();
    Err(match (status, iccid) {
        (401, _) => CarrierError::BadCredentials {
            operation: operation_name,
        },
        (403, _) => CarrierError::Forbidden {
            operation: operation_name,
            detail,
        },
        (404, Some(iccid)) => CarrierError::UnknownDevice {
            iccid: iccid.to_owned(),
            operation: operation_name,
        },
        (429, _) => CarrierError::RateLimited {
            operation: operation_name,
            retry_after_ms: response.retry_after_ms(),
        },
        (408 | 500..=599, _) => CarrierError::Transient {
            operation: operation_name,
            status,
            detail,
        },
        _ => CarrierError::Rejected {
            operation: operation_name,
            status,
            detail,
        },
    })
}

/// `errorMessage (errorCode)` from an error body, when it has them.
fn error_message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let message = value.get("errorMessage")?.as_str()?.trim().to_owned();
    let code = value.get("errorCode").and_then(|c| match c {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    Some(match code {
        Some(code) => format!("{message} (error code {code})"),
        None => message,
    })
}

/// A JSON object being read, naming the operation and the field in every error.
struct Fields<'a> {
    operation: Operation,
    prefix: String,
    object: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn root(operation: Operation, body: &'a Value) -> Result<Fields<'a>, CarrierError> {
        let object = body.as_object().ok_or_else(|| {
            CarrierError::malformed(
                operation.as_str(),
                "(body)",
                format!("expected a JSON object, found {}", kind(body)),
            )
        })?;
        Ok(Fields {
            operation,
            prefix: String::new(),
            object,
        })
    }

    fn path(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    fn malformed(&self, field: &str, problem: impl Into<String>) -> CarrierError {
        CarrierError::malformed(self.operation.as_str(), &self.path(field), problem)
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.object.get(field).filter(|v| !v.is_null())
    }

    fn string(&self, field: &str) -> Result<String, CarrierError> {
        self.opt_string(field)?
            .ok_or_else(|| self.malformed(field, "missing (a string is required)"))
    }

    fn opt_string(&self, field: &str) -> Result<Option<String>, CarrierError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => {
                Err(self.malformed(field, format!("expected a string, found {}", kind(other))))
            }
        }
    }

    /// A non-negative integer, as a JSON number or a string of digits.
    fn count(&self, field: &str) -> Result<u64, CarrierError> {
        let value = self
            .get(field)
            .ok_or_else(|| self.malformed(field, "missing (a number is required)"))?;
        let parsed = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        parsed.ok_or_else(|| {
            self.malformed(
                field,
                format!("expected a whole number of 0 or more, found {value}"),
            )
        })
    }

    fn boolean(&self, field: &str) -> Result<bool, CarrierError> {
        match self.get(field) {
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
            Some(other) => {
                Err(self.malformed(field, format!("expected true or false, found {other}")))
            }
            None => Err(self.malformed(field, "missing (true or false is required)")),
        }
    }

    fn opt_date(&self, field: &str) -> Result<Option<i64>, CarrierError> {
        match self.opt_string(field)? {
            None => Ok(None),
            Some(text) if text.trim().is_empty() => Ok(None),
            Some(text) => parse_date(&text).map(Some).ok_or_else(|| {
                self.malformed(
                    field,
                    format!(
                        "{text:?} is not a date (expected 2026-11-02 10:20:30.000+0000 or ISO 8601)"
                    ),
                )
            }),
        }
    }

    fn array(&self, field: &str) -> Result<&'a Vec<Value>, CarrierError> {
        match self.get(field) {
            Some(Value::Array(items)) => Ok(items),
            Some(other) => {
                Err(self.malformed(field, format!("expected an array, found {}", kind(other))))
            }
            None => Err(self.malformed(field, "missing (an array is required)")),
        }
    }

    fn item(
        &self,
        field: &str,
        index: usize,
        value: &'a Value,
    ) -> Result<Fields<'a>, CarrierError> {
        let path = format!("{}{field}[{index}]", self.prefix);
        let object = value.as_object().ok_or_else(|| {
            CarrierError::malformed(
                self.operation.as_str(),
                &path,
                format!("expected an object, found {}", kind(value)),
            )
        })?;
        Ok(Fields {
            operation: self.operation,
            prefix: format!("{path}."),
            object,
        })
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads an answer: its status (a 404 naming `iccid`), then its body, a JSON object, by `parse`.
fn read<T>(
    operation: Operation,
    iccid: Option<&str>,
    response: &HttpResponse,
    parse: impl FnOnce(&Fields<'_>) -> Result<T, CarrierError>,
) -> Result<T, CarrierError> {
    check_status(operation, iccid, response)?;
    let body: Value = serde_json::from_slice(&response.body).map_err(|e| {
        CarrierError::malformed(operation.as_str(), "(body)", format!("not JSON: {e}"))
    })?;
    parse(&Fields::root(operation, &body)?)
}

/// Reads a page: the objects in `field`, each by `item`, and whether it is the last.
fn page<T>(
    operation: Operation,
    response: &HttpResponse,
    field: &str,
    item: impl Fn(&Fields<'_>) -> Result<T, CarrierError>,
) -> Result<(Vec<T>, bool), CarrierError> {
    read(operation, None, response, |fields| {
        let items = fields
            .array(field)?
            .iter()
            .enumerate()
            .map(|(i, value)| item(&fields.item(field, i, value)?))
            .collect::<Result<Vec<T>, CarrierError>>()?;
        Ok((items, fields.boolean("lastPage")?))
    })
}

/// The ICCID in an answer must be the one asked for.
fn same_device(fields: &Fields<'_>, asked: &str) -> Result<String, CarrierError> {
    let iccid = fields.string("iccid")?;
    if iccid != asked {
        return Err(fields.malformed(
            "iccid",
            format!("the answer is about device {iccid}, not {asked}, the one asked for"),
        ));
    }
    Ok(iccid)
}

impl Carrier for ControlCenter {
    fn name(&self) -> &'static str {
        "Cisco IoT Control Center"
    }

    fn list_devices(&self, modified_since_ms: Option<i64>, page: u32) -> HttpRequest {
        // Control Center requires modifiedSince: "all devices" is "since 2000".
        let since = modified_since_ms.unwrap_or(FULL_SYNC_SINCE_MS);
        self.request(
            Method::Get,
            &format!(
                "/devices?modifiedSince={}&pageSize={PAGE_SIZE}&pageNumber={page}",
                encode_component(&format_date(since))
            ),
            None,
        )
    }

    fn parse_device_page(&self, response: &HttpResponse) -> Result<DevicePage, CarrierError> {
        let (devices, last_page) = page(Operation::ListDevices, response, "devices", |device| {
            Ok(DeviceSummary {
                iccid: device.string("iccid")?,
                status: device.opt_string("status")?,
                rate_plan: device.opt_string("ratePlan")?,
                communication_plan: device.opt_string("communicationPlan")?,
            })
        })?;
        Ok(DevicePage { devices, last_page })
    }

    fn device_details(&self, iccid: &str) -> HttpRequest {
        self.request(
            Method::Get,
            &format!("/devices/{}", encode_component(iccid)),
            None,
        )
    }

    fn parse_device_details(
        &self,
        iccid: &str,
        response: &HttpResponse,
    ) -> Result<DeviceDetails, CarrierError> {
        read(Operation::DeviceDetails, Some(iccid), response, |f| {
            Ok(DeviceDetails {
                iccid: same_device(f, iccid)?,
                msisdn: f.opt_string("msisdn")?,
                status: f.string("status")?,
                rate_plan: f.string("ratePlan")?,
                communication_plan: f.string("communicationPlan")?,
                date_activated_ms: f.opt_date("dateActivated")?,
                date_modified_ms: f.opt_date("dateModified")?.or(f.opt_date("dateUpdated")?),
            })
        })
    }

    fn device_usage(&self, iccid: &str) -> HttpRequest {
        self.request(
            Method::Get,
            &format!("/devices/{}/ctdUsages", encode_component(iccid)),
            None,
        )
    }

    fn parse_device_usage(
        &self,
        iccid: &str,
        response: &HttpResponse,
    ) -> Result<DeviceUsage, CarrierError> {
        read(Operation::DeviceUsage, Some(iccid), response, |f| {
            Ok(DeviceUsage {
                iccid: same_device(f, iccid)?,
                data_bytes: f.count("ctdDataUsage")?,
                sms_count: f.count("ctdSMSUsage")?,
            })
        })
    }

    fn rate_plans(&self, page: u32) -> HttpRequest {
        self.request(
            Method::Get,
            &format!("/rateplans?pageSize={PAGE_SIZE}&pageNumber={page}"),
            None,
        )
    }

    fn parse_rate_plans(&self, response: &HttpResponse) -> Result<RatePlanPage, CarrierError> {
        let (plans, last_page) = page(Operation::RatePlans, response, "ratePlans", |plan| {
            Ok(CarrierRatePlan {
                name: plan.string("name")?,
                plan_type: plan.opt_string("type")?,
                subscription_charge: plan.opt_string("subscriptionCharge")?,
                included_data_mb: plan.opt_string("includedData")?,
            })
        })?;
        Ok(RatePlanPage { plans, last_page })
    }

    fn change_rate_plan(
        &self,
        iccid: &str,
        rate_plan: &str,
        effective_ms: Option<i64>,
    ) -> HttpRequest {
        let mut body = Map::new();
        body.insert("ratePlan".into(), Value::String(rate_plan.to_owned()));
        if let Some(ms) = effective_ms {
            body.insert("effectiveDate".into(), Value::String(format_date(ms)));
        }
        self.request(
            Method::Put,
            &format!("/devices/{}", encode_component(iccid)),
            Some(Value::Object(body).to_string()),
        )
    }

    fn parse_change(&self, iccid: &str, response: &HttpResponse) -> Result<(), CarrierError> {
        read(Operation::ChangeRatePlan, Some(iccid), response, |f| {
            same_device(f, iccid)?;
            Ok(())
        })
    }
}

/// `modifiedSince` of a full listing: 2000-01-01T00:00:00Z.
pub const FULL_SYNC_SINCE_MS: i64 = 946_684_800_000;
