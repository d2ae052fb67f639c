//! The commands: `cost` and `gen`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use simopt_core::synthetic::FleetSpec;
use simopt_core::{cost_current, InputFiles, SourceFile};

use crate::account::AccountArgs;
use crate::{summary, CliError};

/// `simopt cost`.
#[derive(Args, Debug)]
pub struct CostArgs {
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
    /// Write the JSON document (DESIGN §8) to this file ("-" for standard output).
    #[arg(long, value_name = "OUT.json")]
    json: Option<PathBuf>,
    /// Print no summary.
    #[arg(long, short)]
    quiet: bool,
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

pub fn cost(
    args: &CostArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), CliError> {
    let settings = args.account.settings(now_rfc3339)?;
    let sims = read_input(&args.sims, "SIMs", "--sims")?;
    let plans = read_input(&args.plans, "plans", "--plans")?;
    let eligibility = args
        .eligibility
        .as_deref()
        .map(|p| read_input(p, "eligibility", "--eligibility"))
        .transpose()?;
    let names = (
        display_name(&args.sims),
        display_name(&args.plans),
        args.eligibility
            .as_deref()
            .map(display_name)
            .unwrap_or_default(),
    );
    let files = InputFiles {
        sims: SourceFile {
            name: &names.0,
            bytes: &sims,
        },
        plans: SourceFile {
            name: &names.1,
            bytes: &plans,
        },
        eligibility: eligibility.as_deref().map(|bytes| SourceFile {
            name: &names.2,
            bytes,
        }),
    };
    let outcome = cost_current(&files, &settings).map_err(|e| CliError::BadInput(e.to_string()))?;
    drop((sims, plans, eligibility));

    if let Some(path) = &args.json {
        let written = if path.as_os_str() == "-" {
            outcome.write_json(&mut *stdout)
        } else {
            fs::File::create(path).and_then(|f| outcome.write_json(f))
        };
        written.map_err(|e| {
            CliError::Internal(format!("error: cannot write {}: {e}", path.display()))
        })?;
    }
    if !args.quiet {
        let out: &mut dyn Write = if args.json.as_deref() == Some(Path::new("-")) {
            stderr
        } else {
            stdout
        };
        summary::write_cost(out, &outcome)
            .map_err(|e| CliError::Internal(format!("error: cannot write the summary: {e}")))?;
    }
    Ok(())
}

/// `simopt gen`.
#[derive(Args, Debug)]
pub struct GenArgs {
    /// Number of SIMs.
    #[arg(long, default_value_t = 10_000)]
    sims: u64,
    /// Folder to write plans.csv, sims.csv and eligibility.csv into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Random seed: the same seed gives the same fleet.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Communication plans (device families).
    #[arg(long, default_value_t = 4)]
    comm_plans: u32,
    /// Plans each communication plan may use.
    #[arg(long, default_value_t = 6)]
    plans_per_comm_plan: u32,
    /// Percent of SIMs activated inside the period (prorated).
    #[arg(long, default_value_t = 8)]
    prorated_pct: u64,
    /// Local end of the billing period.
    #[arg(long, default_value = "2026-11-22T00:00")]
    period_end: String,
    /// When usage was read.
    #[arg(long, default_value = "2026-11-20T12:00")]
    as_of: String,
}

pub fn gen(args: &GenArgs, stdout: &mut dyn Write) -> Result<(), CliError> {
    let parse = |text: &str, flag: &str| {
        simopt_core::period::parse_local(text).ok_or_else(|| {
            CliError::BadInput(format!(
                "error: {flag} {text:?} is not a local date and time\n  hint: write YYYY-MM-DDTHH:MM"
            ))
        })
    };
    if args.comm_plans == 0 || args.plans_per_comm_plan < 2 || args.prorated_pct > 100 {
        return Err(CliError::BadInput(
            "error: --comm-plans must be at least 1, --plans-per-comm-plan at least 2 and --prorated-pct at most 100".into(),
        ));
    }
    let spec = FleetSpec {
        sims: args.sims,
        comm_plans: args.comm_plans,
        plans_per_comm_plan: args.plans_per_comm_plan,
        prorated_per_mille: args.prorated_pct * 10,
        seed: args.seed,
        period_end: parse(&args.period_end, "--period-end")?,
        as_of: parse(&args.as_of, "--as-of")?,
    };
    fs::create_dir_all(&args.out).map_err(|e| {
        CliError::BadInput(format!("error: cannot create {}: {e}", args.out.display()))
    })?;
    let write = |name: &str, body: &dyn Fn(&mut io::BufWriter<fs::File>) -> io::Result<()>| {
        let path = args.out.join(name);
        fs::File::create(&path)
            .map(io::BufWriter::new)
            .and_then(|mut w| {
                body(&mut w)?;
                w.flush()
            })
            .map_err(|e| CliError::Internal(format!("error: cannot write {}: {e}", path.display())))
    };
    write("plans.csv", &|w| spec.write_plans(w))?;
    write("eligibility.csv", &|w| spec.write_eligibility(w))?;
    write("sims.csv", &|w| spec.write_sims(w))?;
    writeln!(
        stdout,
        "wrote {} SIMs, {} plans for {} communication plans into {} (seed {})",
        args.sims,
        args.comm_plans * args.plans_per_comm_plan,
        args.comm_plans,
        args.out.display(),
        args.seed
    )
    .map_err(|e| CliError::Internal(e.to_string()))
}
