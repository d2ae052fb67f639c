//! An account's files: `PUT /api/accounts/:id/{plans,eligibility,sims}` with the CSV file as the
//! body (DESIGN §7), `GET /api/accounts/:id/uploads`.
//!
//! A file is checked by the core before anything is stored, with the same diagnostics as the
//! command line (422 with file, row, column and hint): the plans on their own, the eligibility
//! against the account's current plans, the SIMs against the current plans and eligibility and
//! the account's settings (a run now, in the current billing period). A good file's body goes
//! to R2 under `tenants/<tenant>/accounts/<account>/<kind>/<sha256>.csv` and a record to D1; the
//! latest upload of each kind is the account's current file of that kind.

use serde::Serialize;
use sha2::{Digest, Sha256};
use simopt_core::input::{self, FileCheck};
use simopt_core::{Diagnostics, InputErrors, InputFiles, SettingsInput, SourceFile};
use worker::{Request, Response};

use crate::accounts::{self, Account};
use crate::auth::{hex, Tenant};
use crate::error::ApiError;
use crate::request::{self, BodyLimit, MAX_BODY_BYTES};
use crate::store::{NewUpload, Store, UploadRow};
use crate::{clock, json_answer};

/// The largest file accepted.
pub const UPLOAD_LIMIT: BodyLimit = BodyLimit {
    bytes: MAX_BODY_BYTES,
    hint: "each file of an account must fit: leave out the columns simopt does not read \
           (DESIGN §7 lists those it does)",
};

/// The largest file a gzip-compressed upload may inflate to (the compressed body is held to
/// [`UPLOAD_LIMIT`]).
pub const INFLATED_LIMIT: BodyLimit = BodyLimit {
    bytes: 256 * 1024 * 1024,
    hint: "split the fleet into accounts, or leave out the columns simopt does not read",
};

/// The kinds of file an account holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `plans.csv`: the rate plans.
    Plans,
    /// `eligibility.csv`: which plans each communication plan may use.
    Eligibility,
    /// `sims.csv`: the fleet and its usage.
    Sims,
}

impl Kind {
    /// Every kind, in the order they are uploaded.
    pub const ALL: [Kind; 3] = [Kind::Plans, Kind::Eligibility, Kind::Sims];

    /// The kind a path segment names.
    pub fn of(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// `plans`, `eligibility` or `sims`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Plans => "plans",
            Kind::Eligibility => "eligibility",
            Kind::Sims => "sims",
        }
    }

    /// The file's name in diagnostics (`plans.csv`).
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::Plans => "plans.csv",
            Kind::Eligibility => "eligibility.csv",
            Kind::Sims => "sims.csv",
        }
    }
}

/// Where a file's body is kept in R2.
pub fn r2_key(tenant: &str, account: &str, kind: Kind, sha256: &str) -> String {
    format!(
        "tenants/{tenant}/accounts/{account}/{}/{sha256}.csv",
        kind.name()
    )
}

/// The account's current files a new one is checked against.
#[derive(Debug, Clone, Default)]
pub struct Current {
    /// The current plans file.
    pub plans: Option<Vec<u8>>,
    /// The current eligibility file.
    pub eligibility: Option<Vec<u8>>,
}

impl Current {
    /// The plans file a new file of `kind` is checked against: 409 before any.
    fn plans_for(&self, account: &str, kind: Kind) -> Result<SourceFile<'_>, ApiError> {
        let plans = self.plans.as_deref().ok_or(ApiError::PlansMissing {
            account: account.to_owned(),
            kind: kind.name(),
        })?;
        Ok(source(Kind::Plans, plans))
    }

    /// The eligibility file a new SIMs file is checked against, if any.
    fn eligibility_file(&self) -> Option<SourceFile<'_>> {
        self.eligibility
            .as_deref()
            .map(|e| source(Kind::Eligibility, e))
    }
}

