//! A report whose per-SIM lines come from a [`LineSource`] — the fleet and the bills in memory
//! without their SIMs — writes the same Excel report, CSV export and JSON document, byte for
//! byte, as the report of the whole fleet in memory.

use std::io;
use std::ops::Range;

use super::{csv, json, xlsx, LineSource, Outcome, Report, SimLine};
use crate::cost::SimCharge;
use crate::diagnostics::Diagnostics;
use crate::fleet::{Fleet, PlanId, Sim};
use crate::optimize::{units::split, Job, Options};

/// Each SIM's line, kept apart from the fleet, handed out in runs of at most `run` lines (as a
/// service reading them from storage would).
struct Stored {
    sims: Vec<(Sim, PlanId, SimCharge, SimCharge)>,
    run: usize,
    reads: std::sync::atomic::AtomicUsize,
}

impl LineSource for Stored {
    fn sim_count(&self) -> usize {
        self.sims.len()
    }

    fn lines(
        &self,
        fleet: &Fleet,
        range: Range<usize>,
        each: &mut dyn FnMut(&SimLine<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut at = range.start;
        while at < range.end {
            let to = (at + self.run).min(range.end);
            self.reads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // A run read "from storage": copies, dropped once handed out.
            let run: Vec<_> = self.sims[at..to].to_vec();
            for (sim, plan, charge, current) in &run {
                each(&SimLine::new(fleet, sim, *plan, *charge, *current))?;
            }
            at = to;
        }
        Ok(())
    }
}

fn documents(report: &Report<'_>) -> [Vec<u8>; 3] {
    let options = xlsx::Options {
        account_name: Some("Acme".into()),
        rows_per_sheet: 700,
        ..xlsx::Options::default()
    };
    let workbook = xlsx::to_bytes(report, &options).expect("the workbook");
    let mut text = Vec::new();
    csv::write(&mut text, report).expect("the CSV");
    let mut document = Vec::new();
    json::write(&mut document, report).expect("the JSON");
    [workbook, text, document]
}

#[test]
fn a_report_from_a_line_source_writes_what_the_whole_fleet_writes() {
    let mut fleet = crate::optimize::tests::synthetic_fleet_of(2_500, 4, 3, 6);
    for sim in fleet.sims.iter_mut().step_by(11) {
        sim.locked = true;
    }
    assert!(split(&fleet, &Options::default()).len() == 1);
    let result = Job::new(&fleet, Options::default()).run();
    let outcome = Outcome::of(&fleet, result, &Options::default(), true);
    let warnings = Diagnostics::default();
    let whole = outcome.report(&fleet, &warnings);
    let expected = documents(&whole);
    assert!(
        outcome.summary.changes > 700,
        "{} changes",
        outcome.summary.changes
    );

    let stored = Stored {
        sims: (0..fleet.sims.len())
            .map(|i| {
                (
                    fleet.sims[i].clone(),
                    outcome.result.plans[i],
                    outcome.bill.sims[i],
                    outcome.current.sims[i],
                )
            })
            .collect(),
        run: 97,
        reads: Default::default(),
    };
    // Without its SIMs: the frame, the bills' totals, no plans — read from the source only.
    let frame = Fleet {
        sims: Vec::new(),
        ..fleet.clone()
    };
    let (mut current, mut bill) = (outcome.current.clone(), outcome.bill.clone());
    (current.sims, bill.sims) = (Vec::new(), Vec::new());
    let report = Report::of_optimization(&frame, &current, &[], &bill, &outcome.summary, &warnings)
        .with_lines(&stored);
    assert_eq!(report.sim_count(), 2_500);
    let streamed = documents(&report);
    for (name, (a, b)) in ["xlsx", "csv", "json"]
        .iter()
        .zip(expected.iter().zip(&streamed))
    {
        assert!(
            a == b,
            "the {name} differs ({} and {} bytes)",
            a.len(),
            b.len()
        );
    }
    assert!(stored.reads.load(std::sync::atomic::Ordering::Relaxed) > 3 * 2_500 / 97);

    // A source that fails stops each writer with its error.
    struct Failing;
    impl LineSource for Failing {
        fn sim_count(&self) -> usize {
            1
        }
        fn lines(
            &self,
            _: &Fleet,
            _: Range<usize>,
            _: &mut dyn FnMut(&SimLine<'_>) -> io::Result<()>,
        ) -> io::Result<()> {
            Err(io::Error::other("storage is down"))
        }
    }
    let report = report.with_lines(&Failing);
    assert!(csv::write(Vec::new(), &report).is_err());
    assert!(json::write(Vec::new(), &report).is_err());
    let failed = xlsx::to_bytes(&report, &xlsx::Options::default()).expect_err("no workbook");
    assert!(failed.to_string().contains("storage is down"), "{failed}");
}
