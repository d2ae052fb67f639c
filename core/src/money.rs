//! Money and data sizes as exact integers.
//!
//! * [`Money`] counts millionths of the account's currency (`1.00` = 1,000,000). Rates and
//!   charges in input files may carry up to six decimals.
//! * [`Bytes`] counts bytes; `1 MB = 1,048,576 bytes` as carriers report.
//!
//! **The rounding rule.** Every bill line — a SIM's (prorated) base charge, a SIM's SMS charge, a
//! pool's overage charge — is rounded to the currency's minor unit (cents by default), half away
//! from zero, with [`Money::round_to_unit`]. Everything above a line is a sum of lines, so every
//! printed total reconciles with the lines under it to the cent.

use std::fmt;
use std::ops::{Add, AddAssign, Mul, Sub};

use serde::{Serialize, Serializer};

use crate::decimal::{format_scaled, Decimal, DecimalError};

/// Decimals of [`Money`]'s internal unit.
pub const MONEY_DECIMALS: u32 = 6;
const MICROS: i64 = 1_000_000;

/// An exact amount of money in millionths of the currency unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// From millionths of the currency unit.
    pub const fn from_micros(micros: i64) -> Self {
        Money(micros)
    }

    /// From whole minor units of a currency with `decimals` decimals (cents: `decimals = 2`).
    pub const fn from_minor(minor: i64, decimals: u32) -> Self {
        Money(minor * 10i64.pow(MONEY_DECIMALS - decimals))
    }

    /// Millionths of the currency unit.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// The nearest double to the amount in currency units, as a spreadsheet cell or a chart
    /// holds it (never used for a bill: bills are summed exactly).
    pub(crate) fn to_f64(self) -> f64 {
        self.0 as f64 / MICROS as f64
    }

    /// Parses decimal text in currency units (`"12.50"`). At most six decimals; a leading
    /// currency symbol (`$`, `€`, `£`) is allowed.
    ///
    /// # Errors
    /// [`DecimalError`] when the text is not a plain decimal, too large, or too precise.
    pub fn parse(text: &str) -> Result<Self, DecimalError> {
        let trimmed = text.trim();
        let trimmed = trimmed
            .strip_prefix(['$', '€', '£'])
            .map_or(trimmed, str::trim_start);
        let decimal = Decimal::parse(trimmed)?;
        let magnitude = decimal.magnitude_scaled_exact(MONEY_DECIMALS)?;
        let magnitude = i64::try_from(magnitude).map_err(|_| DecimalError::TooLarge)?;
        if magnitude > MAX_MONEY_MICROS {
            return Err(DecimalError::TooLarge);
        }
        Ok(Money(if decimal.is_negative() {
            -magnitude
        } else {
            magnitude
        }))
    }

    /// `self × numerator / denominator`, rounded to the minor unit of a currency with
    /// `decimals` decimals, half away from zero. Used for proration and quantities.
    pub fn mul_ratio_round(self, numerator: i64, denominator: i64, decimals: u32) -> Money {
        debug_assert!(denominator > 0);
        let unit = i128::from(10i64.pow(MONEY_DECIMALS - decimals));
        let exact_num = i128::from(self.0) * i128::from(numerator);
        let den = i128::from(denominator) * unit;
        Money((round_div(exact_num, den) * unit) as i64)
    }

    /// Rounds to the minor unit of a currency with `decimals` decimals, half away from zero.
    pub fn round_to_unit(self, decimals: u32) -> Money {
        self.mul_ratio_round(1, 1, decimals)
    }

    /// The amount in minor units (exact only for amounts already rounded to the unit).
    pub fn minor_units(self, decimals: u32) -> i64 {
        self.0 / 10i64.pow(MONEY_DECIMALS - decimals)
    }

    /// Decimal text with at least two and at most six decimals (`"12.50"`, `"0.0025"`).
    pub fn to_decimal_string(self) -> String {
        self.to_string()
    }
}

/// Amounts above this (a thousand billion currency units) are rejected on input, which keeps every
/// sum over a few million SIMs far from `i64`'s range.
const MAX_MONEY_MICROS: i64 = 1_000_000_000_000 * MICROS;