/// A file of `kind` as the core reads it (named as the account's file of that kind).
pub(crate) fn source(kind: Kind, bytes: &[u8]) -> SourceFile<'_> {
    SourceFile {
        name: kind.file_name(),
        bytes,
    }
}

/// Checks a new file of `kind` against the account's `current` files; `settings` are the
/// account's, for a run now (only the SIMs need them).
///
/// # Errors
/// [`ApiError::InvalidUpload`] with the core's diagnostics; [`ApiError::PlansMissing`] for an
/// eligibility or SIMs file before any plans.
pub fn check(
    account: &str,
    kind: Kind,
    body: &[u8],
    current: &Current,
    settings: &SettingsInput,
) -> Result<FileCheck, ApiError> {
    let invalid = |errors: InputErrors| ApiError::InvalidUpload {
        kind: kind.name(),
        errors,
    };
    let file = source(kind, body);
    if kind == Kind::Plans {
        return input::check_plans(&file).map_err(invalid);
    }
    let plans = current.plans_for(account, kind)?;
    if kind == Kind::Eligibility {
        return input::check_eligibility(&file, &plans).map_err(invalid);
    }
    let files = InputFiles {
        sims: file,
        plans,
        eligibility: current.eligibility_file(),
    };
    // Checked without keeping the SIMs (a million parsed SIMs would take 104 MB).
    input::check_sims(&files, settings).map_err(invalid)
}

/// An upload as answered.
#[derive(Debug, Serialize)]
pub struct UploadView<'a> {
    /// The record.
    #[serde(flatten)]
    pub upload: &'a UploadRow,
    /// Whether it is the account's current file of its kind.
    pub current: bool,
    /// A record of a removal (`DELETE /api/accounts/:id/eligibility`): no file, every plan
    /// allowed from then on.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
    /// The core's warnings about the file (on the answer to the upload only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<&'a Diagnostics>,
}

/// The body of an upload as sent, and its `Content-Encoding`: the file itself (`text/csv`, `text/plain`, `application/csv`,
/// `application/octet-stream`, `application/vnd.ms-excel` — what spreadsheets and browsers send
/// for a CSV — or no type).
async fn file_body(req: &mut Request) -> Result<(Vec<u8>, String), ApiError> {
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    let media = request::media_type(&content_type);
    let accepted = [
        "",
        "text/csv",
        "text/plain",
        "application/csv",
        "application/octet-stream",
        "application/vnd.ms-excel",
    ];
    if !accepted.contains(&media.as_str()) {
        return Err(ApiError::UnsupportedMediaType {
            content_type,
            accepted: "send the CSV file itself as the body with Content-Type: text/csv \
                       (curl -T plans.csv -H 'content-type: text/csv' ...)",
        });
    }
    let body = request::read_capped(req, UPLOAD_LIMIT).await?;
    let encoding = req.headers().get("content-encoding")?.unwrap_or_default();
    Ok((body, encoding))
}

/// The file of a body sent with `Content-Encoding: encoding` (none, `identity` or `gzip`).
///
/// # Errors
/// [`ApiError::UnsupportedMediaType`] for another encoding or a body that is not gzip;
/// [`ApiError::PayloadTooLarge`] when it inflates past [`INFLATED_LIMIT`].
pub fn decode(body: &[u8], encoding: &str) -> Result<Vec<u8>, ApiError> {
    decode_within(body, encoding, INFLATED_LIMIT)
}

fn decode_within(body: &[u8], encoding: &str, limit: BodyLimit) -> Result<Vec<u8>, ApiError> {
    use std::io::Read;
    let mut out = Vec::new();
    inflating(body, encoding)?
        .take(limit.bytes + 1)
        .read_to_end(&mut out)
        .map_err(not_gzip)?;
    if out.len() as u64 > limit.bytes {
        return Err(limit.exceeded(None));
    }
    Ok(out)
}

