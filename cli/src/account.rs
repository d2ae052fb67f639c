//! Account flags and `account.toml`: the settings of a run, as text for the core to validate.

use std::path::PathBuf;

use clap::Args;
use simopt_core::SettingsInput;

use crate::CliError;

/// The account flags of DESIGN §8. Flags override `--account FILE`; unset values take the core's
/// defaults, and `--as-of` defaults to now.
#[derive(Args, Debug, Clone, Default)]
pub struct AccountArgs {
    /// Account settings file (TOML keys: period_end, period_end_day, time_zone, as_of, proration,
    /// charge_type, projection, margin_pct, currency_decimals, account_name).
    #[arg(long, value_name = "FILE")]
    pub account: Option<PathBuf>,
    /// Local end of the billing period [default: end of the current calendar month].
    #[arg(long, value_name = "YYYY-MM-DDTHH:MM")]
    pub period_end: Option<String>,
    /// The day of the month the account's periods end on (1–31, clamped to short months): the
    /// period then starts where the one before ended [default: one month before its end].
    #[arg(long, value_name = "DAY")]
    pub period_end_day: Option<String>,
    /// The account's IANA time zone [default: UTC].
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Time of the run, in the account's zone [default: now].
    #[arg(long, value_name = "YYYY-MM-DDTHH:MM")]
    pub as_of: Option<String>,
    /// Prorate SIMs activated inside the period [default: on].
    #[arg(long, value_name = "on|off")]
    pub proration: Option<String>,
    /// What the carrier bills [default: rate-and-overage].
    #[arg(long, value_name = "rate-and-overage|overage-only|rate-only")]
    pub charge_type: Option<String>,
    /// Project usage to the end of the period [default: on].
    #[arg(long, value_name = "on|off")]
    pub projection: Option<String>,
    /// Projection margin in percent [default: 1].
    #[arg(long, value_name = "PCT", allow_hyphen_values = true)]
    pub margin: Option<String>,
    /// The account's name, for the Excel report's title.
    #[arg(long, value_name = "NAME")]
    pub account_name: Option<String>,
}

impl AccountArgs {
    /// The settings text: flags, then the account file, then "now" for the time of the run.
    ///
    /// # Errors
    /// [`CliError::BadInput`] when the account file cannot be read or is not valid TOML.
    pub fn settings(&self, now: impl FnOnce() -> String) -> Result<SettingsInput, CliError> {
        let flags = SettingsInput {
            period_end: self.period_end.clone(),
            period_end_day: self.period_end_day.clone(),
            time_zone: self.tz.clone(),
            as_of: self.as_of.clone(),
            proration: self.proration.clone(),
            charge_type: self.charge_type.clone(),
            projection: self.projection.clone(),
            margin_pct: self.margin.clone(),
            currency_decimals: None,
            account_name: self.account_name.clone(),
        };
        let file = match &self.account {
            None => SettingsInput::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    CliError::BadInput(format!(
                        "error: cannot read the account file {}: {e}\n  hint: check the path given to --account",
                        path.display()
                    ))
                })?;
                toml::from_str(&text).map_err(|e| {
                    CliError::BadInput(format!(
                        "error: {}: {}\n  hint: keys are period_end, period_end_day, time_zone, as_of, proration, charge_type, projection, margin_pct, currency_decimals, account_name",
                        path.display(),
                        e.to_string().trim_end()
                    ))
                })?
            }
        };
        let mut settings = flags.or(file);
        if settings.as_of.is_none() {
            settings.as_of = Some(now());
        }
        Ok(settings)
    }
}
