//! The simopt command line (DESIGN §8): file in, report out.
//!
//! ```text
//! simopt cost --sims S.csv --plans P.csv [--eligibility E.csv] [account flags]
//!             [--json OUT.json] [--xlsx OUT.xlsx] [--csv OUT.csv] [-q]
//! simopt optimize --sims S.csv --plans P.csv [--eligibility E.csv] [account flags]
//!                 [--optimizer default|classic] [--min-saving AMOUNT] [--max-changes N]
//!                 [--time-limit-ms N] [--json OUT.json] [--xlsx OUT.xlsx] [--csv OUT.csv] [-q]
//! simopt gen  --sims N --out DIR [--seed S] [--comm-plans K] [--plans-per-comm-plan P] ...
//! simopt bench [--sims N,N] [--plans-per-comm-plan P,P] [--methods classic,default] ...
//! ```
//!
//! Exit codes: 0 success, 2 bad input (what is wrong on stderr), 1 internal failure.
//! [`run`] is the whole program, so tests drive it in-process.

mod account;
mod bench;
mod commands;
mod input;
mod optimize;
mod output;
mod summary;

use std::ffi::OsString;
use std::io::Write;

use clap::{Parser, Subcommand};

pub use account::AccountArgs;

/// The program's outcome, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// Internal failure (could not write a result, a bug).
    Internal = 1,
    /// The input is bad: the message says what to fix.
    BadInput = 2,
}

/// A failure of a command, with the exit code it maps to.
#[derive(Debug)]
pub enum CliError {
    /// The user's input or flags are wrong.
    BadInput(String),
    /// Something failed that the user could not have prevented.
    Internal(String),
}

impl CliError {
    fn exit(&self) -> Exit {
        match self {
            CliError::BadInput(_) => Exit::BadInput,
            CliError::Internal(_) => Exit::Internal,
        }
    }

    fn message(&self) -> &str {
        match self {
            CliError::BadInput(m) | CliError::Internal(m) => m,
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "simopt",
    version,
    about = "Find the cheapest carrier rate plan for every SIM in an IoT fleet",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compute the current bill of a fleet exactly (every SIM on its current plan).
    Cost(commands::CostArgs),
    /// Find the cheapest plan for every SIM, with a certified lower bound on the best bill.
    Optimize(optimize::OptimizeArgs),
    /// Generate a realistic synthetic fleet (plans.csv, sims.csv, eligibility.csv).
    Gen(commands::GenArgs),
    /// Benchmark the methods on generated fleets: bill, bound, gap, time, memory, checkpoint.
    Bench(bench::BenchArgs),
}

/// Runs the program with `args` (the first is the program name), writing to `stdout` and
/// `stderr`; returns the exit code. No progress line is drawn (see [`run_on_terminal`]).
pub fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    run_on_terminal(args, stdout, stderr, false)
}

/// [`run`], drawing a progress line on `stderr` when `stderr_is_terminal`.
pub fn run_on_terminal(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    stderr_is_terminal: bool,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::BadInput
            } else {
                Exit::Ok
            };
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                write!(stderr, "{text}")
            } else {
                write!(stdout, "{text}")
            };
            return code as i32;
        }
    };
    let result = match cli.command {
        Command::Cost(args) => commands::cost(&args, stdout, stderr),
        Command::Optimize(args) => optimize::optimize(&args, stdout, stderr, stderr_is_terminal),
        Command::Gen(args) => commands::gen(&args, stdout),
        Command::Bench(args) => bench::bench(&args, stdout),
    };
    match result {
        Ok(()) => Exit::Ok as i32,
        Err(e) => {
            let _ = writeln!(stderr, "{}", e.message().trim_end());
            e.exit() as i32
        }
    }
}
