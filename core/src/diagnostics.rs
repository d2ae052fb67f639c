//! Problems found in the input, as data the caller can show.
//!
//! Errors stop a run (the caller gets [`InputErrors`] with every error found, not just the
//! first); warnings travel with the result ([`Warned`]). Each carries the file, the row (the line
//! number a spreadsheet shows, header = row 1), the column, what is wrong and what to do.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// The input cannot be used until this is fixed.
    Error,
    /// The result is usable; the user should know.
    Warning,
}

/// What kind of problem a [`Diagnostic`] reports. The `code()` strings are stable: scripts and
/// the UI may match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "&'static str")]
#[non_exhaustive]
pub enum Code {
    /// A file could not be read (not UTF-8, not CSV/JSON, broken quoting).
    UnreadableFile,
    /// A file has no header row or no data.
    EmptyFile,
    /// A required column is absent from the header.
    MissingColumn,
    /// A column name appears twice in the header.
    DuplicateColumn,
    /// A row has more fields than the header.
    RaggedRow,
    /// A required value is empty.
    MissingValue,
    /// A number could not be read.
    BadNumber,
    /// An amount is below zero.
    NegativeAmount,
    /// A date or timestamp could not be read.
    BadDate,
    /// A yes/no value could not be read.
    BadBoolean,
    /// Two SIMs share an ICCID.
    DuplicateIccid,
    /// Two plans share a plan id.
    DuplicatePlan,
    /// A SIM or eligibility row names a plan the plans file lacks.
    UnknownPlan,
    /// A plan's overage terms are incomplete or contradictory.
    BadOverage,
    /// Plans sharing a pool disagree on the pool's overage terms.
    PoolMismatch,
    /// An account setting is invalid.
    BadSetting,
    /// A SIM's usage is empty; it is billed as zero.
    MissingUsage,
    /// A SIM has no eligible plan; it stays on its current plan.
    NoEligiblePlan,
    /// A SIM's usage was read outside the billing period; it is not projected.
    UsageOutsidePeriod,
    /// A SIM was activated after the billing period ends.
    ActivatedAfterPeriod,
    /// A non-pooled plan names a pool id, which is ignored.
    PoolIdIgnored,
    /// A SIM status is not one simopt knows; the SIM is treated as active.
    UnknownStatus,
    /// An eligibility row repeats an earlier one.
    DuplicateEligibility,
    /// The eligibility file names a communication plan no SIM uses.
    UnusedCommPlan,
}

impl Code {
    /// The stable identifier of this code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::UnreadableFile => "unreadable-file",
            Code::EmptyFile => "empty-file",
            Code::MissingColumn => "missing-column",
            Code::DuplicateColumn => "duplicate-column",
            Code::RaggedRow => "ragged-row",
            Code::MissingValue => "missing-value",
            Code::BadNumber => "bad-number",
            Code::NegativeAmount => "negative-amount",
            Code::BadDate => "bad-date",
            Code::BadBoolean => "bad-boolean",
            Code::DuplicateIccid => "duplicate-iccid",
            Code::DuplicatePlan => "duplicate-plan",
            Code::UnknownPlan => "unknown-plan",
            Code::BadOverage => "bad-overage",
            Code::PoolMismatch => "pool-mismatch",
            Code::BadSetting => "bad-setting",
            Code::MissingUsage => "missing-usage",
            Code::NoEligiblePlan => "no-eligible-plan",
            Code::UsageOutsidePeriod => "usage-outside-period",
            Code::ActivatedAfterPeriod => "activated-after-period",
            Code::PoolIdIgnored => "pool-id-ignored",
            Code::UnknownStatus => "unknown-status",
            Code::DuplicateEligibility => "duplicate-eligibility",
            Code::UnusedCommPlan => "unused-comm-plan",
        }
    }
}

