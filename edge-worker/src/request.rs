//! Reading a cost request: the body, in either of its two forms, into files and settings.
//!
//! - `multipart/form-data`: file fields `sims`, `plans`, optional `eligibility` (plain text
//!   fields work too); settings as text fields named like [`SettingsInput`] (`period_end`,
//!   `time_zone`, `as_of`, ...), and optionally a `settings` field or file holding a JSON object
//!   of the same keys (the text fields win).
//! - `application/json`: `{"sims": ..., "plans": ..., "eligibility": ..., "settings": {...}}`,
//!   each file either CSV text (a JSON string) or JSON rows (an array of row objects, passed to
//!   the core as `sims.json` etc.).
//!
//! The body is limited to [`MAX_BODY_BYTES`]: the declared `Content-Length` is checked before
//! reading, and the bytes actually received are counted (the JSON body is read as a stream and
//! dropped at the limit; the parts of a form are added up before any is copied).

use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use simopt_core::{InputFiles, SettingsInput, SourceFile};
use worker::js_sys::{self, Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{web_sys, File, Request};

use crate::error::ApiError;

/// Largest request body accepted, in bytes (64 MiB: a few hundred thousand SIMs as CSV).
pub const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// How large a request body may be, and what to tell a client whose body is larger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit {
    /// The largest body accepted, in bytes.
    pub bytes: u64,
    /// What to do instead, for the 413 message.
    pub hint: &'static str,
}

impl BodyLimit {
    /// The 413 for a body of `size` bytes (when known).
    pub fn exceeded(self, size: Option<u64>) -> ApiError {
        ApiError::PayloadTooLarge {
            limit: self.bytes,
            size,
            hint: self.hint,
        }
    }

    /// Checks the declared `Content-Length`, before anything is read.
    ///
    /// # Errors
    /// [`ApiError::PayloadTooLarge`] for a declared length over the limit.
    pub fn check_declared(self, header: Option<&str>) -> Result<(), ApiError> {
        match header.and_then(|h| h.trim().parse::<u64>().ok()) {
            Some(size) if size > self.bytes => Err(self.exceeded(Some(size))),
            _ => Ok(()),
        }
    }
}

/// The limit of `POST /api/cost`.
pub const COST_LIMIT: BodyLimit = BodyLimit {
    bytes: MAX_BODY_BYTES,
    hint: "send fewer SIMs per request",
};

/// One input file as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The name shown in diagnostics: the uploaded file's name, or `sims.csv` etc.
    pub name: String,
    /// The contents.
    pub bytes: Vec<u8>,
}

/// Everything a cost run needs, read from the request.
#[derive(Debug, Clone)]
pub struct CostRequest {
    /// The SIMs file.
    pub sims: Upload,
    /// The rate plans file.
    pub plans: Upload,
    /// The eligibility file, when given.
    pub eligibility: Option<Upload>,
    /// Account settings as sent (not yet validated: the core does that).
    pub settings: SettingsInput,
}

impl CostRequest {
    /// The files, borrowed in the core's shape.
    pub fn files(&self) -> InputFiles<'_> {
        fn source(u: &Upload) -> SourceFile<'_> {
            SourceFile {
                name: &u.name,
                bytes: &u.bytes,
            }
        }
        InputFiles {
            sims: source(&self.sims),
            plans: source(&self.plans),
            eligibility: self.eligibility.as_ref().map(source),
        }
    }
}

/// The file fields of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileField {
    Sims,
    Plans,
    Eligibility,
}

impl FileField {
    const ALL: [FileField; 3] = [FileField::Sims, FileField::Plans, FileField::Eligibility];

    fn from_name(name: &str) -> Option<FileField> {
        FileField::ALL.into_iter().find(|f| f.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            FileField::Sims => "sims",
            FileField::Plans => "plans",
            FileField::Eligibility => "eligibility",
        }
    }

    /// Name shown in messages when the client gave none.
    fn default_name(self, json: bool) -> String {
        format!("{}.{}", self.name(), if json { "json" } else { "csv" })
    }
}

/// The field or key carrying settings as one JSON object.
const SETTINGS_FIELD: &str = "settings";

/// Reads the body of a cost request.
///
/// # Errors
/// 413/415/400 errors for a body that is too large, of another type, or malformed; a missing
/// `sims` or `plans` file.
pub async fn read_cost_request(req: &mut Request) -> Result<CostRequest, ApiError> {
    COST_LIMIT.check_declared(req.headers().get("content-length")?.as_deref())?;
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    match media_type(&content_type).as_str() {
        "multipart/form-data" => read_form(req).await,
        t if is_json(t) => read_json(req).await,
        _ => Err(ApiError::UnsupportedMediaType {
            content_type,
            accepted: "send multipart/form-data (file fields sims, plans, eligibility) or \
                       application/json",
        }),
    }
}

