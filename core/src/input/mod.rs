//! Reading the interchange files (DESIGN §7) into a validated [`Fleet`].
//!
//! Every problem in every file is collected before giving up, so a user fixes a file once, not
//! once per error. Errors come back as [`InputErrors`]; warnings travel with the fleet.

mod eligibility;
mod fields;
mod iccids;
mod plans;
mod sims;
mod table;

#[cfg(test)]
mod csv_gen;
#[cfg(test)]
mod loader_tests;

use std::collections::HashMap;

use crate::diagnostics::{Code, Collector, Diagnostics, InputErrors, Location, Warned};
use crate::fleet::{Eligibility, Fleet, PlanId, Sim, SlimFleet};
use crate::settings::{Settings, SettingsInput};
use eligibility::EligibilityTable;
use plans::PlanTable;
use sims::{Context, SimReader, SimTable};
use table::RowReader;

/// One input file: the name the user knows it by (for messages) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct SourceFile<'a> {
    /// File name as shown in messages (`sims.csv`).
    pub name: &'a str,
    /// Contents: CSV, or JSON when the name ends in `.json` or the text starts with `[` or `{`
    /// (after any byte order mark and spaces).
    pub bytes: &'a [u8],
}

/// The files of one run.
#[derive(Debug, Clone, Copy)]
pub struct InputFiles<'a> {
    /// The SIMs (`sims.csv`).
    pub sims: SourceFile<'a>,
    /// The rate plans (`plans.csv`).
    pub plans: SourceFile<'a>,
    /// Which plans each communication plan may use (`eligibility.csv`); absent = every plan.
    pub eligibility: Option<SourceFile<'a>>,
}

/// Gives each distinct name a small dense id (an index into `names`).
#[derive(Debug, Default)]
pub(crate) struct Interner {
    pub names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Interner {
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }
}

/// Reads and validates the files of a run with the given settings: a [`Loader`] given the SIMs
/// file in one piece.
///
/// # Errors
/// [`InputErrors`] with every error found in the settings and in each file (with file, row,
/// column and a hint), when any is found. Warnings alone do not fail: they come back in
/// [`Warned::warnings`].
pub fn load(
    files: &InputFiles<'_>,
    settings: &SettingsInput,
) -> Result<Warned<Fleet>, InputErrors> {
    let mut loader = Loader::new(files.plans, files.eligibility, files.sims.name, settings);
    loader.push(files.sims.bytes);
    loader.finish()
}

/// Checks the files of a run as [`load`] reads them, the same diagnostics and the number of SIMs
/// (in [`FileCheck::rows`]), without keeping the SIMs (a [`Loader`] in [`Loader::check_only`]
/// mode given the SIMs file in one piece): for a service that checks an uploaded SIMs file.
///
/// # Errors
/// As [`load`].
pub fn check_sims(
    files: &InputFiles<'_>,
    settings: &SettingsInput,
) -> Result<FileCheck, InputErrors> {
    let mut loader = Loader::new(files.plans, files.eligibility, files.sims.name, settings);
    loader.check_only();
    loader.push(files.sims.bytes);
    loader.finish_check()
}

/// Reads the files of a run with the SIMs file arriving in pieces, so that a service with
/// little memory need not hold its text: the settings, plans and eligibility files go to
/// [`Loader::new`], the SIMs file's bytes to [`Loader::push`] in pieces of any size cut
/// anywhere (even inside a quoted value or a UTF-8 character), and [`Loader::finish`] gives
/// what [`load`] gives for the whole file, diagnostics included.
///
/// Between pieces a CSV SIMs file costs the SIMs read so far and the record in progress. A JSON
/// one (named `.json`, or starting with `[` or `{`) is kept whole until `finish`, because it is
/// parsed as one document: stream CSV.
///
/// ```
/// use simopt_core::input::{Loader, SourceFile};
/// use simopt_core::SettingsInput;
///
/// let plans = SourceFile {
///     name: "plans.csv",
///     bytes: b"plan_id,monthly_charge,included_mb\nS,5.00,100\n",
/// };
/// let settings = SettingsInput {
///     as_of: Some("2026-11-20T12:00".into()),
///     ..SettingsInput::default()
/// };
/// let mut loader = Loader::new(plans, None, "sims.csv", &settings);
/// // Pieces as read from storage, here cut inside an ICCID.
/// for piece in [&b"iccid,current_plan,usage_mb\n89010"[..], b"00001,S,12\n"] {
///     loader.push(piece);
/// }
/// let fleet = loader.finish()?.output;
/// assert_eq!(fleet.sims[0].iccid, "8901000001");
/// # Ok::<(), simopt_core::InputErrors>(())
/// ```
pub struct Loader {
    diagnostics: Collector,
    settings: Option<Settings>,
    plans: PlanTable,
    comm_plans: Interner,
    /// The eligibility file's name and what it says.
    eligibility: Option<(String, EligibilityTable)>,
    sims_name: String,
    rows: RowReader,
    sims: SimReader,
}

