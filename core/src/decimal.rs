//! Exact decimal text → scaled integers: the one place numbers from input files are read.
//!
//! Input numbers are decimal text (`12.5`, `0.000123`, `1048576`). They are never turned into
//! binary floating point: a value is split into its integer and fractional digit strings and
//! scaled with integer arithmetic. Rounding, where a caller allows it, is to the nearest integer,
//! ties away from zero.

use std::fmt;

/// Why a piece of text is not a usable decimal number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// Not of the form `[+-]digits[.digits]`.
    Syntax,
    /// Too large for the quantity it describes.
    TooLarge,
    /// More fractional digits than the quantity can hold exactly (money: 6 decimals).
    TooPrecise {
        /// How many decimals are allowed.
        max_decimals: u32,
    },
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecimalError::Syntax => f.write_str("is not a decimal number"),
            DecimalError::TooLarge => f.write_str("is too large"),
            DecimalError::TooPrecise { max_decimals } => {
                write!(f, "has more than {max_decimals} decimals")
            }
        }
    }
}

/// Digits beyond this many decimals are ignored when rounding is allowed; they cannot change a
/// result rounded to a whole byte or a millionth of a currency unit.
const MAX_FRACTION_DIGITS: usize = 30;

/// A syntactically valid decimal, borrowed from the input text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decimal<'a> {
    negative: bool,
    int_digits: &'a str,
    frac_digits: &'a str,
}

impl<'a> Decimal<'a> {
    /// Parses `[+-]digits[.digits]` (also `.5` and `5.`), surrounding spaces allowed.
    pub(crate) fn parse(text: &'a str) -> Result<Self, DecimalError> {
        let mut s = text.trim();
        let mut negative = false;
        if let Some(rest) = s.strip_prefix('-') {
            negative = true;
            s = rest;
        } else if let Some(rest) = s.strip_prefix('+') {
            s = rest;
        }
        let (int_digits, frac_digits) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        let all_digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
        if (int_digits.is_empty() && frac_digits.is_empty())
            || !all_digits(int_digits)
            || !all_digits(frac_digits)
        {
            return Err(DecimalError::Syntax);
        }
        let int_digits = int_digits.trim_start_matches('0');
        let frac_digits = frac_digits.trim_end_matches('0');
        let negative = negative && !(int_digits.is_empty() && frac_digits.is_empty());
        Ok(Decimal {
            negative,
            int_digits,
            frac_digits,
        })
    }

    /// True for values below zero (`-0` is not).
    pub(crate) fn is_negative(&self) -> bool {
        self.negative
    }

    /// The magnitude times `10^decimals`, which must be exact (no digit may be dropped).
    pub(crate) fn magnitude_scaled_exact(&self, decimals: u32) -> Result<u128, DecimalError> {
        if self.frac_digits.len() > decimals as usize {
            return Err(DecimalError::TooPrecise {
                max_decimals: decimals,
            });
        }
        let int = digits_value(self.int_digits)?;
        let frac = digits_value(self.frac_digits)?;
        let pad = 10u128.pow(decimals - self.frac_digits.len() as u32);
        int.checked_mul(10u128.pow(decimals))
            .and_then(|v| v.checked_add(frac * pad))
            .ok_or(DecimalError::TooLarge)
    }

    /// The magnitude times `multiplier`, rounded to the nearest integer (ties away from zero).
    pub(crate) fn magnitude_times_rounded(&self, multiplier: u128) -> Result<u128, DecimalError> {
        let int = digits_value(self.int_digits)?;
        let frac_text = &self.frac_digits[..self.frac_digits.len().min(MAX_FRACTION_DIGITS)];
        let frac = digits_value(frac_text)?;
        let denominator = 10u128.pow(frac_text.len() as u32);
        let whole = int.checked_mul(multiplier).ok_or(DecimalError::TooLarge)?;
        // frac < 10^30 and multiplier < 2^40 keep this product inside u128.
        let scaled = frac.checked_mul(multiplier).ok_or(DecimalError::TooLarge)?;
        let rounded = (scaled + denominator / 2) / denominator;
        whole.checked_add(rounded).ok_or(DecimalError::TooLarge)
    }
}