/// Integer division rounding half away from zero; `den > 0`.
pub(crate) fn round_div(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_scaled(f, i128::from(self.0), MONEY_DECIMALS, 2)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Mul<u64> for Money {
    type Output = Money;
    fn mul(self, rhs: u64) -> Money {
        Money(self.0 * rhs as i64)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

/// An exact amount of data in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

/// Bytes in one MB, as carriers count.
pub const BYTES_PER_MB: u64 = 1_048_576;
/// `10^20 / 2^20`: one byte written in MB has exactly 20 decimals.
const MB_DECIMALS: u32 = 20;
const FIVE_POW_20: i128 = 95_367_431_640_625;
/// Data amounts above this (a billion MB) are rejected on input.
const MAX_BYTES: u64 = 1_000_000_000 * BYTES_PER_MB;

impl Bytes {
    /// Zero bytes.
    pub const ZERO: Bytes = Bytes(0);

    /// Whole MB.
    pub const fn from_mb(mb: u64) -> Self {
        Bytes(mb * BYTES_PER_MB)
    }

    /// Parses an amount in MB (`"12.5"`, `"0.00000095367431640625"`), rounded to the nearest byte.
    ///
    /// # Errors
    /// [`DecimalError`] when the text is not a plain decimal or too large. Negative values parse
    /// (the caller reports them with context) as an error too.
    pub fn parse_mb(text: &str) -> Result<Self, DecimalError> {
        let decimal = Decimal::parse(text)?;
        if decimal.is_negative() {
            return Err(DecimalError::Syntax);
        }
        let bytes = decimal.magnitude_times_rounded(u128::from(BYTES_PER_MB))?;
        Self::checked(bytes)
    }

    /// Parses a whole number of bytes.
    ///
    /// # Errors
    /// [`DecimalError`] when the text is not a whole non-negative number or too large.
    pub fn parse_bytes(text: &str) -> Result<Self, DecimalError> {
        let decimal = Decimal::parse(text)?;
        if decimal.is_negative() {
            return Err(DecimalError::Syntax);
        }
        Self::checked(decimal.magnitude_scaled_exact(0)?)
    }

    fn checked(bytes: u128) -> Result<Self, DecimalError> {
        match u64::try_from(bytes) {
            Ok(b) if b <= MAX_BYTES => Ok(Bytes(b)),
            _ => Err(DecimalError::TooLarge),
        }
    }

    /// The amount in MB as a double, as a spreadsheet cell holds it (exact for any realistic
    /// amount: the divisor is a power of two).
    pub(crate) fn to_mb_f64(self) -> f64 {
        self.0 as f64 / BYTES_PER_MB as f64
    }

    /// The amount in MB as exact decimal text (up to 20 decimals, none if whole).
    pub fn to_mb_string(self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = format_scaled(&mut out, i128::from(self.0) * FIVE_POW_20, MB_DECIMALS, 0);
        out
    }

    /// `self × numerator / denominator`, rounded to the nearest byte (ties up).
    pub fn mul_ratio_round(self, numerator: u64, denominator: u64) -> Bytes {
        let num = u128::from(self.0) * u128::from(numerator);
        let den = u128::from(denominator);
        Bytes(((num + den / 2) / den) as u64)
    }
}

impl Add for Bytes {
    type Output = Bytes;
    fn add(self, rhs: Bytes) -> Bytes {
        Bytes(self.0 + rhs.0)
    }
}

impl AddAssign for Bytes {
    fn add_assign(&mut self, rhs: Bytes) {
        self.0 += rhs.0;
    }
}

impl std::iter::Sum for Bytes {
    fn sum<I: Iterator<Item = Bytes>>(iter: I) -> Bytes {
        iter.fold(Bytes::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_exactly() {
        let cases: &[(&str, Result<i64, DecimalError>)] = &[
            ("12.50", Ok(12_500_000)),
            ("$ 3", Ok(3_000_000)),
            ("€0.0025", Ok(2_500)),
            ("-1.5", Ok(-1_500_000)),
            (
                "0.1234567",
                Err(DecimalError::TooPrecise { max_decimals: 6 }),
            ),
            ("1000000000001", Err(DecimalError::TooLarge)),
            ("ten", Err(DecimalError::Syntax)),
        ];
        for (text, want) in cases {
            assert_eq!(Money::parse(text).map(Money::micros), *want, "{text:?}");
        }
    }

    #[test]
    fn proration_rounds_to_the_cent_half_away_from_zero() {
        // $10 × 7/31 = $2.258064… → $2.26
        assert_eq!(
            Money::parse("10").map(|m| m.mul_ratio_round(7, 31, 2)),
            Ok(Money::from_micros(2_260_000))
        );
        // $0.005 → $0.01 (half away from zero); -$0.005 → -$0.01
        assert_eq!(Money::from_micros(5_000).round_to_unit(2).micros(), 10_000);
        assert_eq!(
            Money::from_micros(-5_000).round_to_unit(2).micros(),
            -10_000
        );
        assert_eq!(Money::from_micros(4_999).round_to_unit(2).micros(), 0);
        // Whole currency units (decimals = 0): 2.5 → 3
        assert_eq!(
            Money::from_micros(2_500_000).round_to_unit(0).micros(),
            3_000_000
        );
    }

    #[test]
    fn bytes_round_trip_through_mb_text() {
        for bytes in [0u64, 1, 2, 1_048_575, 1_048_576, 1_572_864, 123_456_789_012] {
            let text = Bytes(bytes).to_mb_string();
            assert_eq!(Bytes::parse_mb(&text), Ok(Bytes(bytes)), "{text}");
        }
        assert_eq!(Bytes(1_572_864).to_mb_string(), "1.5");
        assert_eq!(Bytes(1).to_mb_string(), "0.00000095367431640625");
    }

    #[test]
    fn usage_bytes_must_be_whole() {
        assert_eq!(Bytes::parse_bytes("1024"), Ok(Bytes(1024)));
        assert!(Bytes::parse_bytes("10.5").is_err());
        assert!(Bytes::parse_mb("-1").is_err());
    }
}
