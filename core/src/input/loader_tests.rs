//! The SIMs file read in pieces gives what it gives read whole, and checked without keeping its
//! SIMs the same diagnostics and number of SIMs.

use proptest::prelude::*;

use super::csv_gen::{cuts, pieces, sims_file};
use super::{check_sims, load, FileCheck, InputFiles, Loader, SourceFile};
use crate::diagnostics::{Code, Diagnostics, InputErrors, Warned};
use crate::fleet::{Fleet, SlimFleet};
use crate::settings::SettingsInput;

const PLANS: &str = "plan_id,monthly_charge,included_mb,overage_rate,overage_block_mb,plan_type\n\
                     S,2.50,5,0.50,1,M2M\nM,6.00,50,,,\n";
/// CP7 is used by no generated SIM; CP2 only by SIMs of type M2M; CP9 and others by none.
const ELIGIBILITY: &str = "comm_plan,plan_id\nCP1,S\nCP1,M\nCP2,S\nCP7,S\n";

fn settings() -> SettingsInput {
    SettingsInput {
        period_end: Some("2026-11-22T00:00".into()),
        time_zone: Some("America/New_York".into()),
        as_of: Some("2026-11-20T12:00".into()),
        ..SettingsInput::default()
    }
}

fn file<'a>(name: &'a str, text: &'a str) -> SourceFile<'a> {
    SourceFile {
        name,
        bytes: text.as_bytes(),
    }
}

/// The SIMs file `sims`, loaded whole and fed to a [`Loader`] in `pieces`.
fn both_ways(
    plans: &str,
    eligibility: Option<&str>,
    sims: &[u8],
    pieces: &[&[u8]],
    settings: &SettingsInput,
) -> [Result<Warned<Fleet>, InputErrors>; 2] {
    let plans = file("plans.csv", plans);
    let eligibility = eligibility.map(|text| file("eligibility.csv", text));
    let whole = load(
        &InputFiles {
            sims: SourceFile {
                name: "sims.csv",
                bytes: sims,
            },
            plans,
            eligibility,
        },
        settings,
    );
    let mut loader = Loader::new(plans, eligibility, "sims.csv", settings);
    for piece in pieces {
        loader.push(piece);
    }
    [whole, loader.finish()]
}

/// The SIMs file checked without keeping its SIMs, fed in `pieces`, check mode set before
/// piece `check_from` (SIMs read before it are kept until then).
fn check_in_pieces(
    plans: &str,
    eligibility: Option<&str>,
    pieces: &[&[u8]],
    check_from: usize,
    settings: &SettingsInput,
) -> Result<FileCheck, InputErrors> {
    let plans = file("plans.csv", plans);
    let eligibility = eligibility.map(|text| file("eligibility.csv", text));
    let mut loader = Loader::new(plans, eligibility, "sims.csv", settings);
    for (i, piece) in pieces.iter().enumerate() {
        if i == check_from {
            loader.check_only();
        }
        loader.push(piece);
    }
    if check_from >= pieces.len() {
        loader.check_only();
    }
    loader.finish_check()
}

/// What a check should answer for a file that loads as `loaded`.
/// The warnings of a check that passed, the diagnostics of one that failed.
fn diagnostics(checked: &Result<FileCheck, InputErrors>) -> &Diagnostics {
    match checked {
        Ok(check) => &check.warnings,
        Err(errors) => &errors.diagnostics,
    }
}

