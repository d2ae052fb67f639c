//! The `bench` command: generate realistic fleets and print, per method, the bill, the bound, the
//! gap, the wall time, the peak memory and the checkpoint size. Figures, not assertions: the
//! machines are shared, so compare ratios measured in one run.

use std::io::Write;
use std::time::Instant;

use clap::Args;
use simopt_core::optimize::{Job, Optimized, Options, Step};
use simopt_core::synthetic::FleetSpec;
use simopt_core::{input, InputFiles, SettingsInput, SourceFile};

use crate::optimize::OptimizerName;
use crate::summary::money;
use crate::CliError;

/// `simopt bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Fleet sizes to run, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    sims: Vec<u64>,
    /// Plans per communication plan, comma separated (each size runs with each).
    #[arg(long, value_delimiter = ',', default_value = "6")]
    plans_per_comm_plan: Vec<u32>,
    /// Communication plans (eligibility groups).
    #[arg(long, default_value_t = 4)]
    comm_plans: u32,
    /// Percent of SIMs activated inside the period (prorated).
    #[arg(long, default_value_t = 8)]
    prorated_pct: u64,
    /// Random seed of the fleets.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Methods to run, comma separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "classic,default"
    )]
    methods: Vec<OptimizerName>,
}

/// Peak resident memory of this process in MB since the last reset (Linux), and a reset.
mod peak {
    pub fn reset() {
        // Writing 5 to clear_refs resets the peak RSS (VmHWM) on Linux ≥ 4.0.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }

    pub fn megabytes() -> Option<f64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }
}

pub fn bench(args: &BenchArgs, stdout: &mut dyn Write) -> Result<(), CliError> {
    // Every fleet is checked before the first runs, so a bad value never waits for the others.
    let mut specs = Vec::new();
    for &plans in &args.plans_per_comm_plan {
        for &sims in &args.sims {
            let spec = FleetSpec {
                sims,
                comm_plans: args.comm_plans,
                plans_per_comm_plan: plans,
                prorated_per_mille: args.prorated_pct * 10,
                seed: args.seed,
                period_end: fixed("2026-11-22T00:00"),
                as_of: fixed("2026-11-20T12:00"),
            };
            spec.check()
                .map_err(|e| CliError::BadInput(format!("error: {e}")))?;
            specs.push(spec);
        }
    }
    let out = |stdout: &mut dyn Write, line: String| {
        writeln!(stdout, "{line}").map_err(|e| CliError::Internal(e.to_string()))
    };
    out(
        stdout,
        format!(
            "{:>9} {:>5} {:<8} {:>15} {:>15} {:>15} {:>8} {:>8} {:>8} {:>8} {:>10}",
            "SIMs",
            "plans",
            "method",
            "current",
            "optimized",
            "bound",
            "gap %",
            "wall s",
            "peak MB",
            "B/SIM",
            "ckpt KB"
        ),
    )?;
    for spec in &specs {
        let sims = spec.sims;
        let (mut p, mut s, mut e) = (Vec::new(), Vec::new(), Vec::new());
        spec.write_plans(&mut p)
            .and_then(|()| spec.write_sims(&mut s))
            .and_then(|()| spec.write_eligibility(&mut e))
            .map_err(|err| CliError::Internal(err.to_string()))?;
        let settings = SettingsInput {
            period_end: Some("2026-11-22T00:00".into()),
            time_zone: Some("America/New_York".into()),
            as_of: Some("2026-11-20T12:00".into()),
            ..SettingsInput::default()
        };
        let files = InputFiles {
            sims: SourceFile {
                name: "sims.csv",
                bytes: &s,
            },
            plans: SourceFile {
                name: "plans.csv",
                bytes: &p,
            },
            eligibility: Some(SourceFile {
                name: "eligibility.csv",
                bytes: &e,
            }),
        };
        let fleet = input::load(&files, &settings)
            .map_err(|err| CliError::Internal(format!("the generated fleet does not load: {err}")))?
            .output;
        drop((p, s, e));
        for method in args.methods.iter().map(|m| m.method()) {
            peak::reset();
            let (result, wall, checkpoint) = timed_run(
                &fleet,
                Options {
                    method,
                    ..Options::default()
                },
            );
            let peak_mb = peak::megabytes();
            out(
                stdout,
                format!(
                    "{:>9} {:>5} {:<8} {:>15} {:>15} {:>15} {:>8} {:>8.2} {:>8} {:>8} {:>10.1}",
                    sims,
                    spec.plan_count(),
                    method.as_str(),
                    money(result.current_cost, 2),
                    money(result.cost, 2),
                    result.lower_bound.map_or("-".into(), |b| money(b, 2)),
                    result
                        .gap()
                        .map_or("-".into(), |g| format!("{:.3}", g * 100.0)),
                    wall,
                    peak_mb.map_or("-".into(), |m| format!("{m:.0}")),
                    peak_mb.map_or("-".into(), |m| format!(
                        "{:.0}",
                        m * 1_048_576.0 / sims.max(1) as f64
                    )),
                    checkpoint as f64 / 1024.0,
                ),
            )?;
        }
    }
    Ok(())
}

/// One run to the end: its result, its wall time (starting the job and its slices), and its
/// largest checkpoint, encoded every 64 quanta between slices (encoding is not timed).
fn timed_run(fleet: &simopt_core::Fleet, options: Options) -> (Optimized, f64, usize) {
    let started = Instant::now();
    let mut job = Job::new(fleet, options);
    let mut wall = started.elapsed().as_secs_f64();
    let mut largest = job.encode().len();
    loop {
        let mut quanta = 0;
        let started = Instant::now();
        let step = job.run_slice(&mut || {
            quanta += 1;
            quanta == 64
        });
        wall += started.elapsed().as_secs_f64();
        largest = largest.max(job.encode().len());
        if let Step::Finished(result) = step {
            return (result, wall, largest);
        }
    }
}

fn fixed(text: &str) -> chrono::NaiveDateTime {
    simopt_core::period::parse_local(text).unwrap_or_default()
}