fn digits_value(digits: &str) -> Result<u128, DecimalError> {
    if digits.len() > 38 {
        return Err(DecimalError::TooLarge);
    }
    digits.bytes().try_fold(0u128, |acc, b| {
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(b - b'0')))
            .ok_or(DecimalError::TooLarge)
    })
}

/// Writes `value / 10^decimals` as exact decimal text, keeping at least `min_decimals` and at most
/// `decimals` fractional digits (trailing zeros beyond `min_decimals` are dropped).
pub(crate) fn format_scaled(
    out: &mut impl fmt::Write,
    value: i128,
    decimals: u32,
    min_decimals: u32,
) -> fmt::Result {
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    let unit = 10u128.pow(decimals);
    let int = magnitude / unit;
    let frac = magnitude % unit;
    write!(out, "{sign}{int}")?;
    if decimals == 0 {
        return Ok(());
    }
    let mut digits = format!("{frac:0width$}", width = decimals as usize);
    while digits.len() > min_decimals as usize && digits.ends_with('0') {
        digits.pop();
    }
    if !digits.is_empty() {
        write!(out, ".{digits}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_scales_exactly() {
        let cases: &[(&str, u32, Result<u128, DecimalError>)] = &[
            ("12.5", 6, Ok(12_500_000)),
            ("  0.000001 ", 6, Ok(1)),
            ("+7", 2, Ok(700)),
            (".5", 2, Ok(50)),
            ("5.", 2, Ok(500)),
            ("1.2300000", 2, Ok(123)),
            (
                "1.234",
                2,
                Err(DecimalError::TooPrecise { max_decimals: 2 }),
            ),
            ("", 2, Err(DecimalError::Syntax)),
            (".", 2, Err(DecimalError::Syntax)),
            ("1e5", 2, Err(DecimalError::Syntax)),
            ("1,000", 2, Err(DecimalError::Syntax)),
            ("--1", 2, Err(DecimalError::Syntax)),
        ];
        for (text, decimals, want) in cases {
            let got = Decimal::parse(text).and_then(|d| d.magnitude_scaled_exact(*decimals));
            assert_eq!(&got, want, "{text:?}");
        }
    }

    #[test]
    fn rounds_half_away_from_zero() {
        let mb = 1_048_576u128;
        let cases: &[(&str, u128)] = &[
            ("1", mb),
            ("0.5", mb / 2),
            // 1 byte = 0.00000095367431640625 MB exactly; half a byte rounds up.
            ("0.00000095367431640625", 1),
            ("0.000000476837158203125", 1),
            ("0.000000476837158203124", 0),
            ("2.000000000000000000000000000000000000009", 2 * mb),
        ];
        for (text, want) in cases {
            let got = Decimal::parse(text).and_then(|d| d.magnitude_times_rounded(mb));
            assert_eq!(got, Ok(*want), "{text:?}");
        }
    }

    #[test]
    fn negative_zero_is_not_negative() {
        assert!(!Decimal::parse("-0.00")
            .map(|d| d.is_negative())
            .unwrap_or(true));
        assert!(Decimal::parse("-0.01")
            .map(|d| d.is_negative())
            .unwrap_or(false));
    }

    #[test]
    fn formats_with_decimal_bounds() {
        let f = |v: i128, d: u32, m: u32| {
            let mut s = String::new();
            format_scaled(&mut s, v, d, m)
                .map(|_| s)
                .unwrap_or_default()
        };
        assert_eq!(f(12_500_000, 6, 2), "12.50");
        assert_eq!(f(12_345_678, 6, 2), "12.345678");
        assert_eq!(f(-1, 6, 2), "-0.000001");
        assert_eq!(f(0, 6, 2), "0.00");
        assert_eq!(f(1_048_576, 0, 0), "1048576");
        assert_eq!(f(5, 1, 0), "0.5");
    }
}
