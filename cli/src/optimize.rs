//! The `optimize` command: the cheapest plan for every SIM, with a certified lower bound.

use std::io::Write;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use simopt_core::money::Money;
use simopt_core::optimize::{Constraints, Job, Method, Options, Progress, Step};
use simopt_core::report::Outcome;
use simopt_core::{input, Warned};

use crate::input::InputArgs;
use crate::output::OutputArgs;
use crate::{summary, CliError};

/// Which method to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizerName {
    /// Classic, then a Lagrangian bound and exact local search: near-optimal, with a certified gap.
    Default,
    /// The old system's method (rate-plan sequences × 4 strategies), for comparison; no bound.
    Classic,
}

impl OptimizerName {
    pub(crate) fn method(self) -> Method {
        match self {
            OptimizerName::Default => Method::Default,
            OptimizerName::Classic => Method::Classic,
        }
    }
}

/// `simopt optimize`.
#[derive(Args, Debug)]
pub struct OptimizeArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The method.
    #[arg(long, value_enum, default_value = "default")]
    optimizer: OptimizerName,
    /// Stop after this many milliseconds with the best plans found so far.
    #[arg(long, value_name = "N")]
    time_limit_ms: Option<u64>,
    /// Anti-churn: change a SIM's plan only where that saves at least this much (currency
    /// units, e.g. 0.50).
    #[arg(long, value_name = "AMOUNT")]
    min_saving: Option<String>,
    /// Change the plans of at most this many SIMs.
    #[arg(long, value_name = "N")]
    max_changes: Option<u64>,
    #[command(flatten)]
    output: OutputArgs,
}

/// How long a slice runs before the progress line is redrawn.
const SLICE: Duration = Duration::from_millis(100);

pub fn optimize(
    args: &OptimizeArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    show_progress: bool,
) -> Result<(), CliError> {
    args.output.check()?;
    let (files, settings) = args.input.read()?;
    let Warned {
        output: fleet,
        warnings,
    } = input::load(&files.files(), &settings).map_err(|e| CliError::BadInput(e.to_string()))?;
    drop(files);

    let started = Instant::now();
    let deadline = args
        .time_limit_ms
        .map(|ms| started + Duration::from_millis(ms));
    let min_saving = match args.min_saving.as_deref() {
        None => Money::ZERO,
        Some(text) => match Money::parse(text) {
            Ok(m) if m >= Money::ZERO => m,
            _ => {
                return Err(CliError::BadInput(format!(
                    "error: --min-saving {text:?} is not an amount of money; give a decimal of at least 0, e.g. --min-saving 0.50"
                )))
            }
        },
    };
    let options = Options {
        method: args.optimizer.method(),
        constraints: Constraints {
            min_saving,
            max_changes: args.max_changes,
        },
        ..Options::default()
    };
    let mut job = Job::new(&fleet, options);
    let show_progress = show_progress && args.output.summary_wanted();
    let (result, complete) = loop {
        let slice_end = Instant::now() + SLICE;
        let step = job.run_slice(&mut || {
            let now = Instant::now();
            now >= slice_end || deadline.is_some_and(|d| now >= d)
        });
        match step {
            Step::Finished(result) => break (result, true),
            Step::Yielded(progress) => {
                if show_progress {
                    let _ = write!(stderr, "\r{}", progress_line(&progress, started.elapsed()));
                    let _ = stderr.flush();
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break (job.result(), false);
                }
            }
        }
    };
    if show_progress {
        let _ = write!(stderr, "\r{:80}\r", "");
    }

    let outcome = Outcome::of(&fleet, result, &options, complete);
    args.output.write(
        stdout,
        &outcome.report(&fleet, &warnings),
        settings.account_name.as_deref(),
        |out| outcome.write_json(out, &fleet, &warnings),
    )?;
    if args.output.summary_wanted() {
        let out = args.output.summary_stream(stdout, stderr);
        summary::write_optimize(
            out,
            &fleet,
            &outcome.current,
            &outcome.bill,
            &outcome.summary,
            &warnings,
        )
        .map_err(|e| CliError::Internal(format!("error: cannot write the summary: {e}")))?;
    }
    Ok(())
}

fn progress_line(p: &Progress, elapsed: Duration) -> String {
    let d = 2;
    let mut line = format!(
        "{:>3.0}% {:<30} best {}",
        p.done * 100.0,
        p.phase,
        summary::money(p.best_cost, d)
    );
    if let (Some(bound), Some(gap)) = (p.lower_bound, p.gap()) {
        line.push_str(&format!(
            "  bound {}  gap {:.3}%",
            summary::money(bound, d),
            gap * 100.0
        ));
    }
    line.push_str(&format!("  {:.1} s", elapsed.as_secs_f64()));
    line
}
