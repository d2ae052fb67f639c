//! Account settings: as the user writes them ([`SettingsInput`], text from flags, `account.toml`,
//! JSON or a form) and as the engine uses them ([`Settings`], validated).

use std::fmt;

use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize};

use crate::decimal::{format_scaled, Decimal};
use crate::diagnostics::{Code, Collector, InputErrors, Location};
use crate::period::{self, BillingPeriod};

/// Which parts of a plan's price the carrier bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChargeType {
    /// Monthly rate charge plus overage (the default).
    #[default]
    RateAndOverage,
    /// Overage only (the rate charge is billed in advance, elsewhere).
    OverageOnly,
    /// Rate charge only (no overage is billed).
    RateOnly,
}

impl ChargeType {
    /// Whether the monthly rate charge is billed.
    pub fn bills_rate(self) -> bool {
        self != ChargeType::OverageOnly
    }

    /// Whether overage is billed.
    pub fn bills_overage(self) -> bool {
        self != ChargeType::RateOnly
    }

    /// The name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeType::RateAndOverage => "rate-and-overage",
            ChargeType::OverageOnly => "overage-only",
            ChargeType::RateOnly => "rate-only",
        }
    }
}

impl fmt::Display for ChargeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Account settings as text, before validation. Every field is optional; see [`Settings`] for the
/// defaults. Field names are snake_case; camelCase spellings are accepted too, and values may be
/// JSON strings, numbers or booleans.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// Local end of the billing period, `YYYY-MM-DDTHH:MM`. Default: the end of the calendar month
    /// holding `as_of`.
    #[serde(default, alias = "periodEnd", deserialize_with = "scalar")]
    pub period_end: Option<String>,
    /// The day of the month the account's periods end on, 1–31 (clamped to short months: 31
    /// ends April on the 30th). With it a period starts where the one before ended (the period
    /// ending 30 April starts on 31 March, not 30 March), `period_end` must fall on that day,
    /// and without `period_end` the period ends on that day at midnight. Default: none.
    #[serde(default, alias = "periodEndDay", deserialize_with = "scalar")]
    pub period_end_day: Option<String>,
    /// IANA time zone (`America/New_York`). Default `UTC`.
    #[serde(default, alias = "timeZone", alias = "tz", deserialize_with = "scalar")]
    pub time_zone: Option<String>,
    /// When the run happens, `YYYY-MM-DDTHH:MM` in the zone or RFC 3339. Required: the core has no
    /// clock, so front ends pass "now".
    #[serde(default, alias = "asOf", deserialize_with = "scalar")]
    pub as_of: Option<String>,
    /// `on`/`off` (also true/false, yes/no, 1/0). Default on.
    #[serde(default, deserialize_with = "scalar")]
    pub proration: Option<String>,
    /// `rate-and-overage` (default), `overage-only` or `rate-only`.
    #[serde(default, alias = "chargeType", deserialize_with = "scalar")]
    pub charge_type: Option<String>,
    /// Project usage to the period end: `on` (default) or `off`.
    #[serde(default, deserialize_with = "scalar")]
    pub projection: Option<String>,
    /// Projection margin in percent (`1` = 1 %, the default).
    #[serde(
        default,
        alias = "marginPct",
        alias = "margin",
        deserialize_with = "scalar"
    )]
    pub margin_pct: Option<String>,
    /// Decimals of the currency's minor unit, 0–6 (default 2: cents).
    #[serde(default, alias = "currencyDecimals", deserialize_with = "scalar")]
    pub currency_decimals: Option<String>,
    /// The account's name, shown on reports (the Excel report's title); no effect on the bill.
    #[serde(default, alias = "accountName", deserialize_with = "scalar")]
    pub account_name: Option<String>,
}

/// Accepts a JSON/TOML string, number or boolean as text.
fn scalar<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Bool(bool),
        Int(i64),
        Float(f64),
    }
    Ok(
        Option::<Scalar>::deserialize(deserializer)?.map(|s| match s {
            Scalar::Text(t) => t,
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
        }),
    )
}