/// The file of a body sent with `Content-Encoding: encoding`, as it is read.
fn inflating<'b>(body: &'b [u8], encoding: &str) -> Result<Box<dyn std::io::Read + 'b>, ApiError> {
    match encoding.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => Ok(Box::new(body)),
        "gzip" | "x-gzip" => Ok(Box::new(flate2::read::GzDecoder::new(body))),
        _ => Err(ApiError::UnsupportedMediaType {
            content_type: format!("Content-Encoding: {encoding}"),
            accepted: "send the file uncompressed, or gzip-compressed with Content-Encoding: \
                       gzip",
        }),
    }
}

/// A body that says it is gzip but does not inflate.
fn not_gzip(e: std::io::Error) -> ApiError {
    ApiError::UnsupportedMediaType {
        content_type: format!("gzip ({e})"),
        accepted: "the body says Content-Encoding: gzip but is not gzip data; send the file as \
                   written by gzip, or uncompressed without the header",
    }
}

/// Bytes of an uploaded SIMs file inflated and checked at a time.
const SIMS_PIECE_BYTES: usize = 1 << 20;

/// An uploaded SIMs file checked as it is inflated (`file`), a piece at a time, by `loader`
/// (given the plans, eligibility and settings), and stored as it goes by `parts` — in parts of
/// `PART_BYTES` (an R2 multipart upload, aborted when the file proves bad), or whole when it is
/// one part — so neither the inflated file nor its SIMs are ever held (the check keeps 16 bytes
/// a SIM: `Loader::check_only`). Answers the check, the file's size and its SHA-256 (hex).
///
/// # Errors
/// 415 for a body that does not inflate, 413 past [`INFLATED_LIMIT`], 422 with the core's
/// diagnostics, a storage error.
async fn check_and_store_sims(
    mut loader: input::Loader,
    file: &mut dyn std::io::Read,
    mut parts: Parts<'_>,
) -> Result<(FileCheck, u64, String), ApiError> {
    loader.check_only();
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut piece = vec![0u8; SIMS_PIECE_BYTES];
    let read = loop {
        let n = match file.read(&mut piece) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(not_gzip(e)),
        };
        size += n as u64;
        if size > INFLATED_LIMIT.bytes {
            break Err(INFLATED_LIMIT.exceeded(None));
        }
        let bytes = &piece[..n];
        loader.push(bytes);
        hasher.update(bytes);
        if let Err(e) = parts.write(bytes).await {
            break Err(e);
        }
    };
    let checked = read.and_then(|()| {
        loader
            .finish_check()
            .map_err(|errors| ApiError::InvalidUpload {
                kind: Kind::Sims.name(),
                errors,
            })
    });
    let digest = hasher.finalize();
    match checked {
        Ok(checked) => {
            parts.finish(&digest).await?;
            Ok((checked, size, hex(&digest)))
        }
        Err(e) => {
            parts.abort().await;
            Err(e)
        }
    }
}

/// A file stored in R2 as it is written: in parts of one size once it outgrows one, else whole.
struct Parts<'s> {
    store: &'s Store,
    key: &'s str,
    part_bytes: u64,
    /// Bytes not stored yet (less than a part).
    pending: Vec<u8>,
    /// The multipart upload, once the file outgrew a part, and its parts' ETags.
    upload: Option<(String, Vec<String>)>,
}

impl<'s> Parts<'s> {
    fn new(store: &'s Store, key: &'s str, part_bytes: u64) -> Self {
        Parts {
            store,
            key,
            part_bytes: part_bytes.max(crate::session::MIN_PART_BYTES),
            pending: Vec::new(),
            upload: None,
        }
    }

    /// Takes the file's next bytes, storing each part as it fills.
    async fn write(&mut self, bytes: &[u8]) -> Result<(), ApiError> {
        self.pending.extend_from_slice(bytes);
        while self.pending.len() as u64 > self.part_bytes {
            let rest = self.pending.split_off(self.part_bytes as usize);
            let part = std::mem::replace(&mut self.pending, rest);
            self.store_part(part).await?;
        }
        Ok(())
    }

