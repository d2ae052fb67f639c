//! The SIMs file read in pieces gives what it gives read whole.

use proptest::prelude::*;

use super::csv_gen::{cuts, pieces, sims_file};
use super::{load, InputFiles, Loader, SourceFile};
use crate::diagnostics::{Code, InputErrors, Warned};
use crate::fleet::Fleet;
use crate::settings::SettingsInput;

const PLANS: &str = "plan_id,monthly_charge,included_mb,overage_rate,overage_block_mb\n\
                     S,2.50,5,0.50,1\nM,6.00,50,,\n";
const ELIGIBILITY: &str = "comm_plan,plan_id\nCP1,S\nCP1,M\nCP2,M\nCP7,S\n";

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

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any file, cut anywhere (empty pieces, single bytes, inside a quoted value, a CRLF, a byte
    /// order mark or a UTF-8 character): the same fleet and diagnostics, Debug for Debug.
    #[test]
    fn pieces_load_as_the_whole_file(
        sims in sims_file(),
        cuts in cuts(),
        with_eligibility in any::<bool>(),
    ) {
        let pieces = pieces(&sims, &cuts);
        let [whole, streamed] = both_ways(
            PLANS,
            with_eligibility.then_some(ELIGIBILITY),
            &sims,
            &pieces,
            &settings(),
        );
        prop_assert_eq!(format!("{whole:#?}"), format!("{streamed:#?}"));
    }
}

#[test]
fn generated_fleet_in_64_kib_pieces() {
    let spec = crate::synthetic::FleetSpec {
        sims: 20_000,
        comm_plans: 4,
        plans_per_comm_plan: 6,
        prorated_per_mille: 80,
        seed: 7,
        period_end: crate::period::parse_local("2026-11-22T00:00").expect("date"),
        as_of: crate::period::parse_local("2026-11-20T12:00").expect("date"),
    };
    let (mut plans, mut sims, mut eligibility) = (Vec::new(), Vec::new(), Vec::new());
    spec.write_plans(&mut plans).expect("plans");
    spec.write_sims(&mut sims).expect("sims");
    spec.write_eligibility(&mut eligibility)
        .expect("eligibility");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8");
    let (plans, eligibility) = (text(plans), text(eligibility));
    let pieces: Vec<&[u8]> = sims.chunks(64 * 1024).collect();
    assert!(pieces.len() > 10, "{} pieces", pieces.len());
    let [whole, streamed] = both_ways(&plans, Some(&eligibility), &sims, &pieces, &settings());
    let whole = whole.expect("the generated fleet loads");
    let streamed = streamed.expect("the generated fleet loads in pieces");
    assert_eq!(streamed.output.sims.len(), 20_000);
    assert_eq!(format!("{whole:?}"), format!("{streamed:?}"));
}

#[test]
fn a_work_unit_keeps_its_sims_only() {
    let spec = crate::synthetic::FleetSpec {
        sims: 5_000,
        comm_plans: 4,
        plans_per_comm_plan: 6,
        prorated_per_mille: 80,
        seed: 3,
        period_end: crate::period::parse_local("2026-11-22T00:00").expect("date"),
        as_of: crate::period::parse_local("2026-11-20T12:00").expect("date"),
    };
    let (mut plans, mut sims, mut eligibility) = (Vec::new(), Vec::new(), Vec::new());
    spec.write_plans(&mut plans).expect("plans");
    spec.write_sims(&mut sims).expect("sims");
    spec.write_eligibility(&mut eligibility)
        .expect("eligibility");
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
        let kept = loader.finish().expect("the unit loads").output;
        assert_eq!(format!("{:?}", kept), format!("{:?}", whole.part(part)));
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