impl SettingsInput {
    /// Fills each field that is unset here from `other` (flags over a settings file).
    pub fn or(self, other: SettingsInput) -> SettingsInput {
        SettingsInput {
            period_end: self.period_end.or(other.period_end),
            period_end_day: self.period_end_day.or(other.period_end_day),
            time_zone: self.time_zone.or(other.time_zone),
            as_of: self.as_of.or(other.as_of),
            proration: self.proration.or(other.proration),
            charge_type: self.charge_type.or(other.charge_type),
            projection: self.projection.or(other.projection),
            margin_pct: self.margin_pct.or(other.margin_pct),
            currency_decimals: self.currency_decimals.or(other.currency_decimals),
            account_name: self.account_name.or(other.account_name),
        }
    }
}

/// Validated account settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The billing period being optimized.
    pub period: BillingPeriod,
    /// When the run happens (Unix seconds).
    pub as_of: i64,
    /// Prorate charge and allowance of SIMs activated inside the period.
    pub proration: bool,
    /// What the carrier bills.
    pub charge_type: ChargeType,
    /// Project usage to the period end.
    pub projection: bool,
    /// Projection margin in parts per million (1 % = 10,000).
    pub margin_ppm: u64,
    /// Decimals of the currency's minor unit (2 = cents).
    pub currency_decimals: u32,
}

/// Largest projection margin accepted, in percent.
const MAX_MARGIN_PCT: u64 = 1_000;

impl Settings {
    /// Validates settings text.
    ///
    /// # Errors
    /// [`InputErrors`] naming each bad setting and how to write it.
    pub fn resolve(input: &SettingsInput) -> Result<Settings, InputErrors> {
        let mut errors = Collector::default();
        let settings = Self::resolve_into(input, &mut errors);
        match settings {
            Some(s) if !errors.has_errors() => Ok(s),
            _ => Err(InputErrors {
                diagnostics: errors.finish(),
            }),
        }
    }

