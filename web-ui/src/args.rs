//! The arguments of the constructors and methods as they arrive from JavaScript, read with
//! `serde-wasm-bindgen`: the files and settings of a run, the optimizer's options, a slice's
//! budget and checkpoint bytes.

use serde::de::{Deserializer, Visitor};
use serde::Deserialize;
use simopt_core::money::Money;
use simopt_core::optimize::{Method, Options};
use simopt_core::{InputFiles, SettingsInput, SourceFile};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::argument_error;

/// One file: its name (for messages and to tell JSON from CSV) and its contents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileArg {
    /// The name the user knows the file by (`sims.csv`).
    pub name: String,
    /// Contents as text.
    #[serde(default)]
    pub text: Option<String>,
    /// Contents as bytes (`Uint8Array` or `ArrayBuffer`), so the core can report bad encodings.
    #[serde(default, deserialize_with = "byte_buf")]
    pub bytes: Option<Vec<u8>>,
}

impl FileArg {
    fn contents(&self) -> &[u8] {
        match (&self.text, &self.bytes) {
            (_, Some(bytes)) => bytes,
            (Some(text), None) => text.as_bytes(),
            (None, None) => &[],
        }
    }

    fn as_source(&self) -> SourceFile<'_> {
        SourceFile {
            name: &self.name,
            bytes: self.contents(),
        }
    }

    fn check(&self, field: &str) -> Result<(), js_sys::Error> {
        match (&self.text, &self.bytes) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err(argument_error(&format!(
                "files.{field} needs exactly one of `text` (a string) or `bytes` (a Uint8Array)"
            ))),
        }
    }
}

/// The files of a run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesArg {
    /// The SIMs file.
    pub sims: FileArg,
    /// The rate plans file.
    pub plans: FileArg,
    /// The eligibility file; absent, `null` or `undefined` means every plan is allowed.
    #[serde(default)]
    pub eligibility: Option<FileArg>,
}

impl FilesArg {
    /// Reads the `files` argument.
    ///
    /// # Errors
    /// `ArgumentError` when it is not `{ sims, plans, eligibility? }` of `{ name, text | bytes }`.
    pub fn from_js(value: JsValue) -> Result<Self, js_sys::Error> {
        // serde-wasm-bindgen reads only the fields it expects: check the keys first, so that a
        // misspelt `eligibility` is an error rather than a silently missing file.
        check_keys(&value, "files", &["sims", "plans", "eligibility"])?;
        for field in ["sims", "plans", "eligibility"] {
            let file = js_sys::Reflect::get(&value, &JsValue::from_str(field)).unwrap_or_default();
            check_keys(&file, &format!("files.{field}"), &["name", "text", "bytes"])?;
        }
        let files: FilesArg = serde_wasm_bindgen::from_value(value)
            .map_err(|e| argument_error(&format!("files: {e}")))?;
        files.sims.check("sims")?;
        files.plans.check("plans")?;
        if let Some(eligibility) = &files.eligibility {
            eligibility.check("eligibility")?;
        }
        Ok(files)
    }

    /// The files as the core takes them.
    pub fn as_input(&self) -> InputFiles<'_> {
        InputFiles {
            sims: self.sims.as_source(),
            plans: self.plans.as_source(),
            eligibility: self.eligibility.as_ref().map(FileArg::as_source),
        }
    }
}

/// The `settings` argument.
pub struct SettingsArg;

impl SettingsArg {
    /// Reads the `settings` argument into the core's [`SettingsInput`] (unknown keys refused;
    /// `null`/`undefined` = all defaults, which the core then rejects for the missing `asOf`).
    ///
    /// # Errors
    /// `ArgumentError` when it is not an object of known settings with string, number or
    /// boolean values.
    pub fn from_js(value: JsValue) -> Result<SettingsInput, js_sys::Error> {
        if value.is_null() || value.is_undefined() {
            return Ok(SettingsInput::default());
        }
        // Through a JSON value, not straight from the object: serde-wasm-bindgen reads only the
        // fields it expects, so it would silently ignore a misspelt key.
        let bad = |e: &dyn std::fmt::Display| argument_error(&format!("settings: {e}"));
        let json: serde_json::Value = serde_wasm_bindgen::from_value(value).map_err(|e| bad(&e))?;
        if !json.is_object() {
            return Err(bad(&"expected an object of account settings"));
        }
        serde_json::from_value(json).map_err(|e| bad(&e))
    }
}