/// Whether a media type (as [`media_type`] gives it) is JSON.
pub(crate) fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// The media type of a `Content-Type` header, lower case, without parameters.
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

// ---- JSON body ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonBody<'a> {
    #[serde(borrow, default)]
    sims: Option<&'a RawValue>,
    #[serde(borrow, default)]
    plans: Option<&'a RawValue>,
    #[serde(borrow, default)]
    eligibility: Option<&'a RawValue>,
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
}

async fn read_json(req: &mut Request) -> Result<CostRequest, ApiError> {
    let bytes = read_capped(req, COST_LIMIT).await?;
    parse_json_body(&bytes)
}

/// Reads the whole body, giving up as soon as it passes `limit` (the declared length is
/// checked first).
///
/// # Errors
/// [`ApiError::PayloadTooLarge`] past the limit; a runtime error from the stream.
pub(crate) async fn read_capped(req: &mut Request, limit: BodyLimit) -> Result<Vec<u8>, ApiError> {
    let mut body = Body::of(req, limit)?;
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await? {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A request's body read a chunk at a time, held to a limit.
pub(crate) struct Body {
    stream: Option<worker::ByteStream>,
    limit: BodyLimit,
    read: u64,
}

impl Body {
    /// The body of `req` (none: no chunks), its declared length checked against `limit`.
    ///
    /// # Errors
    /// [`ApiError::PayloadTooLarge`] for a declared length past the limit; a runtime error.
    pub fn of(req: &mut Request, limit: BodyLimit) -> Result<Body, ApiError> {
        limit.check_declared(req.headers().get("content-length")?.as_deref())?;
        let stream = match req.inner().body() {
            None => None,
            Some(_) => Some(req.stream()?),
        };
        Ok(Body {
            stream,
            limit,
            read: 0,
        })
    }

    /// The next chunk, or `None` at the end.
    ///
    /// # Errors
    /// [`ApiError::PayloadTooLarge`] as soon as the body passes the limit; a runtime error
    /// from the stream.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        let Some(stream) = &mut self.stream else {
            return Ok(None);
        };
        let Some(chunk) = stream.next().await else {
            return Ok(None);
        };
        let chunk = chunk?;
        self.read += chunk.len() as u64;
        if self.read > self.limit.bytes {
            return Err(self.limit.exceeded(None));
        }
        Ok(Some(chunk))
    }
}

fn parse_json_body(bytes: &[u8]) -> Result<CostRequest, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadJson(
            "the request body is empty; send {\"sims\": ..., \"plans\": ..., \"settings\": {...}}"
                .into(),
        ));
    }
    let body: JsonBody<'_> = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::BadJson(format!(
            "the request body is not a cost request: {e}; send {{\"sims\": ..., \"plans\": ..., \
             \"eligibility\": ..., \"settings\": {{...}}}}"
        ))
    })?;
    // (`null` reads as an absent field: `Option<&RawValue>` is `None` for it.)
    let file = |field: FileField, raw: Option<&RawValue>| -> Result<Option<Upload>, ApiError> {
        raw.map(|raw| json_file(field, raw)).transpose()
    };
    let settings = match body.settings {
        None => SettingsInput::default(),
        Some(raw) => serde_json::from_str(raw.get())
            .map_err(|e| ApiError::BadSettings(format!("the settings cannot be read: {e}")))?,
    };
    Ok(CostRequest {
        sims: file(FileField::Sims, body.sims)?.ok_or(ApiError::MissingFile { field: "sims" })?,
        plans: file(FileField::Plans, body.plans)?
            .ok_or(ApiError::MissingFile { field: "plans" })?,
        eligibility: file(FileField::Eligibility, body.eligibility)?,
        settings,
    })
}

/// One file of a JSON body: CSV text as a string, or rows (an array, or an object holding one),
/// passed on as they are.
fn json_file(field: FileField, raw: &RawValue) -> Result<Upload, ApiError> {
    let text = raw.get();
    match text.trim_start().as_bytes().first() {
        Some(b'"') => {
            let csv: String = serde_json::from_str(text)
                .map_err(|e| ApiError::BadJson(format!("{} is not a string: {e}", field.name())))?;
            // A string holding JSON rows (a file read as text) is named as JSON.
            let json = matches!(csv.trim_start().as_bytes().first(), Some(b'[' | b'{'));
            Ok(Upload {
                name: field.default_name(json),
                bytes: csv.into_bytes(),
            })
        }
        Some(b'[' | b'{') => Ok(Upload {
            name: field.default_name(true),
            bytes: text.as_bytes().to_vec(),
        }),
        _ => Err(ApiError::BadJson(format!(
            "{name} must be CSV text (a string) or an array of row objects, not {text}",
            name = field.name()
        ))),
    }
}