impl From<Code> for &'static str {
    fn from(code: Code) -> Self {
        code.as_str()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with the input: where it is, what is wrong, what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable kind of problem.
    pub code: Code,
    /// The file's name as the user gave it (`sims.csv`), or `settings` for account settings.
    pub file: String,
    /// Row as a spreadsheet numbers it (header = 1); for JSON, the array item (first = 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// Column (or JSON field / setting) name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}[{}]: {}", self.code, self.file)?;
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        write!(f, ": {}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

/// Keeps this many diagnostics of each code; the rest are only counted.
pub const KEEP_PER_CODE: usize = 100;

/// Collects diagnostics while reading input; keeps the first [`KEEP_PER_CODE`] of each code and
/// counts them all, so a million bad rows cost no memory but are still reported.
#[derive(Debug, Default, Clone)]
pub struct Collector {
    kept: Vec<Diagnostic>,
    counts: BTreeMap<(Severity, Code), u64>,
}

impl Collector {
    /// Records a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        let count = self
            .counts
            .entry((diagnostic.severity, diagnostic.code))
            .or_insert(0);
        *count += 1;
        if *count as usize <= KEEP_PER_CODE {
            self.kept.push(diagnostic);
        }
    }

    /// Records an error.
    pub fn error(
        &mut self,
        code: Code,
        at: &Location<'_>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(at.diagnostic(Severity::Error, code, message.into(), hint.into()));
    }

    /// Records a warning.
    pub fn warning(
        &mut self,
        code: Code,
        at: &Location<'_>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(at.diagnostic(Severity::Warning, code, message.into(), hint.into()));
    }

    /// Records the diagnostics of `later` as if each had been recorded here, in order, after
    /// those already here: the same ones are kept and counted (`later` kept the first of each
    /// code, which are the only ones this could keep after its own).
    pub fn append(&mut self, later: Collector) {
        for diagnostic in later.kept {
            self.push(diagnostic);
        }
        for (key, count) in later.counts {
            let kept = count.min(KEEP_PER_CODE as u64);
            *self.counts.entry(key).or_insert(0) += count - kept;
        }
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.counts.keys().any(|(s, _)| *s == Severity::Error)
    }

    /// Finishes into a sorted report: errors first, then files in the order they were read, then
    /// rows.
    pub fn finish(mut self) -> Diagnostics {
        let mut files: Vec<&str> = Vec::new();
        for d in &self.kept {
            if !files.contains(&d.file.as_str()) {
                files.push(&d.file);
            }
        }
        let order: Vec<usize> = self
            .kept
            .iter()
            .map(|d| files.iter().position(|f| *f == d.file).unwrap_or(0))
            .collect();
        let mut indices: Vec<usize> = (0..self.kept.len()).collect();
        indices.sort_by_key(|&i| (self.kept[i].severity, order[i], self.kept[i].row));
        let mut slots: Vec<Option<Diagnostic>> = self.kept.into_iter().map(Some).collect();
        self.kept = indices
            .into_iter()
            .filter_map(|i| slots[i].take())
            .collect();
        let counts = self
            .counts
            .into_iter()
            .map(|((severity, code), count)| CodeCount {
                severity,
                code,
                count,
            })
            .collect();
        Diagnostics {
            items: self.kept,
            counts,
        }
    }
}

/// Where in the input a value came from.
#[derive(Debug, Clone, Copy)]
pub struct Location<'a> {
    /// File name.
    pub file: &'a str,
    /// Row, if any.
    pub row: Option<u64>,
    /// Column, if any.
    pub column: Option<&'a str>,
}

impl<'a> Location<'a> {
    /// The whole file.
    pub fn file(file: &'a str) -> Self {
        Location {
            file,
            row: None,
            column: None,
        }
    }

    /// A row of a file.
    pub fn row(file: &'a str, row: u64) -> Self {
        Location {
            file,
            row: Some(row),
            column: None,
        }
    }

    /// The same place, narrowed to a column.
    pub fn column(self, column: &'a str) -> Self {
        Location {
            column: Some(column),
            ..self
        }
    }

