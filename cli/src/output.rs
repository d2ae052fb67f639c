//! Where the outputs of `cost` and `optimize` go: the JSON document, the Excel report, the CSV
//! export (each to a file, or one of them to standard output), and the summary.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use simopt_core::report::{self, xlsx, Report};

use crate::CliError;

/// The files a run writes.
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Write the JSON document (DESIGN §8) to this file ("-" for standard output).
    #[arg(long, value_name = "OUT.json")]
    json: Option<PathBuf>,
    /// Write the Excel report (summary, statistics, pools, per-SIM assignments, changes) to this
    /// file ("-" for standard output).
    #[arg(long, value_name = "OUT.xlsx")]
    xlsx: Option<PathBuf>,
    /// Write one CSV row per SIM (plan now and after, charges, saving, why) to this file ("-"
    /// for standard output).
    #[arg(long, value_name = "OUT.csv")]
    csv: Option<PathBuf>,
    /// Print no summary.
    #[arg(long, short)]
    quiet: bool,
}

impl OutputArgs {
    /// Refuses two outputs on standard output.
    ///
    /// # Errors
    /// [`CliError::BadInput`] naming the flags.
    pub fn check(&self) -> Result<(), CliError> {
        let on_stdout = self.on_stdout();
        if on_stdout.len() > 1 {
            return Err(CliError::BadInput(format!(
                "error: {} all ask for standard output; send at most one there and the others to files",
                on_stdout.join(" and ")
            )));
        }
        Ok(())
    }

    /// Writes the JSON document (through `json`), the Excel report and the CSV export of
    /// `report`, those asked for.
    ///
    /// # Errors
    /// [`CliError::Internal`] naming a file that cannot be written.
    pub fn write(
        &self,
        stdout: &mut dyn Write,
        report: &Report<'_>,
        account_name: Option<&str>,
        json: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), CliError> {
        write_to(self.json.as_deref(), stdout, json)?;
        write_to(self.xlsx.as_deref(), stdout, |out| {
            let mut out = io::BufWriter::new(out);
            xlsx::write(&mut out, report, &xlsx::Options::for_account(account_name))
                .map_err(io::Error::other)?;
            out.flush()
        })?;
        write_to(self.csv.as_deref(), stdout, |out| {
            report::csv::write(out, report)
        })
    }

    /// Whether the summary is wanted.
    pub fn summary_wanted(&self) -> bool {
        !self.quiet
    }

    /// Where the summary goes: standard error when an output takes standard output.
    pub fn summary_stream<'a>(
        &self,
        stdout: &'a mut dyn Write,
        stderr: &'a mut dyn Write,
    ) -> &'a mut dyn Write {
        if self.on_stdout().is_empty() {
            stdout
        } else {
            stderr
        }
    }

    /// The flags of the outputs given as "-" (standard output).
    fn on_stdout(&self) -> Vec<&'static str> {
        [
            ("--json", &self.json),
            ("--xlsx", &self.xlsx),
            ("--csv", &self.csv),
        ]
        .into_iter()
        .filter(|(_, path)| path.as_deref() == Some(Path::new("-")))
        .map(|(flag, _)| flag)
        .collect()
    }
}

/// Writes an output to `path` ("-": standard output), if one was asked for.
fn write_to(
    path: Option<&Path>,
    stdout: &mut dyn Write,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), CliError> {
    let Some(path) = path else {
        return Ok(());
    };
    let written = if path.as_os_str() == "-" {
        write(stdout)
    } else {
        fs::File::create(path).and_then(|mut f| write(&mut f))
    };
    written.map_err(|e| CliError::Internal(format!("error: cannot write {}: {e}", path.display())))
}