    pub(crate) fn resolve_into(input: &SettingsInput, errors: &mut Collector) -> Option<Settings> {
        let at = |name: &'static str| Location::file("settings").column(name);
        let zone = match input.time_zone.as_deref().map(str::trim) {
            None | Some("") => Some(Tz::UTC),
            Some(name) => match name.parse::<Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    errors.error(
                        Code::BadSetting,
                        &at("time_zone"),
                        format!("unknown time zone {name:?}"),
                        "use an IANA zone name such as America/New_York, Europe/Berlin or UTC",
                    );
                    None
                }
            },
        };
        let zone_or_utc = zone.unwrap_or(Tz::UTC);
        let as_of = match input.as_of.as_deref().map(str::trim) {
            None | Some("") => {
                errors.error(
                    Code::BadSetting,
                    &at("as_of"),
                    "the time of the run (as_of) is missing",
                    "pass the current time as YYYY-MM-DDTHH:MM (the command line does this for you)",
                );
                None
            }
            Some(text) => {
                let t = period::parse_instant(text, zone_or_utc);
                if t.is_none() {
                    errors.error(
                        Code::BadSetting,
                        &at("as_of"),
                        format!("{text:?} is not a time stamp"),
                        "write YYYY-MM-DDTHH:MM in the account's zone, or RFC 3339 with an offset",
                    );
                }
                t
            }
        };
        let end_day = match input.period_end_day.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => match text.parse::<u32>() {
                Ok(day) if (1..=31).contains(&day) => Some(day),
                _ => {
                    errors.error(
                        Code::BadSetting,
                        &at("period_end_day"),
                        format!("{text:?} is not a day of the month"),
                        "give the day the account's periods end on, 1 to 31 (31: the last day of every month)",
                    );
                    None
                }
            },
        };
        let period = match input.period_end.as_deref().map(str::trim) {
            None | Some("") => as_of.and_then(|t| match end_day {
                None => BillingPeriod::calendar_month_of(t, zone_or_utc),
                Some(day) => period::next_end(t, zone_or_utc, day, 0)
                    .and_then(|end| BillingPeriod::ending_on_day(end, zone_or_utc, day)),
            }),
            Some(text) => match period::parse_local(text) {
                None => {
                    errors.error(
                        Code::BadSetting,
                        &at("period_end"),
                        format!("{text:?} is not a local date and time"),
                        "write the period end as YYYY-MM-DDTHH:MM in the account's zone, e.g. 2026-11-22T00:00",
                    );
                    None
                }
                Some(end) => match end_day {
                    None => BillingPeriod::ending_at(end, zone_or_utc),
                    Some(day) => {
                        let p = BillingPeriod::ending_on_day(end, zone_or_utc, day);
                        if p.is_none() {
                            errors.error(
                                Code::BadSetting,
                                &at("period_end"),
                                format!("{text:?} is not on the account's period end day {day}"),
                                "give the end of a period on that day (clamped to short months: day 31 ends April on the 30th), or fix period_end_day",
                            );
                        }
                        p
                    }
                },
            },
        };
        let proration = on_off(input.proration.as_deref(), true, &at("proration"), errors);
        let projection = on_off(input.projection.as_deref(), true, &at("projection"), errors);
        let charge_type = match input.charge_type.as_deref().map(str::trim) {
            None | Some("") => Some(ChargeType::RateAndOverage),
            Some(text) => match text.to_ascii_lowercase().replace('_', "-").as_str() {
                "rate-and-overage" | "rate+overage" => Some(ChargeType::RateAndOverage),
                "overage-only" => Some(ChargeType::OverageOnly),
                "rate-only" => Some(ChargeType::RateOnly),
                _ => {
                    errors.error(
                        Code::BadSetting,
                        &at("charge_type"),
                        format!("unknown charge type {text:?}"),
                        "use rate-and-overage, overage-only or rate-only",
                    );
                    None
                }
            },
        };
        let margin_ppm = match input
            .margin_pct
            .as_deref()
            .map(|t| t.trim().trim_end_matches('%'))
        {
            None | Some("") => Some(10_000),
            Some(text) => {
                let ppm = Decimal::parse(text)
                    .ok()
                    .filter(|d| !d.is_negative())
                    .and_then(|d| d.magnitude_scaled_exact(4).ok())
                    .and_then(|v| u64::try_from(v).ok())
                    .filter(|v| *v <= MAX_MARGIN_PCT * 10_000);
                if ppm.is_none() {
                    errors.error(
                        Code::BadSetting,
                        &at("margin_pct"),
                        format!(
                            "{text:?} is not a margin in percent between 0 and {MAX_MARGIN_PCT}"
                        ),
                        "write the margin in percent with at most 4 decimals, e.g. 1 or 2.5",
                    );
                }
                ppm
            }
        };
        let currency_decimals = match input.currency_decimals.as_deref().map(str::trim) {
            None | Some("") => Some(2),
            Some(text) => {
                let d = text.parse::<u32>().ok().filter(|d| *d <= 6);
                if d.is_none() {
                    errors.error(
                        Code::BadSetting,
                        &at("currency_decimals"),
                        format!("{text:?} is not a number of decimals from 0 to 6"),
                        "use 2 for cents, 0 for currencies without minor units",
                    );
                }
                d
            }
        };
        Some(Settings {
            period: period?,
            as_of: as_of?,
            proration: proration?,
            charge_type: charge_type?,
            projection: projection?,
            margin_ppm: margin_ppm?,
            currency_decimals: currency_decimals?,
        })
    }

    /// Whether the run is at or after the end of the period (usage is final).
    pub fn period_closed(&self) -> bool {
        self.as_of >= self.period.end
    }

    /// How the bill takes usage, in words: `usage projected to the period end (+1 % margin)`,
    /// `usage as reported (projection off)` or `usage as reported (the period has ended)`.
    pub fn usage_note(&self) -> String {
        if !self.projection {
            "usage as reported (projection off)".to_owned()
        } else if self.period_closed() {
            "usage as reported (the period has ended)".to_owned()
        } else {
            format!(
                "usage projected to the period end (+{} % margin)",
                self.margin_pct_text()
            )
        }
    }

    /// The margin as percent text (`"1"`, `"2.5"`).
    pub fn margin_pct_text(&self) -> String {
        let mut s = String::new();
        let _ = format_scaled(&mut s, i128::from(self.margin_ppm), 4, 0);
        s
    }
}