    async fn store_part(&mut self, part: Vec<u8>) -> Result<(), ApiError> {
        if self.upload.is_none() {
            let id = self
                .store
                .start_parts(self.key, "text/csv; charset=utf-8")
                .await?;
            self.upload = Some((id, Vec::new()));
        }
        if let Some((id, etags)) = &mut self.upload {
            let number = etags.len() as u16 + 1;
            etags.push(self.store.put_part(self.key, id, number, part).await?);
        }
        Ok(())
    }

    /// Stores the rest: the file whole (R2 checks it against `digest`), or its last part and
    /// then the parts joined.
    async fn finish(mut self, digest: &[u8]) -> Result<(), ApiError> {
        let rest = std::mem::take(&mut self.pending);
        if self.upload.is_none() {
            return self.store.put_file(self.key, rest, digest).await;
        }
        if !rest.is_empty() {
            self.store_part(rest).await?;
        }
        if let Some((id, etags)) = &self.upload {
            self.store.complete_parts(self.key, id, etags).await?;
        }
        Ok(())
    }

    /// Drops the parts stored (best effort: R2 also drops an upload never completed, after a
    /// week).
    async fn abort(self) {
        if let Some((id, _)) = &self.upload {
            if let Err(e) = self.store.abort_parts(self.key, id).await {
                worker::console_error!("cannot abort the upload of {}: {e}", self.key);
            }
        }
    }
}

/// The account's current files that a file of `kind` is checked against.
async fn current_files(store: &Store, account: &str, kind: Kind) -> Result<Current, ApiError> {
    let mut current = Current::default();
    if kind == Kind::Plans {
        return Ok(current);
    }
    if let Some(plans) = store.current_upload(account, Kind::Plans).await? {
        current.plans = Some(store.file(&plans.r2_key).await?);
    }
    if kind == Kind::Sims {
        if let Some(e) = store.current_upload(account, Kind::Eligibility).await? {
            current.eligibility = Some(store.file(&e.r2_key).await?);
        }
    }
    Ok(current)
}

/// `PUT /api/accounts/:id/<kind>`: checks the file, stores it, answers 201 and its record
/// with the core's warnings.
///
/// # Errors
/// 404 for another tenant's or no account, 413/415 for the body, 409 without plans, 422 with
/// the diagnostics of a bad file, a storage error.
pub async fn put(
    mut req: Request,
    store: &Store,
    tenant: &Tenant,
    account_id: &str,
    kind: Kind,
    part_bytes: u64,
) -> Result<Response, ApiError> {
    let account: Account = accounts::find(store, tenant, account_id).await?;
    let (body, encoding) = file_body(&mut req).await?;
    let now = clock::now_rfc3339();
    // Only SIMs are read with the account's settings (a run now); plans and eligibility alone.
    let settings = if kind == Kind::Sims {
        account
            .settings
            .core_input(&now, account.settings.period_end_after(&now))
    } else {
        SettingsInput::default()
    };
    let current = current_files(store, &account.id, kind).await?;
    let (checked, key, bytes, sha256) = if kind == Kind::Sims {
        // Checked and stored as it inflates, under the digest of the body as sent (the file's
        // own is only known at its end).
        let key = r2_key(&tenant.id, &account.id, kind, &hex(&Sha256::digest(&body)));
        let loader = input::Loader::new(
            current.plans_for(&account.id, kind)?,
            current.eligibility_file(),
            kind.file_name(),
            &settings,
        );
        let mut file = inflating(&body, &encoding)?;
        let parts = Parts::new(store, &key, part_bytes);
        let (checked, bytes, sha256) = check_and_store_sims(loader, &mut file, parts).await?;
        (checked, key, bytes, sha256)
    } else {
        let file = decode(&body, &encoding)?;
        drop(body);
        let checked = check(&account.id, kind, &file, &current, &settings)?;
        let digest = Sha256::digest(&file);
        let sha256 = hex(&digest);
        let key = r2_key(&tenant.id, &account.id, kind, &sha256);
        let bytes = file.len() as u64;
        store.put_file(&key, file, &digest).await?;
        (checked, key, bytes, sha256)
    };
    drop(current);
    let upload = store
        .insert_upload(&NewUpload {
            account: &account.id,
            kind,
            r2_key: &key,
            bytes,
            sha256: &sha256,
            rows: checked.rows,
            uploaded_at: &now,
        })
        .await?;
    let view = UploadView {
        upload: &upload,
        current: true,
        removed: false,
        warnings: Some(&checked.warnings),
    };
    Ok(json_answer(201, &view)?)
}

