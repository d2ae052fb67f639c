//! Failures as JavaScript `Error` objects with a stable `name`, so callers can tell them apart
//! without parsing messages:
//!
//! | `name`            | when                                    | extra properties |
//! |-------------------|-----------------------------------------|------------------|
//! | `InputError`      | the files or settings are invalid       | `code` (`"invalid-input"`), `diagnostics` (every kept diagnostic: file, row, column, message, hint), `errorCount` |
//! | `CheckpointError` | checkpoint bytes cannot be resumed      | `code`: `checkpoint-bad-magic`, `checkpoint-future-version`, `checkpoint-old-version`, `checkpoint-truncated`, `checkpoint-corrupt` or `checkpoint-invalid` (another input's, or not a valid state) |
//! | `ArgumentError`   | an argument has the wrong shape         | — |
//! | `InternalError`   | a result could not be converted (bug)   | — |
//!
//! The message is the core's own text (what is wrong, where, what to do).

use serde::Serialize;
use simopt_core::optimize::checkpoint::DecodeError;
use simopt_core::{InputErrors, Severity};
use wasm_bindgen::JsValue;

/// `name` of the error thrown for invalid input.
pub const INPUT_ERROR: &str = "InputError";
/// `name` of the error thrown for checkpoint bytes that cannot be resumed.
pub const CHECKPOINT_ERROR: &str = "CheckpointError";
/// `name` of the error thrown for arguments of the wrong shape.
pub const ARGUMENT_ERROR: &str = "ArgumentError";
/// `name` of the error thrown when a result cannot be converted.
pub const INTERNAL_ERROR: &str = "InternalError";

fn named(name: &str, message: &str) -> js_sys::Error {
    let error = js_sys::Error::new(message);
    error.set_name(name);
    error
}

fn set(error: &js_sys::Error, key: &str, value: &JsValue) {
    // Defining a property on a fresh, unfrozen Error object cannot fail.
    let _ = js_sys::Reflect::set(error, &JsValue::from_str(key), value);
}

/// The `InputError` for the core's diagnostics.
pub fn to_js_error(errors: &InputErrors) -> js_sys::Error {
    let error = named(INPUT_ERROR, errors.to_string().trim_end());
    set(&error, "code", &JsValue::from_str(errors.code()));
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let diagnostics = errors
        .diagnostics
        .items
        .serialize(&serializer)
        .unwrap_or_else(|_| js_sys::Array::new().into());
    set(&error, "diagnostics", &diagnostics);
    let count = errors.diagnostics.count(Severity::Error) as f64;
    set(&error, "errorCount", &JsValue::from_f64(count));
    error
}

/// The `CheckpointError` for a checkpoint the core refused, with the core's `code()`.
pub fn checkpoint_error(error: &DecodeError) -> js_sys::Error {
    let js = named(CHECKPOINT_ERROR, &error.to_string());
    set(&js, "code", &JsValue::from_str(error.code()));
    js
}

/// An `ArgumentError` with `message`.
pub fn argument_error(message: &str) -> js_sys::Error {
    named(ARGUMENT_ERROR, message)
}

/// An `InternalError` with `message`.
pub fn internal_error(message: &str) -> js_sys::Error {
    named(INTERNAL_ERROR, message)
}
