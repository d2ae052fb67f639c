//! Typed values out of row text, each problem reported with its file, row and column.

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::decimal::DecimalError;
use crate::diagnostics::{Code, Collector, Location};
use crate::money::{Bytes, Money};
use crate::period;
use crate::settings::parse_flag;

/// Reads values of one row, reporting problems at `file`/`row`.
pub(crate) struct FieldReader<'a, 'c> {
    pub at: Location<'a>,
    pub errors: &'c mut Collector,
}

impl FieldReader<'_, '_> {
    fn here<'b>(&self, column: &'b str) -> Location<'b>
    where
        Self: 'b,
    {
        Location {
            file: self.at.file,
            row: self.at.row,
            column: Some(column),
        }
    }

    /// A required text value.
    pub fn required(&mut self, column: &str, text: &str, what: &str) -> Option<String> {
        if text.is_empty() {
            let at = self.here(column);
            self.errors.error(
                Code::MissingValue,
                &at,
                format!("{column} is empty"),
                format!("every row needs {what}"),
            );
            return None;
        }
        Some(text.to_owned())
    }

    /// An optional amount of money, at least zero.
    pub fn money(&mut self, column: &str, text: &str) -> Result<Option<Money>, ()> {
        if text.is_empty() {
            return Ok(None);
        }
        match Money::parse(text) {
            Ok(m) if m.micros() < 0 => {
                let at = self.here(column);
                self.errors.error(
                    Code::NegativeAmount,
                    &at,
                    format!("{column} is {text}, below zero"),
                    "prices and rates cannot be negative; fix the value",
                );
                Err(())
            }
            Ok(m) => Ok(Some(m)),
            Err(e) => {
                self.number_error(column, text, e, "an amount in currency units such as 12.50");
                Err(())
            }
        }
    }

    /// An optional amount of data in MB, at least zero.
    pub fn megabytes(&mut self, column: &str, text: &str) -> Result<Option<Bytes>, ()> {
        self.data(
            column,
            text,
            Bytes::parse_mb,
            "a number of MB such as 512 or 0.75",
        )
    }

    /// An optional amount of data in whole bytes.
    pub fn bytes(&mut self, column: &str, text: &str) -> Result<Option<Bytes>, ()> {
        self.data(column, text, Bytes::parse_bytes, "a whole number of bytes")
    }

    fn data(
        &mut self,
        column: &str,
        text: &str,
        parse: fn(&str) -> Result<Bytes, DecimalError>,
        example: &str,
    ) -> Result<Option<Bytes>, ()> {
        if text.is_empty() {
            return Ok(None);
        }
        match parse(text) {
            Ok(b) => Ok(Some(b)),
            Err(_)
                if text.trim_start().starts_with('-')
                    && parse(&text.replacen('-', "", 1)).is_ok() =>
            {
                let at = self.here(column);
                self.errors.error(
                    Code::NegativeAmount,
                    &at,
                    format!("{column} is {text}, below zero"),
                    "data amounts cannot be negative; fix the value (leave usage empty to bill zero)",
                );
                Err(())
            }
            Err(e) => {
                self.number_error(column, text, e, example);
                Err(())
            }
        }
    }

    /// An optional whole count, at least zero.
    pub fn count(&mut self, column: &str, text: &str) -> Result<Option<u32>, ()> {
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<u64>() {
            Ok(n) => u32::try_from(n).map(Some).map_err(|_| {
                let at = self.here(column);
                self.errors.error(
                    Code::BadNumber,
                    &at,
                    format!("{column} is {text}, more than a SIM sends in a month"),
                    "write the month's count (at most 4294967295); is this column another quantity?",
                );
            }),
            Err(_) => {
                let at = self.here(column);
                let negative = text.starts_with('-') && text[1..].parse::<u64>().is_ok();
                let (code, message) = if negative {
                    (
                        Code::NegativeAmount,
                        format!("{column} is {text}, below zero"),
                    )
                } else {
                    (
                        Code::BadNumber,
                        format!("{column} is {text:?}, not a whole number"),
                    )
                };
                self.errors
                    .error(code, &at, message, "write a whole number such as 0 or 42");
                Err(())
            }
        }
    }

    /// An optional yes/no value.
    pub fn flag(&mut self, column: &str, text: &str) -> Result<Option<bool>, ()> {
        if text.is_empty() {
            return Ok(None);
        }
        match parse_flag(text) {
            Some(b) => Ok(Some(b)),
            None => {
                let at = self.here(column);
                self.errors.error(
                    Code::BadBoolean,
                    &at,
                    format!("{column} is {text:?}, not yes or no"),
                    "write true or false (yes/no and 1/0 work too)",
                );
                Err(())
            }
        }
    }

    /// An optional date, `YYYY-MM-DD`.
    pub fn date(&mut self, column: &str, text: &str) -> Result<Option<NaiveDate>, ()> {
        if text.is_empty() {
            return Ok(None);
        }
        // A time stamp in a date column is read as its date.
        match period::parse_local(text).map(|t| t.date()) {
            Some(d) => Ok(Some(d)),
            None => {
                let at = self.here(column);
                self.errors.error(
                    Code::BadDate,
                    &at,
                    format!("{column} is {text:?}, not a date"),
                    "write dates as YYYY-MM-DD, e.g. 2026-11-05",
                );
                Err(())
            }
        }
    }

    /// An optional time stamp in `zone` (Unix seconds).
    pub fn instant(&mut self, column: &str, text: &str, zone: Tz) -> Result<Option<i64>, ()> {
        if text.is_empty() {
            return Ok(None);
        }
        match period::parse_instant(text, zone) {
            Some(t) => Ok(Some(t)),
            None => {
                let at = self.here(column);
                self.errors.error(
                    Code::BadDate,
                    &at,
                    format!("{column} is {text:?}, not a time stamp"),
                    "write YYYY-MM-DDTHH:MM[:SS] in the account's zone, or RFC 3339 with an offset",
                );
                Err(())
            }
        }
    }

    fn number_error(&mut self, column: &str, text: &str, error: DecimalError, example: &str) {
        let at = self.here(column);
        let hint = match error {
            DecimalError::TooPrecise { .. } => "round the value to at most 6 decimals".to_owned(),
            DecimalError::TooLarge => "check the value and its unit".to_owned(),
            DecimalError::Syntax => {
                format!("write {example}, with a point for decimals and no thousands separators")
            }
        };
        self.errors.error(
            Code::BadNumber,
            &at,
            format!("{column} is {text:?}, which {error}"),
            hint,
        );
    }
}