/// Reads on/off, true/false, yes/no, y/n, 1/0 (any case): every yes/no setting and column.
pub fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "y" | "1" => Some(true),
        "off" | "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

fn on_off(
    text: Option<&str>,
    default: bool,
    at: &Location<'_>,
    errors: &mut Collector,
) -> Option<bool> {
    match text.map(str::trim) {
        None | Some("") => Some(default),
        Some(t) => {
            let v = parse_flag(t);
            if v.is_none() {
                errors.error(
                    Code::BadSetting,
                    at,
                    format!("{t:?} is not on or off"),
                    "use on or off (true/false, yes/no and 1/0 work too)",
                );
            }
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(as_of: &str) -> SettingsInput {
        SettingsInput {
            as_of: Some(as_of.into()),
            ..SettingsInput::default()
        }
    }

    #[test]
    fn defaults() {
        let s = Settings::resolve(&input("2026-11-10T12:00")).expect("valid");
        assert!(s.proration && s.projection);
        assert_eq!(s.charge_type, ChargeType::RateAndOverage);
        assert_eq!(s.margin_ppm, 10_000);
        assert_eq!(s.currency_decimals, 2);
        assert_eq!(s.period.end_date.to_string(), "2026-12-01");
        assert_eq!(s.margin_pct_text(), "1");
    }

    #[test]
    fn every_bad_setting_is_reported_at_once() {
        let bad = SettingsInput {
            period_end: Some("22/11/2026".into()),
            time_zone: Some("Mars/Olympus".into()),
            as_of: Some("yesterday".into()),
            proration: Some("maybe".into()),
            charge_type: Some("free".into()),
            projection: Some("2".into()),
            margin_pct: Some("-1".into()),
            currency_decimals: Some("9".into()),
            period_end_day: Some("32".into()),
            account_name: None,
        };
        let errors = Settings::resolve(&bad).expect_err("invalid");
        let columns: Vec<_> = errors.errors().filter_map(|d| d.column.clone()).collect();
        for name in [
            "period_end",
            "time_zone",
            "as_of",
            "proration",
            "charge_type",
            "projection",
            "margin_pct",
            "currency_decimals",
            "period_end_day",
        ] {
            assert!(
                columns.iter().any(|c| c == name),
                "{name} not reported: {errors}"
            );
        }
    }

    #[test]
    fn an_end_day_starts_the_period_where_the_last_one_ended() {
        let with = |end: Option<&str>, day: &str| {
            Settings::resolve(&SettingsInput {
                period_end: end.map(Into::into),
                period_end_day: Some(day.into()),
                ..input("2026-04-20T12:00")
            })
        };
        let s = with(Some("2026-04-30T00:00"), "31").expect("valid");
        assert_eq!(s.period.start_date.to_string(), "2026-03-31");
        assert_eq!(s.period.days(), 30);
        // No end given: the period running at as_of that ends on the day.
        let s = with(None, "31").expect("valid");
        assert_eq!(
            (
                s.period.start_date.to_string(),
                s.period.end_date.to_string()
            ),
            ("2026-03-31".into(), "2026-04-30".into())
        );
        // An end that is not on the day, and a day that is not one, name the setting.
        let errors = with(Some("2026-04-29T00:00"), "31").expect_err("not on day 31");
        assert!(errors.to_string().contains("period_end"), "{errors}");
        let errors = with(None, "0").expect_err("no day 0");
        assert!(errors.to_string().contains("period_end_day"), "{errors}");
    }

    #[test]
    fn json_accepts_camel_case_and_scalars() {
        let s: SettingsInput = serde_json::from_str(
            r#"{"periodEnd":"2026-11-22T00:00","tz":"Europe/Berlin","asOf":"2026-11-20T10:00","proration":false,"marginPct":2.5}"#,
        )
        .expect("parses");
        assert_eq!(s.proration.as_deref(), Some("false"));
        assert_eq!(s.margin_pct.as_deref(), Some("2.5"));
        let s = Settings::resolve(&s).expect("valid");
        assert_eq!(s.margin_ppm, 25_000);
        assert!(!s.proration);
    }
}