    fn diagnostic(
        &self,
        severity: Severity,
        code: Code,
        message: String,
        hint: String,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            code,
            file: self.file.to_owned(),
            row: self.row,
            column: self.column.map(str::to_owned),
            message,
            hint,
        }
    }
}

/// How many diagnostics of one code were found (including those not kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeCount {
    /// Error or warning.
    pub severity: Severity,
    /// The code.
    pub code: Code,
    /// How many.
    pub count: u64,
}

/// The diagnostics of a run: the first few of each code, and the count of every code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diagnostics {
    /// Kept diagnostics, errors first, then by file and row.
    pub items: Vec<Diagnostic>,
    /// Totals per code, including diagnostics that were not kept.
    pub counts: Vec<CodeCount>,
}

impl Diagnostics {
    /// Total number of diagnostics of a severity.
    pub fn count(&self, severity: Severity) -> u64 {
        self.counts
            .iter()
            .filter(|c| c.severity == severity)
            .map(|c| c.count)
            .sum()
    }

    /// Total number found but not kept.
    pub fn not_shown(&self) -> u64 {
        self.counts.iter().map(|c| c.count).sum::<u64>() - self.items.len() as u64
    }
}

/// A result that carries warnings (typst's `Warned<T>`).
#[derive(Debug, Clone)]
pub struct Warned<T> {
    /// The result.
    pub output: T,
    /// Warnings found while producing it.
    pub warnings: Diagnostics,
}

/// The input cannot be used: every error found (and the warnings found alongside).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct InputErrors {
    /// All diagnostics, errors first.
    #[serde(flatten)]
    pub diagnostics: Diagnostics,
}

impl InputErrors {
    /// Stable code of this error type.
    pub const fn code(&self) -> &'static str {
        "invalid-input"
    }

    /// The error diagnostics that were kept.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .items
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// The errors as JSON: `{"error": "invalid-input", "items": [...], "counts": [...]}`.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'static str,
            message: String,
            #[serde(flatten)]
            diagnostics: &'a Diagnostics,
        }
        serde_json::to_string(&Body {
            error: self.code(),
            message: self.headline(),
            diagnostics: &self.diagnostics,
        })
        .unwrap_or_default()
    }

    fn headline(&self) -> String {
        let n = self.diagnostics.count(Severity::Error);
        format!(
            "the input has {n} error{}; nothing was computed",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        for d in self.errors() {
            writeln!(f, "{d}")?;
        }
        let hidden: u64 = self
            .diagnostics
            .count(Severity::Error)
            .saturating_sub(self.errors().count() as u64);
        if hidden > 0 {
            writeln!(
                f,
                "... and {hidden} more errors of the same kinds (first {KEEP_PER_CODE} of each shown)"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_file_row_column_and_hint() {
        let mut c = Collector::default();
        c.error(
            Code::NegativeAmount,
            &Location::row("sims.csv", 14).column("usage_mb"),
            "usage_mb is -3, below zero",
            "fix the value, or leave it empty to bill zero usage",
        );
        let errors = InputErrors {
            diagnostics: c.finish(),
        };
        assert_eq!(
            errors.to_string(),
            "the input has 1 error; nothing was computed\n\
             error[negative-amount]: sims.csv, row 14, column usage_mb: usage_mb is -3, below zero\n  \
             hint: fix the value, or leave it empty to bill zero usage\n"
        );
    }

    #[test]
    fn keeps_the_first_of_each_code_and_counts_all() {
        let mut c = Collector::default();
        for row in 0..(KEEP_PER_CODE as u64 + 50) {
            c.warning(
                Code::MissingUsage,
                &Location::row("s.csv", row + 2),
                "m",
                "h",
            );
        }
        let d = c.finish();
        assert_eq!(d.items.len(), KEEP_PER_CODE);
        assert_eq!(d.count(Severity::Warning), KEEP_PER_CODE as u64 + 50);
        assert_eq!(d.not_shown(), 50);
    }
}