// ---- multipart body ----

/// One entry of a form: a text field or a file.
enum Part {
    Text(String),
    File(web_sys::File),
}

impl Part {
    fn size(&self) -> u64 {
        match self {
            Part::Text(t) => t.len() as u64,
            Part::File(f) => f.size() as u64,
        }
    }

    /// The file name the client gave, if it gave a real one (`blob` is what JS gives a nameless
    /// `Blob`).
    fn file_name(&self) -> Option<String> {
        match self {
            Part::File(f) => Some(f.name()).filter(|n| !n.is_empty() && n != "blob"),
            Part::Text(_) => None,
        }
    }

    async fn into_bytes(self) -> Result<Vec<u8>, ApiError> {
        match self {
            Part::Text(t) => Ok(t.into_bytes()),
            Part::File(f) => Ok(File::from(f).bytes().await?),
        }
    }
}

/// The entries of a form, sorted into their roles.
#[derive(Default)]
struct FormParts {
    files: [Option<Part>; 3],
    settings_json: Option<Part>,
    settings: Map<String, Value>,
}

impl FormParts {
    fn add(&mut self, name: String, part: Part) -> Result<(), ApiError> {
        let twice = || {
            ApiError::BadForm(format!(
                "the form field {name:?} is given twice; send it once"
            ))
        };
        if let Some(field) = FileField::from_name(&name) {
            let slot = &mut self.files[field as usize];
            if slot.is_some() {
                return Err(twice());
            }
            *slot = Some(part);
        } else if name == SETTINGS_FIELD {
            if self.settings_json.is_some() {
                return Err(twice());
            }
            self.settings_json = Some(part);
        } else {
            let Part::Text(value) = part else {
                return Err(ApiError::BadForm(format!(
                    "the form field {name:?} is a file; only sims, plans, eligibility and \
                     settings may be files"
                )));
            };
            if self.settings.contains_key(&name) {
                return Err(twice());
            }
            self.settings.insert(name, Value::String(value));
        }
        Ok(())
    }
}

async fn read_form(req: &mut Request) -> Result<CostRequest, ApiError> {
    let form: JsValue = req
        .form_data()
        .await
        .map_err(|e| ApiError::BadForm(format!("the multipart body cannot be read: {e}")))?
        .into();
    let entries = js_sys::try_iter(&form)
        .ok()
        .flatten()
        .ok_or_else(|| ApiError::BadForm("the multipart body cannot be read".into()))?;
    let mut parts = FormParts::default();
    let mut size = 0u64;
    for entry in entries {
        let entry: Array = entry.map_err(worker::Error::from)?.unchecked_into();
        let name = entry.get(0).as_string().unwrap_or_default();
        let value = entry.get(1);
        let part = match value.dyn_into::<web_sys::File>() {
            Ok(file) => Part::File(file),
            Err(value) => Part::Text(value.as_string().unwrap_or_default()),
        };
        size += part.size() + name.len() as u64;
        if size > COST_LIMIT.bytes {
            return Err(COST_LIMIT.exceeded(Some(size)));
        }
        parts.add(name, part)?;
    }

    let mut settings = match parts.settings_json.take() {
        None => Map::new(),
        Some(part) => settings_object(&part.into_bytes().await?)?,
    };
    settings.append(&mut parts.settings);
    let settings = settings_from_map(settings)?;

    let [sims, plans, eligibility] = parts.files;
    let sims = form_file(FileField::Sims, sims).await?;
    let plans = form_file(FileField::Plans, plans).await?;
    let eligibility = form_file(FileField::Eligibility, eligibility).await?;
    Ok(CostRequest {
        sims: sims.ok_or(ApiError::MissingFile { field: "sims" })?,
        plans: plans.ok_or(ApiError::MissingFile { field: "plans" })?,
        eligibility,
        settings,
    })
}

async fn form_file(field: FileField, part: Option<Part>) -> Result<Option<Upload>, ApiError> {
    let Some(part) = part else { return Ok(None) };
    let name = part
        .file_name()
        .unwrap_or_else(|| field.default_name(false));
    Ok(Some(Upload {
        name,
        bytes: part.into_bytes().await?,
    }))
}