/// The most subgradient iterations `dualIterations` may ask for (each is one pass over the SIMs;
/// they run only where pools interact, and usually stop long before).
pub const MAX_DUAL_ITERATIONS: u32 = 1_000_000;

/// The optimizer's method as JavaScript names it.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum MethodArg {
    Default,
    Classic,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OptionsFields {
    #[serde(default)]
    method: Option<MethodArg>,
    #[serde(default)]
    dual_iterations: Option<u32>,
    #[serde(default)]
    min_saving: Option<String>,
    #[serde(default)]
    max_changes: Option<u32>,
    #[serde(default)]
    lock_iccids: Option<Vec<String>>,
}

/// What `OptimizeJob.start` takes besides the files: the core's options and the SIMs the run
/// must leave on their plans (what-if locks, on top of the files' `locked` columns).
#[derive(Debug, Default)]
pub struct StartOptions {
    /// The optimizer's options.
    pub options: Options,
    /// ICCIDs of SIMs to keep on their current plans.
    pub lock_iccids: Vec<String>,
}

/// The `options` argument of `OptimizeJob.start`.
pub struct OptionsArg;

impl OptionsArg {
    /// Reads `{ method?: "default" | "classic", dualIterations?: number, minSaving?: string,
    /// maxChanges?: number, lockIccids?: string[] }` into the core's [`Options`] and the
    /// ICCIDs to lock; `null`/`undefined` (or an absent key) means the default.
    ///
    /// # Errors
    /// `ArgumentError` for an unknown key or method, an iteration count that is not an
    /// integer from 0 to [`MAX_DUAL_ITERATIONS`], a minimum saving that is not a decimal
    /// amount of at least 0, or a limit on changes that is not a whole number from 0.
    pub fn from_js(value: JsValue) -> Result<StartOptions, js_sys::Error> {
        let mut options = Options::default();
        if value.is_null() || value.is_undefined() {
            return Ok(StartOptions::default());
        }
        check_object(&value, "options")?;
        check_keys(
            &value,
            "options",
            &[
                "method",
                "dualIterations",
                "minSaving",
                "maxChanges",
                "lockIccids",
            ],
        )?;
        let fields: OptionsFields = serde_wasm_bindgen::from_value(value)
            .map_err(|e| argument_error(&format!("options: {e}")))?;
        if let Some(method) = fields.method {
            options.method = match method {
                MethodArg::Default => Method::Default,
                MethodArg::Classic => Method::Classic,
            };
        }
        if let Some(iterations) = fields.dual_iterations {
            if iterations > MAX_DUAL_ITERATIONS {
                return Err(argument_error(&format!(
                    "options.dualIterations is {iterations}; at most {MAX_DUAL_ITERATIONS} are allowed"
                )));
            }
            options.dual_iterations = iterations;
        }
        if let Some(text) = fields.min_saving {
            options.constraints.min_saving = match Money::parse(&text) {
                Ok(m) if m >= Money::ZERO => m,
                _ => {
                    return Err(argument_error(&format!(
                        "options.minSaving is {text:?}; give a decimal amount of at least 0, e.g. \"0.50\""
                    )))
                }
            };
        }
        options.constraints.max_changes = fields.max_changes.map(u64::from);
        Ok(StartOptions {
            options,
            lock_iccids: fields.lock_iccids.unwrap_or_default(),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BudgetFields {
    #[serde(default)]
    max_millis: Option<f64>,
    #[serde(default)]
    max_quanta: Option<u64>,
}

/// How much work one `runSlice` call may do: it stops after `max_quanta` quanta, or when one
/// more quantum as long as the slice's longest would pass `max_millis` (at least one quantum
/// always runs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetArg {
    /// Wall-clock milliseconds (`Date.now()`; it does not advance during CPU work in Workers).
    pub max_millis: Option<f64>,
    /// Quanta, each a fixed small piece of work: the budget that means the same everywhere.
    pub max_quanta: Option<u64>,
}

impl BudgetArg {
    /// Reads `{ maxMillis?: number, maxQuanta?: number }`, at least one given.
    ///
    /// # Errors
    /// `ArgumentError` for an unknown key, neither limit, a `maxMillis` that is negative or not
    /// finite, or a `maxQuanta` that is not a positive integer.
    pub fn from_js(value: JsValue) -> Result<Self, js_sys::Error> {
        check_object(&value, "budget")?;
        check_keys(&value, "budget", &["maxMillis", "maxQuanta"])?;
        let fields: BudgetFields = serde_wasm_bindgen::from_value(value)
            .map_err(|e| argument_error(&format!("budget: {e}")))?;
        if fields.max_millis.is_none() && fields.max_quanta.is_none() {
            return Err(argument_error(
                "budget: give maxMillis (milliseconds) or maxQuanta (pieces of work), or both",
            ));
        }
        if let Some(ms) = fields.max_millis.filter(|ms| !ms.is_finite() || *ms < 0.0) {
            return Err(argument_error(&format!(
                "budget.maxMillis is {ms}; it must be a finite number of milliseconds, 0 or more"
            )));
        }
        if fields.max_quanta == Some(0) {
            return Err(argument_error(
                "budget.maxQuanta is 0; it must be a positive integer (at least one quantum runs)",
            ));
        }
        Ok(BudgetArg {
            max_millis: fields.max_millis,
            max_quanta: fields.max_quanta,
        })
    }
}

/// Reads checkpoint bytes: a `Uint8Array` or an `ArrayBuffer`.
///
/// # Errors
/// `ArgumentError` for anything else.
pub fn checkpoint_bytes(value: &JsValue) -> Result<Vec<u8>, js_sys::Error> {
    if let Some(array) = value.dyn_ref::<js_sys::Uint8Array>() {
        Ok(array.to_vec())
    } else if let Some(buffer) = value.dyn_ref::<js_sys::ArrayBuffer>() {
        Ok(js_sys::Uint8Array::new(buffer).to_vec())
    } else {
        Err(argument_error(
            "checkpoint: expected the bytes encode() returned, as a Uint8Array or an ArrayBuffer",
        ))
    }
}

/// Refuses anything but a plain object (arrays included), naming the argument.
fn check_object(value: &JsValue, what: &str) -> Result<(), js_sys::Error> {
    if value.is_object() && !js_sys::Array::is_array(value) {
        Ok(())
    } else {
        Err(argument_error(&format!("{what}: expected an object")))
    }
}

/// Refuses keys of a plain object other than `allowed` (anything but an object passes: the
/// deserializer reports those).
fn check_keys(value: &JsValue, what: &str, allowed: &[&str]) -> Result<(), js_sys::Error> {
    let Some(object) = value.dyn_ref::<js_sys::Object>() else {
        return Ok(());
    };
    if js_sys::Array::is_array(value) {
        return Ok(());
    }
    for key in js_sys::Object::keys(object) {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            return Err(argument_error(&format!(
                "{what}: unknown field `{key}`, expected one of {}",
                allowed
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}

/// Reads a `Uint8Array`/`ArrayBuffer` (or an array of byte values) into a `Vec<u8>`.
fn byte_buf<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<u8>>, D::Error> {
    struct Bytes;
    impl<'de> Visitor<'de> for Bytes {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a Uint8Array")
        }
        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::new();
            while let Some(byte) = seq.next_element::<u8>()? {
                out.push(byte);
            }
            Ok(out)
        }
    }
    struct MaybeBytes;
    impl<'de> Visitor<'de> for MaybeBytes {
        type Value = Option<Vec<u8>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a Uint8Array")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_byte_buf(Bytes).map(Some)
        }
    }
    deserializer.deserialize_option(MaybeBytes)
}
