//! Committed checkpoints keep decoding: a stored optimizer state of an earlier build must resume
//! in this one (the service keeps checkpoints across deploys). `BLESS=1` writes a missing blob.
//! If the format changes, bump `checkpoint::VERSION`, keep reading the old version, and add a
//! blob of the new one beside the old. (Version 1 predates the first release and was retired
//! with `checkpoint::OLDEST_VERSION`: its blob must be refused with a typed error, never
//! misread.)

use simopt_core::money::Money;
use simopt_core::optimize::{Constraints, Job, Options, Step};
use simopt_tests::{basic_fleet, fixtures};

#[test]
fn the_retired_version_1_checkpoint_is_refused_with_a_typed_error() {
    let blob = std::fs::read(fixtures().join("checkpoints/basic-v1.ckpt")).expect("the v1 blob");
    let error = Job::decode(&basic_fleet(), &blob).expect_err("version 1 is retired");
    assert_eq!(error.code(), "checkpoint-old-version");
    assert!(
        error.to_string().contains("start the optimization again"),
        "{error}"
    );
}

/// The committed blob `name` (taken mid-run with `options`; `BLESS=1` writes it when missing)
/// resumes to the result of a fresh run.
fn resumes_to_the_same_result(name: &str, options: Options) {
    let fleet = basic_fleet();
    let path = fixtures().join("checkpoints").join(name);
    if std::env::var_os("BLESS").is_some_and(|v| v == "1") && !path.exists() {
        let mut job = Job::new(&fleet, options);
        let mut quanta = 0;
        let step = job.run_slice(&mut || {
            quanta += 1;
            quanta == 3
        });
        assert!(
            matches!(step, Step::Yielded(_)),
            "the blob is taken mid-run"
        );
        std::fs::write(&path, job.encode()).expect("write the blob");
    }
    let blob = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (BLESS=1 writes it)", path.display()));
    let job = Job::decode(&fleet, &blob).expect("the committed checkpoint decodes");
    assert_eq!(job.options(), options);
    let resumed = job.run();
    let fresh = Job::new(&fleet, options).run();
    assert_eq!(resumed.cost, fresh.cost);
    assert_eq!(resumed.lower_bound, fresh.lower_bound);
}

/// The options of the constrained blobs: a minimum saving of 0.10 and at most 3 changes.
fn constrained() -> Options {
    Options {
        constraints: Constraints {
            min_saving: Money::from_micros(100_000),
            max_changes: Some(3),
        },
        ..Options::default()
    }
}

#[test]
fn the_version_2_checkpoint_still_resumes_to_the_same_result() {
    resumes_to_the_same_result("basic-v2.ckpt", Options::default());
}

#[test]
fn the_version_3_checkpoint_of_a_constrained_run_still_resumes_to_the_same_result() {
    resumes_to_the_same_result("basic-v3-constrained.ckpt", constrained());
}

#[test]
fn the_version_4_checkpoint_still_resumes_to_the_same_result() {
    // Taken while bounding: its pass counts pieces of the class-wise evaluation.
    resumes_to_the_same_result("basic-v4.ckpt", Options::default());
}

#[test]
fn the_version_5_checkpoint_of_a_constrained_run_still_resumes_to_the_same_result() {
    // Version 5 keeps no savings in the change price's pass and marks the rounds of local
    // search that end with ejections.
    resumes_to_the_same_result("basic-v5-constrained.ckpt", constrained());
}

#[test]
fn the_version_6_checkpoint_still_resumes_to_the_same_result() {
    // Version 6 carries the kicks of recovery (none yet at this point of the run).
    resumes_to_the_same_result("basic-v6.ckpt", Options::default());
}

#[test]
fn the_version_7_checkpoint_still_resumes_to_the_same_result() {
    // Version 7 may hold a finished classic stage gathering its winners' choices; this blob,
    // like the earlier ones, was taken while bounding (the basic fleet's classic stage finishes
    // within one quantum), so it holds none.
    resumes_to_the_same_result("basic-v7.ckpt", Options::default());
}

#[test]
fn the_version_8_checkpoint_still_resumes_to_the_same_result() {
    // Version 8 adds the branch-and-bound stage (this blob, taken while bounding, holds none).
    resumes_to_the_same_result("basic-v8.ckpt", Options::default());
}

#[test]
fn the_version_10_checkpoint_still_resumes_to_the_same_result() {
    // Version 9 starts the body with the work units (one here), version 10 adds the bundle
    // method's stage where pools interact (the basic fleet's do not: this blob, taken while
    // bounding, holds none; the core's sliced tests cover it). No build wrote version 9 but in
    // development.
    resumes_to_the_same_result("basic-v10.ckpt", Options::default());
}

#[test]
fn the_version_11_checkpoint_still_resumes_to_the_same_result() {
    // Version 11 adds the pool decomposition to branch and bound on small fleets (this blob,
    // taken while bounding, holds none; the core's tests decode a version-10 branch-and-bound
    // state and slice the new one).
    resumes_to_the_same_result("basic-v11.ckpt", Options::default());
}

#[test]
fn the_version_12_checkpoint_still_resumes_to_the_same_result() {
    // Version 12 lets a pool's pricing in the decomposition go on past its first quantum (this
    // blob, taken while bounding, holds none: the basic fleet's pricings fit in one; the
    // core's tests slice such a pricing and decode it).
    resumes_to_the_same_result("basic-v12.ckpt", Options::default());
}

#[test]
fn the_version_13_checkpoint_still_resumes_to_the_same_result() {
    // Version 13 adds the bundle method's climb on from coordinate ascent's recovered prices
    // and a recovery's flag for following a climb (this blob, taken while bounding, holds
    // neither: the basic fleet has no coupled pools; the core's tests encode both mid-run).
    resumes_to_the_same_result("basic-v13.ckpt", Options::default());
}