/// The `settings` form field: a JSON object of settings.
fn settings_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::BadSettings(format!(
            "the settings field is not a JSON object of settings: {e}"
        ))
    })
}

/// Settings from name → value pairs, with the core's names, aliases and unknown-key check.
fn settings_from_map(map: Map<String, Value>) -> Result<SettingsInput, ApiError> {
    serde_json::from_value(Value::Object(map))
        .map_err(|e| ApiError::BadSettings(format!("the settings cannot be read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert_eq!(
            media_type("multipart/form-data; boundary=x"),
            "multipart/form-data"
        );
        assert_eq!(
            media_type(" Application/JSON ;charset=utf-8"),
            "application/json"
        );
        assert_eq!(media_type(""), "");
    }

    #[test]
    fn declared_length() {
        let check = |h: Option<&str>| COST_LIMIT.check_declared(h);
        assert!(check(None).is_ok());
        assert!(check(Some("12")).is_ok());
        assert!(check(Some(&MAX_BODY_BYTES.to_string())).is_ok());
        let err = check(Some(&(MAX_BODY_BYTES + 1).to_string()));
        assert!(matches!(err, Err(ApiError::PayloadTooLarge { .. })));
        let small = BodyLimit {
            bytes: 10,
            hint: "less",
        };
        assert!(small.check_declared(Some(" 10 ")).is_ok());
        let err = small.check_declared(Some("11")).expect_err("over");
        assert_eq!(err.code(), "payload-too-large");
        assert!(err.to_string().ends_with("(10 bytes); less"), "{err}");
    }

    #[test]
    fn json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/vnd.api+json"));
        assert!(!is_json("text/csv"));
    }

    #[test]
    fn json_body_with_text_and_rows() {
        let body = br#"{"sims":"iccid\n1\n","plans":[{"plan_id":"S"}],
                        "settings":{"asOf":"2026-11-20T12:00","margin_pct":2}}"#;
        let req = parse_json_body(body).expect("valid");
        assert_eq!(req.sims.name, "sims.csv");
        assert_eq!(req.sims.bytes, b"iccid\n1\n");
        assert_eq!(req.plans.name, "plans.json");
        assert_eq!(req.plans.bytes, br#"[{"plan_id":"S"}]"#);
        assert!(req.eligibility.is_none());
        assert_eq!(req.settings.as_of.as_deref(), Some("2026-11-20T12:00"));
        assert_eq!(req.settings.margin_pct.as_deref(), Some("2"));
    }

    #[test]
    fn json_body_errors() {
        let code = |body: &str| {
            parse_json_body(body.as_bytes())
                .map(|_| ())
                .map_err(|e| (e.code(), e.to_string()))
        };
        assert_eq!(
            code(r#"{"sims":"a"}"#).map_err(|e| e.0),
            Err("missing-file")
        );
        assert_eq!(
            code(r#"{"sims":"a","plans":null}"#).map_err(|e| e.0),
            Err("missing-file")
        );
        assert_eq!(code("").map_err(|e| e.0), Err("bad-json"));
        assert_eq!(code("[1]").map_err(|e| e.0), Err("bad-json"));
        assert_eq!(
            code(r#"{"sims":"a","plans":3}"#).map_err(|e| e.0),
            Err("bad-json")
        );
        let (c, message) = code(r#"{"sims":"a","plans":"b","extra":1}"#).expect_err("unknown key");
        assert_eq!(c, "bad-json");
        assert!(message.contains("unknown field `extra`"), "{message}");
        let (c, message) =
            code(r#"{"sims":"a","plans":"b","settings":{"colour":"red"}}"#).expect_err("bad key");
        assert_eq!(c, "bad-settings");
        assert!(message.contains("unknown field `colour`"), "{message}");
    }

    #[test]
    fn form_settings_use_the_core_names() {
        let mut map = Map::new();
        map.insert("period_end".into(), "2026-11-22T00:00".into());
        map.insert("timeZone".into(), "UTC".into());
        let s = settings_from_map(map).expect("valid");
        assert_eq!(s.period_end.as_deref(), Some("2026-11-22T00:00"));
        assert_eq!(s.time_zone.as_deref(), Some("UTC"));
        let mut map = Map::new();
        map.insert("nonsense".into(), "1".into());
        assert!(matches!(
            settings_from_map(map),
            Err(ApiError::BadSettings(_))
        ));
    }
}