/// `DELETE /api/accounts/:id/eligibility`: the account has no eligibility file from now on
/// (every plan allowed to every SIM): a record of the removal, so the history stays; the
/// earlier files stay in R2. Answers 200 and the record.
///
/// # Errors
/// 404 for another tenant's or no account; a storage error.
pub async fn remove_eligibility(
    store: &Store,
    tenant: &Tenant,
    account_id: &str,
) -> Result<Response, ApiError> {
    let account = accounts::find(store, tenant, account_id).await?;
    let upload = store
        .insert_upload(&NewUpload {
            account: &account.id,
            kind: Kind::Eligibility,
            r2_key: "",
            bytes: 0,
            sha256: "",
            rows: 0,
            uploaded_at: &clock::now_rfc3339(),
        })
        .await?;
    Ok(json_answer(
        200,
        &UploadView {
            upload: &upload,
            current: true,
            removed: true,
            warnings: None,
        },
    )?)
}

/// `GET /api/accounts/:id/uploads`: every upload of the account, newest first, each marked
/// whether it is the current one of its kind.
///
/// # Errors
/// 404 for another tenant's or no account; a storage error.
pub async fn list(store: &Store, tenant: &Tenant, account_id: &str) -> Result<Response, ApiError> {
    let account = accounts::find(store, tenant, account_id).await?;
    let uploads = store.uploads(&account.id).await?;
    let mut seen: Vec<&str> = Vec::new();
    let views: Vec<UploadView<'_>> = uploads
        .iter()
        .map(|upload| {
            let current = !seen.contains(&upload.kind.as_str());
            seen.push(&upload.kind);
            UploadView {
                upload,
                current,
                removed: upload.r2_key.is_empty(),
                warnings: None,
            }
        })
        .collect();
    #[derive(Serialize)]
    struct List<'a> {
        uploads: Vec<UploadView<'a>>,
    }
    Ok(json_answer(200, &List { uploads: views })?)
}

#[cfg(test)]
mod gzip_tests {
    use std::io::Write;