impl Loader {
    /// Reads the settings and the plans and eligibility files (whole: they are small), ready for
    /// the SIMs file `sims_name` (the name shown in messages; a `.json` name means JSON).
    pub fn new(
        plans: SourceFile<'_>,
        eligibility: Option<SourceFile<'_>>,
        sims_name: &str,
        settings: &SettingsInput,
    ) -> Self {
        let mut diagnostics = Collector::default();
        let settings = Settings::resolve_into(settings, &mut diagnostics);
        let plans = plans::read(&plans, &mut diagnostics);
        let mut comm_plans = Interner::default();
        let eligibility = eligibility.map(|file| {
            let table = eligibility::read(&file, &plans, &mut comm_plans, &mut diagnostics);
            (file.name.to_owned(), table)
        });
        Self {
            diagnostics,
            settings,
            plans,
            comm_plans,
            eligibility,
            sims_name: sims_name.to_owned(),
            rows: RowReader::new(sims_name, &sims::SCHEMA),
            sims: SimReader::default(),
        }
    }

    /// Makes room for `sims` SIMs at once (the file's rows, when known), so the list of SIMs
    /// is not copied as it grows (in wasm a growing list is copied: old and new at once).
    pub fn reserve(&mut self, sims: usize) {
        self.sims.reserve(sims);
    }

    /// Keeps only the SIMs at these positions (ascending) among all the file's SIMs, the others
    /// read, checked and dropped: [`Loader::finish`] then gives the [`Fleet::part`] of these
    /// SIMs of the fleet it would give, with every plan, pool, name and setting of it, and the
    /// warnings of the SIMs kept (errors anywhere still fail it). For a work unit that needs
    /// its SIMs only. Call it before the first [`Loader::push`].
    pub fn keep_only(&mut self, positions: Vec<u32>) {
        self.sims.keep_only(positions);
    }

    /// Keeps of each SIM only its ICCID and row (16 bytes for ICCIDs of up to 22 digits, the
    /// SIM itself takes 104), for a service that checks a SIMs file without using it:
    /// [`Loader::finish_check`] then gives the number of SIMs and the diagnostics
    /// [`Loader::finish`] would give. Call it before the first [`Loader::push`] (SIMs read
    /// before it are then cut down the same way, but were held whole until then).
    pub fn check_only(&mut self) {
        self.sims.check_only();
    }

