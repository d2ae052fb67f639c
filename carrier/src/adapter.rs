//! The carrier adapter trait: what simopt needs from a carrier, as requests to build and
//! responses to read. Cisco IoT Control Center ([`crate::control_center`]) implements it first;
//! Verizon ThingSpace is shaped to fit next.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::CarrierError;
use crate::http::{HttpRequest, HttpResponse};

/// The operations, for error messages and statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operation {
    /// A page of devices modified since a date.
    ListDevices,
    /// One device's details.
    DeviceDetails,
    /// One device's cycle-to-date usage.
    DeviceUsage,
    /// A page of the account's rate plans.
    RatePlans,
    /// Change one device's rate plan.
    ChangeRatePlan,
}

impl Operation {
    /// The operation's name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::ListDevices => "list devices",
            Operation::DeviceDetails => "device details",
            Operation::DeviceUsage => "device usage",
            Operation::RatePlans => "list rate plans",
            Operation::ChangeRatePlan => "change rate plan",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The account's API secret. Never printed, never serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps the secret.
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The secret, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Where and as whom to call the carrier: one per carrier account. Not part of any saved job
/// state (secrets stay in the account's secret store); the caller passes it at every step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The API's base URL, e.g. `https://controlcenter.example` (the adapter appends its paths).
    pub base_url: String,
    /// The API user name.
    pub username: String,
    /// The API key.
    pub api_key: ApiKey,
}

impl Account {
    /// An account; the base URL must be `https://` (or `http://127.0.0.1` for tests).
    ///
    /// # Errors
    /// [`CarrierError::BadSetting`] for another scheme or an empty user name.
    pub fn new(
        base_url: &str,
        username: &str,
        api_key: impl Into<String>,
    ) -> Result<Account, CarrierError> {
        let base_url = base_url.trim().trim_end_matches('/');
        let local =
            base_url.starts_with("http://127.0.0.1") || base_url.starts_with("http://[::1]");
        if !(base_url.starts_with("https://") || local) {
            return Err(CarrierError::BadSetting {
                setting: "base URL".into(),
                problem: format!(
                    "{base_url:?} is not an https:// URL; write the carrier API's address, e.g. \
                     https://controlcenter.example (plain http only to 127.0.0.1, for tests)"
                ),
            });
        }
        if username.trim().is_empty() {
            return Err(CarrierError::BadSetting {
                setting: "user name".into(),
                problem: "it is empty; write the carrier API user's name".into(),
            });
        }
        Ok(Account {
            base_url: base_url.to_owned(),
            username: username.trim().to_owned(),
            api_key: ApiKey::new(api_key),
        })
    }
}

/// A device as listed (a page of devices modified since a date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSummary {
    /// ICCID.
    pub iccid: String,
    /// SIM status, if listed.
    pub status: Option<String>,
    /// Rate plan, if listed.
    pub rate_plan: Option<String>,
    /// Communication plan, if listed.
    pub communication_plan: Option<String>,
}

/// A page of devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePage {
    /// The devices, oldest change first.
    pub devices: Vec<DeviceSummary>,
    /// Whether no page follows.
    pub last_page: bool,
}

/// One device's details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceDetails {
    /// ICCID.
    pub iccid: String,
    /// Phone number.
    pub msisdn: Option<String>,
    /// SIM status as the carrier writes it (`ACTIVATED`, `DEACTIVATED`...).
    pub status: String,
    /// Current rate plan.
    pub rate_plan: String,
    /// Communication plan.
    pub communication_plan: String,
    /// First activation, Unix milliseconds.
    pub date_activated_ms: Option<i64>,
    /// Last change of the device's information, Unix milliseconds.
    pub date_modified_ms: Option<i64>,
}

/// One device's cycle-to-date usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceUsage {
    /// ICCID.
    pub iccid: String,
    /// Data in bytes since the cycle began.
    pub data_bytes: u64,
    /// SMS (MO + MT) since the cycle began.
    pub sms_count: u64,
}

/// A rate plan as the carrier lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarrierRatePlan {
    /// The name devices carry in `ratePlan` (the key for changes).
    pub name: String,
    /// The plan's type as the carrier writes it, if given.
    pub plan_type: Option<String>,
    /// Monthly subscription charge in the carrier's currency, as written (a decimal string).
    pub subscription_charge: Option<String>,
    /// Included data in MB, as written.
    pub included_data_mb: Option<String>,
}

/// A page of rate plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatePlanPage {
    /// The plans.
    pub plans: Vec<CarrierRatePlan>,
    /// Whether no page follows.
    pub last_page: bool,
}

/// A carrier API, sans-IO: each operation is a request builder and a response parser. Parsers
/// map the status first (401 → [`CarrierError::BadCredentials`], 404 →
/// [`CarrierError::UnknownDevice`], 429 → [`CarrierError::RateLimited`] with `Retry-After`,
/// 5xx → [`CarrierError::Transient`]), then read the body into typed values or a
/// [`CarrierError::Malformed`] naming the field.
pub trait Carrier {
    /// The adapter's name, for logs.
    fn name(&self) -> &'static str;

    /// Devices modified since a moment (Unix ms; `None`: all), one page (1-based).
    fn list_devices(&self, modified_since_ms: Option<i64>, page: u32) -> HttpRequest;
    /// Reads a page of devices.
    ///
    /// # Errors
    /// The status's error, or a malformed body.
    fn parse_device_page(&self, response: &HttpResponse) -> Result<DevicePage, CarrierError>;

    /// One device's details.
    fn device_details(&self, iccid: &str) -> HttpRequest;
    /// Reads one device's details.
    ///
    /// # Errors
    /// The status's error, or a malformed body.
    fn parse_device_details(
        &self,
        iccid: &str,
        response: &HttpResponse,
    ) -> Result<DeviceDetails, CarrierError>;

    /// One device's cycle-to-date usage.
    fn device_usage(&self, iccid: &str) -> HttpRequest;
    /// Reads one device's usage.
    ///
    /// # Errors
    /// The status's error, or a malformed body.
    fn parse_device_usage(
        &self,
        iccid: &str,
        response: &HttpResponse,
    ) -> Result<DeviceUsage, CarrierError>;

    /// The account's rate plans, one page (1-based).
    fn rate_plans(&self, page: u32) -> HttpRequest;
    /// Reads a page of rate plans.
    ///
    /// # Errors
    /// The status's error, or a malformed body.
    fn parse_rate_plans(&self, response: &HttpResponse) -> Result<RatePlanPage, CarrierError>;

    /// Moves a device to a rate plan, now or from a moment (Unix ms).
    fn change_rate_plan(
        &self,
        iccid: &str,
        rate_plan: &str,
        effective_ms: Option<i64>,
    ) -> HttpRequest;
    /// Reads the answer to a change.
    ///
    /// # Errors
    /// The status's error, or a malformed body.
    fn parse_change(&self, iccid: &str, response: &HttpResponse) -> Result<(), CarrierError>;
}