fn as_check(loaded: Result<Warned<Fleet>, InputErrors>) -> Result<FileCheck, InputErrors> {
    loaded.map(|fleet| FileCheck {
        rows: fleet.output.sims.len() as u64,
        warnings: fleet.warnings,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any file, cut anywhere (empty pieces, single bytes, inside a quoted value, a CRLF, a byte
    /// order mark or a UTF-8 character): the same fleet and diagnostics, Debug for Debug.
    #[test]
    fn pieces_load_as_the_whole_file(
        sims in sims_file(),
        cuts in cuts(),
        with_eligibility in any::<bool>(),
        check_from in prop_oneof![3 => Just(0usize), 1 => 0..8usize],
    ) {
        let pieces = pieces(&sims, &cuts);
        let eligibility = with_eligibility.then_some(ELIGIBILITY);
        let [whole, streamed] = both_ways(PLANS, eligibility, &sims, &pieces, &settings());
        prop_assert_eq!(format!("{whole:#?}"), format!("{streamed:#?}"));
        // Checked without the SIMs, in pieces and whole: the same answer, Debug for Debug.
        let expected = format!("{:#?}", as_check(whole));
        let checked = check_in_pieces(PLANS, eligibility, &pieces, check_from, &settings());
        prop_assert_eq!(&expected, &format!("{checked:#?}"));
        let files = InputFiles {
            sims: SourceFile { name: "sims.csv", bytes: &sims },
            plans: file("plans.csv", PLANS),
            eligibility: eligibility.map(|text| file("eligibility.csv", text)),
        };
        prop_assert_eq!(&expected, &format!("{:#?}", check_sims(&files, &settings())));
    }
}

/// The plans, SIMs and eligibility files of a generated fleet of 4 × 6 plans.
fn generated(sims: u64, seed: u64) -> [Vec<u8>; 3] {
    let spec = crate::synthetic::FleetSpec {
        sims,
        comm_plans: 4,
        plans_per_comm_plan: 6,
        prorated_per_mille: 80,
        seed,
        period_end: crate::period::parse_local("2026-11-22T00:00").expect("date"),
        as_of: crate::period::parse_local("2026-11-20T12:00").expect("date"),
    };
    let mut files: [Vec<u8>; 3] = Default::default();
    spec.write_plans(&mut files[0]).expect("plans");
    spec.write_sims(&mut files[1]).expect("sims");
    spec.write_eligibility(&mut files[2]).expect("eligibility");
    files
}

#[test]
fn generated_fleet_in_64_kib_pieces() {
    let [plans, sims, eligibility] = generated(20_000, 7);
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8");
    let (plans, eligibility) = (text(plans), text(eligibility));
    let pieces: Vec<&[u8]> = sims.chunks(64 * 1024).collect();
    assert!(pieces.len() > 10, "{} pieces", pieces.len());
    let [whole, streamed] = both_ways(&plans, Some(&eligibility), &sims, &pieces, &settings());
    let whole = whole.expect("the generated fleet loads");
    let streamed = streamed.expect("the generated fleet loads in pieces");
    assert_eq!(streamed.output.sims.len(), 20_000);
    assert_eq!(format!("{whole:?}"), format!("{streamed:?}"));
    // Taken as they are read, the SIMs are the fleet's, and the rest is the same.
    let mut loader = Loader::new(
        file("plans.csv", &plans),
        Some(file("eligibility.csv", &eligibility)),
        "sims.csv",
        &settings(),
    );
    loader.stream();
    let mut taken = Vec::new();
    for piece in &pieces {
        loader.push(piece);
        let sims = loader.take_sims();
        assert!(sims.len() < 1_000, "{} SIMs held", sims.len());
        taken.extend(sims);
    }
    let mut rest = loader.finish().expect("the generated fleet loads streamed");
    assert!(rest.output.sims.len() < 1_000);
    taken.append(&mut rest.output.sims);
    rest.output.sims = taken;
    assert_eq!(format!("{whole:?}"), format!("{rest:?}"));
    let checked = check_in_pieces(&plans, Some(&eligibility), &pieces, 0, &settings())
        .expect("the generated fleet checks");
    assert_eq!(checked.rows, 20_000);
    assert_eq!(Ok(checked), as_check(Ok(whole)));
}

/// A unit's SIMs are kept whole, slim ([`Loader::slim`]) or only checked, each giving what
/// the whole fleet's part of them gives.
#[test]
fn a_work_unit_keeps_its_sims_only() {
    let [plans, sims, eligibility] = generated(5_000, 3);
    let new_loader = || {
        Loader::new(
            SourceFile {
                name: "plans.csv",
                bytes: &plans,
            },
            Some(SourceFile {
                name: "eligibility.csv",
                bytes: &eligibility,
            }),
            "sims.csv",
            &settings(),
        )
    };
    let whole = load(
        &InputFiles {
            sims: SourceFile {
                name: "sims.csv",
                bytes: &sims,
            },
            plans: SourceFile {
                name: "plans.csv",
                bytes: &plans,
            },
            eligibility: Some(SourceFile {
                name: "eligibility.csv",
                bytes: &eligibility,
            }),
        },
        &settings(),
    )
    .expect("the fleet loads")
    .output;
    let units = crate::optimize::units::split_at(&whole, &Default::default(), 1_000);
    assert!(units.len() > 1, "{} units", units.len());
    for part in units
        .iter()
        .chain([&vec![], &vec![0, 4_999], &(0..5_000).collect()])
    {
        let mut loader = new_loader();
        loader.reserve(part.len());
        loader.keep_only(part.clone());
        for piece in sims.chunks(10_007) {
            loader.push(piece);
        }
        let kept = loader.finish().expect("the unit loads");
        assert_eq!(
            format!("{:?}", kept.output),
            format!("{:?}", whole.part(part))
        );
        // Slim, the unit's SIMs as the optimizer reads them, with the same warnings.
        let mut loader = new_loader();
        loader.keep_only(part.clone());
        loader.slim();
        loader.reserve(part.len());
        for piece in sims.chunks(10_007) {
            loader.push(piece);
        }
        let slim = loader.finish_slim().expect("the unit loads slim");
        assert_eq!(
            format!("{:?}", slim.output),
            format!("{:?}", SlimFleet::of(&whole.part(part)))
        );
        assert_eq!(slim.warnings, kept.warnings);
        // Checking a unit's SIMs only answers for them.
        let mut loader = new_loader();
        loader.keep_only(part.clone());
        loader.check_only();
        for piece in sims.chunks(10_007) {
            loader.push(piece);
        }
        assert_eq!(loader.finish_check(), as_check(Ok(kept)));
    }
}

/// Rows are numbered by the line they start on, counting lines inside quoted values, blank
/// lines and CRLF line ends, however the bytes arrive.
#[test]
fn rows_are_numbered_by_their_first_line() {
    let sims = "\u{feff}iccid,current_plan,usage_mb\r\n\"8901\r\n1\",S,1\r\n\r\n  \r\n8902,X,1\r\n";
    let one_byte: Vec<&[u8]> = sims.as_bytes().chunks(1).collect();
    for pieces in [vec![sims.as_bytes()], one_byte] {
        let [_, streamed] = both_ways(PLANS, None, sims.as_bytes(), &pieces, &settings());
        let errors = streamed.expect_err("unknown plan");
        let found: Vec<_> = errors
            .errors()
            .map(|d| (d.code, d.row, d.column.as_deref()))
            .collect();
        assert_eq!(found, [(Code::UnknownPlan, Some(6), Some("current_plan"))]);
    }
}

/// A JSON SIMs file is kept whole and read at the end, the same as loaded whole.
#[test]
fn json_in_pieces() {
    let sims = br#"{"sims": [{"iccid": "8901", "current_plan": "S", "usage_mb": 3}]}"#;
    let pieces: Vec<&[u8]> = sims.chunks(5).collect();
    let [whole, streamed] = both_ways(PLANS, None, sims, &pieces, &settings());
    let (whole, streamed) = (whole.expect("valid JSON"), streamed.expect("valid JSON"));
    assert_eq!(streamed.output.sims.len(), 1);
    assert_eq!(format!("{whole:?}"), format!("{streamed:?}"));
}

/// The checks that need every SIM, by hand: an ICCID listed twice fails the file; without it,
/// a communication plan no SIM uses and SIMs no plan is eligible for are warned about. The
/// same both ways, and each in pieces of every size from one byte.
#[test]
fn checks_of_every_sim_by_hand() {
    let eligibility = "comm_plan,plan_id\nCP1,S\nCP2,S\nCP7,M\n";
    let clean = "iccid,current_plan,usage_mb,comm_plan,plan_type\n\
                 8901,S,1,CP1,M2M\n8902,M,1,CP2,IOT\n8903,S,1,CP9,\nab,S,1,CP1,\n";
    let repeated = format!("{clean}8901,S,2,CP1,\nab,M,1,CP7,\n8901,S,3,CP1,\n");
    let expect = [
        (
            clean.to_owned(),
            vec![
                Code::UnusedCommPlan,
                Code::NoEligiblePlan,
                Code::NoEligiblePlan,
            ],
        ),
        (repeated, vec![Code::DuplicateIccid; 3]),
    ];
    for (sims, codes) in expect {
        let whole: Vec<&[u8]> = vec![sims.as_bytes()];
        let [loaded, _] = both_ways(
            PLANS,
            Some(eligibility),
            sims.as_bytes(),
            &whole,
            &settings(),
        );
        let loaded = format!("{:#?}", as_check(loaded));
        for size in 1..=sims.len() {
            let pieces: Vec<&[u8]> = sims.as_bytes().chunks(size).collect();
            let checked = check_in_pieces(PLANS, Some(eligibility), &pieces, 0, &settings());
            assert_eq!(loaded, format!("{checked:#?}"), "pieces of {size} bytes");
        }
        let checked = check_in_pieces(PLANS, Some(eligibility), &whole, 0, &settings());
        let found: Vec<_> = diagnostics(&checked).items.iter().map(|d| d.code).collect();
        assert_eq!(found, codes, "{checked:#?}");
    }
}

/// Past the first hundred of a code only a count is kept, so which ones are listed depends on
/// the order they are found in: the same both ways for repeated ICCIDs (numbers and text,
/// listed out of order) and for SIMs no plan is eligible for.
#[test]
fn more_than_a_hundred_of_a_kind() {
    let header = "iccid,current_plan,usage_mb,comm_plan\n";
    let mut repeated = String::from(header);
    let mut no_plan = String::from(header);
    for i in 0..400u32 {
        let n = (i * 7919) % 150;
        let iccid = match n % 3 {
            0 => format!("{n}"),
            1 => format!("89{n}x"),
            _ => "9".repeat(18 + n as usize % 8),
        };
        repeated.push_str(&format!("{iccid},S,1,CP1\n"));
        no_plan.push_str(&format!("8901{i:06},S,1,CP{}\n", i % 3 + 1));
    }
    for sims in [repeated, no_plan] {
        let whole: Vec<&[u8]> = vec![sims.as_bytes()];
        let [loaded, _] = both_ways(
            PLANS,
            Some(ELIGIBILITY),
            sims.as_bytes(),
            &whole,
            &settings(),
        );
        let loaded = as_check(loaded);
        let diagnostics = diagnostics(&loaded);
        assert!(
            diagnostics.counts.iter().any(|c| c.count > 100),
            "{diagnostics:#?}"
        );
        let pieces: Vec<&[u8]> = sims.as_bytes().chunks(1_000).collect();
        let checked = check_in_pieces(PLANS, Some(ELIGIBILITY), &pieces, 0, &settings());
        assert_eq!(format!("{loaded:#?}"), format!("{checked:#?}"));
    }
}
