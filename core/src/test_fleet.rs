//! Test support: fleets written as CSV text, as a user would write them.

use crate::fleet::Fleet;
use crate::input::{load, InputFiles, SourceFile};
use crate::settings::SettingsInput;

/// Loads a fleet from the text of its files (each with its header row).
///
/// # Panics
/// When the text does not load: a broken fixture.
pub(crate) fn fleet_from_text(
    plans: &str,
    sims: &str,
    eligibility: Option<&str>,
    settings: &SettingsInput,
) -> Fleet {
    let files = InputFiles {
        sims: SourceFile {
            name: "sims.csv",
            bytes: sims.as_bytes(),
        },
        plans: SourceFile {
            name: "plans.csv",
            bytes: plans.as_bytes(),
        },
        eligibility: eligibility.map(|e| SourceFile {
            name: "eligibility.csv",
            bytes: e.as_bytes(),
        }),
    };
    load(&files, settings)
        .unwrap_or_else(|e| panic!("fixture does not load: {e}"))
        .output
}