    use super::{decode, decode_within, BodyLimit};

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).expect("writes");
        encoder.finish().expect("finishes")
    }

    #[test]
    fn gzip_bodies_are_inflated_and_others_kept() {
        let csv = b"plan_id,monthly_charge\nS,5.00\n";
        assert_eq!(decode(&gzip(csv), "gzip").expect("inflates"), csv);
        assert_eq!(decode(&gzip(csv), " GZIP ").expect("inflates"), csv);
        assert_eq!(decode(csv, "").expect("plain"), csv);
        assert_eq!(decode(csv, "identity").expect("plain"), csv);
    }

    #[test]
    fn bad_gzip_and_other_encodings_are_415() {
        let e = decode(b"not gzip", "gzip").expect_err("not gzip");
        assert_eq!(e.status(), 415);
        let e = decode(b"x", "br").expect_err("brotli");
        assert_eq!(e.status(), 415);
        assert!(e.to_string().contains("Content-Encoding: br"), "{e}");
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        // 1 MiB + 1 byte of zeros compresses to a few kilobytes; the limit here is 1 MiB.
        let limit = BodyLimit {
            bytes: 1 << 20,
            hint: "test",
        };
        let bomb = gzip(&vec![0u8; (1 << 20) + 1]);
        assert!(bomb.len() < 16 << 10, "{} bytes", bomb.len());
        let e = decode_within(&bomb, "gzip", limit).expect_err("too large");
        assert_eq!(e.status(), 413);
        assert!(decode_within(&gzip(&vec![0u8; 1 << 20]), "gzip", limit).is_ok());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLANS: &str = include_str!("../../tests/fixtures/cases/basic/plans.csv");
    const SIMS: &str = include_str!("../../tests/fixtures/cases/basic/sims.csv");
    const ELIGIBILITY: &str = include_str!("../../tests/fixtures/cases/basic/eligibility.csv");

    fn settings() -> SettingsInput {
        SettingsInput {
            time_zone: Some("America/New_York".into()),
            as_of: Some("2026-11-20T12:00".into()),
            period_end: Some("2026-11-22T00:00".into()),
            ..SettingsInput::default()
        }
    }

    fn run(kind: Kind, body: &str, current: &Current) -> Result<FileCheck, ApiError> {
        check("acc", kind, body.as_bytes(), current, &settings())
    }

    fn with_plans() -> Current {
        Current {
            plans: Some(PLANS.as_bytes().to_vec()),
            eligibility: None,
        }
    }

    #[test]
    fn kinds_and_keys() {
        assert_eq!(Kind::of("sims"), Some(Kind::Sims));
        assert_eq!(Kind::of("uploads"), None);
        assert_eq!(
            r2_key("t1", "a1", Kind::Eligibility, "ff00"),
            "tenants/t1/accounts/a1/eligibility/ff00.csv"
        );
    }

    #[test]
    fn the_fixture_files_pass_and_count_their_rows() {
        let lines = |t: &str| t.trim_end().lines().count() as u64 - 1;
        let plans = run(Kind::Plans, PLANS, &Current::default()).expect("plans");
        assert_eq!(plans.rows, lines(PLANS));
        let elig = run(Kind::Eligibility, ELIGIBILITY, &with_plans()).expect("eligibility");
        assert_eq!(elig.rows, lines(ELIGIBILITY));
        let current = Current {
            eligibility: Some(ELIGIBILITY.as_bytes().to_vec()),
            ..with_plans()
        };
        let sims = run(Kind::Sims, SIMS, &current).expect("sims");
        assert_eq!(sims.rows, lines(SIMS));
    }

    #[test]
    fn files_checked_against_plans_need_plans() {
        for kind in [Kind::Eligibility, Kind::Sims] {
            let error = run(kind, "x", &Current::default()).expect_err("no plans");
            assert_eq!((error.status(), error.code()), (409, "plans-missing"));
            assert!(
                error.to_string().contains("PUT /api/accounts/acc/plans"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_bad_file_is_422_with_row_and_column() {
        let sims = SIMS.replacen(
            ",S5,active,2025-01-10,3.5,",
            ",NOPE,active,2025-01-10,3.5,",
            1,
        );
        let error = run(Kind::Sims, &sims, &with_plans()).expect_err("unknown plan");
        assert_eq!((error.status(), error.code()), (422, "invalid-input"));
        let body: serde_json::Value = serde_json::from_str(&error.body()).expect("json");
        let item = &body["items"][0];
        assert_eq!(item["code"], "unknown-plan");
        assert_eq!(item["file"], "sims.csv");
        assert_eq!(item["row"], 2);
        assert_eq!(item["column"], "current_plan");

        let error = run(
            Kind::Plans,
            "plan_id,monthly_charge\nS,x\n",
            &Current::default(),
        )
        .expect_err("bad money");
        assert_eq!(error.code(), "invalid-input");
        let error = run(
            Kind::Eligibility,
            "comm_plan,plan_id\nCP,ZZ\n",
            &with_plans(),
        )
        .expect_err("");
        assert!(
            error.body().contains("\"column\":\"plan_id\""),
            "{}",
            error.body()
        );
    }
}
