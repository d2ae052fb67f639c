//! Helpers shared by the binding tests: fixtures from `tests/fixtures/` and JavaScript values
//! built the way a page builds them.
#![allow(dead_code)] // each test binary uses its own subset

use js_sys::{Object, Reflect, Uint8Array, JSON};
use simopt_wasm::{CostFiles, CostRun, CostSettings};
use wasm_bindgen::{JsCast, JsValue};

/// One input file of a fixture: its name and bytes.
pub type File = (&'static str, &'static [u8]);

/// The files of a fixture directory, compiled in.
pub struct Fixture {
    pub sims: File,
    pub plans: File,
    pub eligibility: Option<File>,
    pub settings: &'static str,
}

/// A fixture under `tests/fixtures/<dir>`: `fixture!("cases/basic", "sims.csv", "plans.csv",
/// "eligibility.csv")` (the eligibility file may be left out).
macro_rules! fixture {
    ($dir:literal, $sims:literal, $plans:literal $(, $eligibility:literal)?) => {
        $crate::support::Fixture {
            sims: ($sims, include_bytes!(concat!("../../tests/fixtures/", $dir, "/", $sims))),
            plans: ($plans, include_bytes!(concat!("../../tests/fixtures/", $dir, "/", $plans))),
            eligibility: None $(.or(Some((
                $eligibility,
                include_bytes!(concat!("../../tests/fixtures/", $dir, "/", $eligibility)) as &[u8],
            ))))?,
            settings: include_str!(concat!("../../tests/fixtures/", $dir, "/settings.json")),
        }
    };
}

fn set(target: &Object, key: &str, value: &JsValue) {
    Reflect::set(target, &JsValue::from_str(key), value).expect("setting a property");
}

/// `{ name, bytes: Uint8Array }`.
pub fn bytes_file((name, bytes): File) -> JsValue {
    let file = Object::new();
    set(&file, "name", &name.into());
    set(&file, "bytes", &Uint8Array::from(bytes).into());
    file.into()
}

/// `{ name, text }`.
pub fn text_file(name: &str, text: &str) -> JsValue {
    let file = Object::new();
    set(&file, "name", &name.into());
    set(&file, "text", &text.into());
    file.into()
}

/// `{ sims, plans, eligibility? }`.
pub fn files(sims: JsValue, plans: JsValue, eligibility: Option<JsValue>) -> CostFiles {
    let files = Object::new();
    set(&files, "sims", &sims);
    set(&files, "plans", &plans);
    if let Some(eligibility) = eligibility {
        set(&files, "eligibility", &eligibility);
    }
    files.unchecked_into()
}

/// A settings object from JSON text, parsed by JavaScript's own `JSON.parse`.
pub fn settings(json: &str) -> CostSettings {
    JSON::parse(json)
        .expect("settings are JSON")
        .unchecked_into()
}

impl Fixture {
    /// The fixture's files as a page passes them (bytes read from `File` objects).
    pub fn files(&self) -> CostFiles {
        files(
            bytes_file(self.sims),
            bytes_file(self.plans),
            self.eligibility.map(bytes_file),
        )
    }

    /// Costs the fixture through the bindings.
    pub fn run(&self) -> Result<CostRun, js_sys::Error> {
        CostRun::new(self.files(), settings(self.settings))
    }
}

/// A JavaScript value from JSON text (`JSON.parse`), typed as the argument it stands for.
pub fn js<T: JsCast>(json: &str) -> T {
    JSON::parse(json).expect("valid JSON").unchecked_into()
}

/// A JavaScript value as JSON data, for comparisons.
pub fn to_json(value: impl Into<JsValue>) -> serde_json::Value {
    serde_wasm_bindgen::from_value(value.into()).expect("a JSON-like value")
}

/// A property of an object.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).expect("reading a property")
}

/// The `name` and `message` of a thrown error.
pub fn name_and_message(error: &js_sys::Error) -> (String, String) {
    (String::from(error.name()), String::from(error.message()))
}
