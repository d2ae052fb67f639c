//! What `cost` and `optimize` share: the input files and account flags, and reading them.

use std::fs;
use std::path::{Path, PathBuf};

use clap::Args;
use simopt_core::{InputFiles, SettingsInput, SourceFile};

use crate::account::AccountArgs;
use crate::CliError;

/// The input files and account flags of a run.
#[derive(Args, Debug)]
pub struct InputArgs {
    /// The SIMs (CSV, or JSON).
    #[arg(long, value_name = "FILE")]
    sims: PathBuf,
    /// The rate plans (CSV, or JSON).
    #[arg(long, value_name = "FILE")]
    plans: PathBuf,
    /// Which plans each communication plan may use (CSV, or JSON) [default: every plan].
    #[arg(long, value_name = "FILE")]
    eligibility: Option<PathBuf>,
    #[command(flatten)]
    account: AccountArgs,
}

/// The files of a run, read into memory, with the names messages use.
pub struct LoadedFiles {
    names: [String; 3],
    sims: Vec<u8>,
    plans: Vec<u8>,
    eligibility: Option<Vec<u8>>,
}

impl LoadedFiles {
    /// The files as the core takes them.
    pub fn files(&self) -> InputFiles<'_> {
        InputFiles {
            sims: SourceFile {
                name: &self.names[0],
                bytes: &self.sims,
            },
            plans: SourceFile {
                name: &self.names[1],
                bytes: &self.plans,
            },
            eligibility: self.eligibility.as_deref().map(|bytes| SourceFile {
                name: &self.names[2],
                bytes,
            }),
        }
    }
}

impl InputArgs {
    /// Reads the files and the settings text ("now" for a missing `--as-of`).
    ///
    /// # Errors
    /// [`CliError::BadInput`] naming a file that cannot be read.
    pub fn read(&self) -> Result<(LoadedFiles, SettingsInput), CliError> {
        let settings = self.account.settings(now_rfc3339)?;
        let files = LoadedFiles {
            names: [
                display_name(&self.sims),
                display_name(&self.plans),
                self.eligibility
                    .as_deref()
                    .map(display_name)
                    .unwrap_or_default(),
            ],
            sims: read_input(&self.sims, "SIMs", "--sims")?,
            plans: read_input(&self.plans, "plans", "--plans")?,
            eligibility: self
                .eligibility
                .as_deref()
                .map(|p| read_input(p, "eligibility", "--eligibility"))
                .transpose()?,
        };
        Ok((files, settings))
    }
}

/// Reads an input file whole, with a message naming it when that fails.
fn read_input(path: &Path, what: &str, flag: &str) -> Result<Vec<u8>, CliError> {
    fs::read(path).map_err(|e| {
        CliError::BadInput(format!(
            "error: cannot read the {what} file {}: {e}\n  hint: check the path given to {flag}",
            path.display()
        ))
    })
}

fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The current time as RFC 3339 (UTC): the CLI's "now" for `--as-of`.
fn now_rfc3339() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