    /// Reads the SIMs file's next bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        let Self {
            diagnostics,
            settings,
            plans,
            comm_plans,
            eligibility,
            sims_name,
            rows,
            sims,
        } = self;
        let context = Context {
            file: sims_name,
            plans,
            allowed: eligibility
                .as_ref()
                .map(|(_, table)| table.allowed.as_slice()),
            settings: settings.as_ref(),
        };
        rows.push(bytes, diagnostics, &mut |row, errors| {
            sims.read(&context, row, comm_plans, errors);
        });
    }

    /// Ends the SIMs file and gives the fleet.
    ///
    /// # Errors
    /// As [`load`]: [`InputErrors`] with every error found in the settings and in each file.
    ///
    /// # Panics
    /// After [`Loader::check_only`], which keeps no SIMs to give: use [`Loader::finish_check`].
    pub fn finish(self) -> Result<Warned<Fleet>, InputErrors> {
        assert!(
            !self.sims.checks_only() && !self.sims.is_slim(),
            "Loader::finish after Loader::check_only or Loader::slim: use Loader::finish_check \
             or Loader::finish_slim"
        );
        let mut read = self.end()?;
        let sims = std::mem::take(&mut read.sims.sims);
        Ok(read.into_fleet(sims))
    }

    /// Keeps of each SIM only what the optimizer reads (16 bytes where a SIM takes about 100),
    /// for a service that optimizes a fleet in little memory: [`Loader::finish_slim`] then
    /// gives the [`SlimFleet`] of the fleet [`Loader::finish`] would give (with
    /// [`Loader::keep_only`], of those SIMs), on which the optimizer gives the same result.
    /// ICCIDs listed twice are not looked for: check the file first (a full load, or
    /// [`Loader::check_only`]). Call it before the first [`Loader::push`].
    pub fn slim(&mut self) {
        self.sims.slim();
    }

    /// Lets the SIMs be taken as they are read ([`Loader::take_sims`]), for a service that
    /// goes through a large file's SIMs without holding them all: [`Loader::finish`] then gives
    /// the fleet of the SIMs not taken. ICCIDs listed twice are not looked for: check the file
    /// first. Call it before the first [`Loader::push`].
    pub fn stream(&mut self) {
        self.sims.stream();
    }

    /// The SIMs read since the last call, in file order, given up by the loader (after
    /// [`Loader::stream`]): with [`Loader::keep_only`], only those kept.
    pub fn take_sims(&mut self) -> Vec<Sim> {
        self.sims.take()
    }

    /// Ends the SIMs file and gives the slim fleet ([`Loader::slim`]) and the warnings.
    ///
    /// # Errors
    /// As [`Loader::finish`], but for ICCIDs listed twice.
    ///
    /// # Panics
    /// Without [`Loader::slim`].
    pub fn finish_slim(self) -> Result<Warned<SlimFleet>, InputErrors> {
        assert!(
            self.sims.is_slim() && !self.sims.checks_only(),
            "Loader::finish_slim without Loader::slim"
        );
        let mut read = self.end()?;
        let slim = read.sims.slim.take().unwrap_or_default();
        let Warned { output, warnings } = read.into_fleet(Vec::new());
        Ok(Warned {
            output: slim.finish(output),
            warnings,
        })
    }

    /// Ends the SIMs file and gives what [`Loader::finish`] would: the number of SIMs in its
    /// fleet (in [`FileCheck::rows`]) and its warnings, or the same errors.
    ///
    /// # Errors
    /// As [`Loader::finish`].
    pub fn finish_check(self) -> Result<FileCheck, InputErrors> {
        let read = self.end()?;
        Ok(FileCheck {
            rows: read.sims.kept,
            warnings: read.diagnostics.finish(),
        })
    }

    /// Ends the SIMs file and runs the checks that need every SIM.
    fn end(self) -> Result<Read, InputErrors> {
        let Self {
            mut diagnostics,
            settings,
            plans,
            mut comm_plans,
            eligibility,
            sims_name,
            rows,
            mut sims,
        } = self;
        let context = Context {
            file: &sims_name,
            plans: &plans,
            allowed: eligibility
                .as_ref()
                .map(|(_, table)| table.allowed.as_slice()),
            settings: settings.as_ref(),
        };
        rows.finish(&mut diagnostics, &mut |row, errors| {
            sims.read(&context, row, &mut comm_plans, errors);
        });
        let mut sims = sims.finish(&sims_name, &mut diagnostics);
        let (Some(settings), false) = (settings, diagnostics.has_errors()) else {
            return Err(InputErrors {
                diagnostics: diagnostics.finish(),
            });
        };
        let mut allowed = None;
        if let Some((name, mut table)) = eligibility {
            table.allowed.resize(comm_plans.names.len(), Vec::new());
            report_unused_comm_plans(
                &name,
                &table.first_row,
                &sims.comm_plans_used,
                &mut diagnostics,
            );
            allowed = Some(table.allowed);
        }
        diagnostics.append(std::mem::take(&mut sims.without_eligible_plan));
        Ok(Read {
            diagnostics,
            settings,
            plans,
            comm_plans: comm_plans.names,
            allowed,
            sims,
        })
    }
}

/// What [`Loader::end`] read, checked and found.
struct Read {
    diagnostics: Collector,
    settings: Settings,
    plans: PlanTable,
    comm_plans: Vec<String>,
    allowed: Option<Vec<Vec<PlanId>>>,
    sims: SimTable,
}

impl Read {
    /// The fleet of these SIMs, with the warnings.
    fn into_fleet(self, sims: Vec<Sim>) -> Warned<Fleet> {
        let Read {
            diagnostics,
            settings,
            plans,
            comm_plans,
            allowed,
            sims: table,
        } = self;
        Warned {
            output: Fleet {
                plans: plans.plans,
                pools: plans.pools,
                comm_plans,
                sims,
                plan_types: table.plan_types,
                eligibility: Eligibility { allowed },
                settings,
            },
            warnings: diagnostics.finish(),
        }
    }
}

