//! The `cost` and `gen` commands.

use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use simopt_core::cost_current;
use simopt_core::report::Report;
use simopt_core::synthetic::FleetSpec;

use crate::input::InputArgs;
use crate::output::OutputArgs;
use crate::{summary, CliError};

/// `simopt cost`.
#[derive(Args, Debug)]
pub struct CostArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn cost(
    args: &CostArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), CliError> {
    args.output.check()?;
    let (files, settings) = args.input.read()?;
    let outcome =
        cost_current(&files.files(), &settings).map_err(|e| CliError::BadInput(e.to_string()))?;
    drop(files);
    let report = Report::of_cost(&outcome.fleet, &outcome.bill, &outcome.warnings);
    args.output
        .write(stdout, &report, settings.account_name.as_deref(), |out| {
            outcome.write_json(out)
        })?;
    if args.output.summary_wanted() {
        let out = args.output.summary_stream(stdout, stderr);
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
    let spec = FleetSpec {
        sims: args.sims,
        comm_plans: args.comm_plans,
        plans_per_comm_plan: args.plans_per_comm_plan,
        prorated_per_mille: args.prorated_pct * 10,
        seed: args.seed,
        period_end: parse(&args.period_end, "--period-end")?,
        as_of: parse(&args.as_of, "--as-of")?,
    };
    spec.check()
        .map_err(|e| CliError::BadInput(format!("error: {e}")))?;
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
        spec.plan_count(),
        args.comm_plans,
        args.out.display(),
        args.seed
    )
    .map_err(|e| CliError::Internal(e.to_string()))
}