/// What checking one file found: its data rows (header excluded) and its warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// Data rows (CSV lines after the header, or JSON row objects); for a SIMs file, the SIMs
    /// of the fleet [`load`] gives.
    pub rows: u64,
    /// Warnings found; errors fail the check instead.
    pub warnings: Diagnostics,
}

/// Checks a plans file on its own, with the same rules and diagnostics as [`load`] (for a
/// service that stores the plans before the SIMs arrive).
///
/// # Errors
/// [`InputErrors`] with every error in the file (row, column, hint).
pub fn check_plans(plans: &SourceFile<'_>) -> Result<FileCheck, InputErrors> {
    let mut diagnostics = Collector::default();
    let table = plans::read(plans, &mut diagnostics);
    finish_check(table.plans.len() as u64, diagnostics)
}

/// Checks an eligibility file against a plans file (every plan it names must be there), with the
/// same rules and diagnostics as [`load`]. Communication plans no SIM uses cannot be told yet:
/// [`load`] reports those once the SIMs are known.
///
/// # Errors
/// [`InputErrors`] with every error in either file.
pub fn check_eligibility(
    eligibility: &SourceFile<'_>,
    plans: &SourceFile<'_>,
) -> Result<FileCheck, InputErrors> {
    let mut diagnostics = Collector::default();
    let plans = plans::read(plans, &mut diagnostics);
    let table = eligibility::read(
        eligibility,
        &plans,
        &mut Interner::default(),
        &mut diagnostics,
    );
    finish_check(table.rows, diagnostics)
}

fn finish_check(rows: u64, diagnostics: Collector) -> Result<FileCheck, InputErrors> {
    if diagnostics.has_errors() {
        return Err(InputErrors {
            diagnostics: diagnostics.finish(),
        });
    }
    Ok(FileCheck {
        rows,
        warnings: diagnostics.finish(),
    })
}

fn report_unused_comm_plans(file: &str, first_row: &[u64], used: &[bool], out: &mut Collector) {
    for (index, row) in first_row.iter().enumerate() {
        if *row > 0 && used.get(index) != Some(&true) {
            out.warning(
                Code::UnusedCommPlan,
                &Location::row(file, *row).column("comm_plan"),
                "no SIM uses this communication plan",
                "check its spelling against the SIMs file's comm_plan column",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLANS: &str = "plan_id,monthly_charge,included_mb,overage_rate,overage_block_mb\n\
                         S,2.50,5,0.50,1\nM,6.00,50,,\n";

    fn file<'a>(name: &'a str, text: &'a str) -> SourceFile<'a> {
        SourceFile {
            name,
            bytes: text.as_bytes(),
        }
    }

    #[test]
    fn plans_alone() {
        let check = check_plans(&file("plans.csv", PLANS)).expect("valid");
        assert_eq!(check.rows, 2);
        assert!(check.warnings.items.is_empty());
        let bad = "plan_id,monthly_charge,included_mb\nS,2.50,5\nS,abc,5\n";
        let errors = check_plans(&file("p.csv", bad)).expect_err("invalid");
        let found: Vec<_> = errors
            .errors()
            .map(|d| (d.file.as_str(), d.row, d.column.as_deref()))
            .collect();
        assert_eq!(found, [("p.csv", Some(3), Some("monthly_charge"))]);
    }

    #[test]
    fn eligibility_against_plans() {
        let plans = file("plans.csv", PLANS);
        let text = "comm_plan,plan_id\nCP,S\nCP,M\nCP,S\n";
        let check = check_eligibility(&file("eligibility.csv", text), &plans).expect("valid");
        assert_eq!(check.rows, 3);
        // The repeated pair is a warning, not an error.
        assert_eq!(check.warnings.count(crate::Severity::Warning), 1);
        let errors = check_eligibility(&file("e.csv", "comm_plan,plan_id\nCP,X\n"), &plans)
            .expect_err("unknown plan");
        let d = errors.errors().next().expect("one error");
        assert_eq!(
            (d.file.as_str(), d.row, d.column.as_deref()),
            ("e.csv", Some(2), Some("plan_id"))
        );
        assert!(check_eligibility(&file("e.csv", ""), &plans).is_err());
    }
}
