//! An account's files: `PUT /api/accounts/:id/{plans,eligibility,sims}` with the CSV file as the
//! body (DESIGN §7), `GET /api/accounts/:id/uploads`.
//!
//! A file is checked by the core before anything is stored, with the same diagnostics as the
//! command line (422 with file, row, column and hint): the plans on their own, the eligibility
//! against the account's current plans, the SIMs against the current plans and eligibility and
//! the account's settings (a run now, in the current billing period). A good file's body goes
//! to R2 under `tenants/<tenant>/accounts/<account>/<kind>/<sha256>.csv` and a record to D1; the
//! latest upload of each kind is the account's current file of that kind. A SIMs file (up to
//! 256 MiB) is checked and stored as its body comes, never held whole, under
//! `.../sims/<id>.csv` with a new id: its SHA-256, in the record, is known only at its end.

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;
use sha2::{Digest, Sha256};
use simopt_core::input::{self, FileCheck};
use simopt_core::{Diagnostics, InputErrors, InputFiles, SettingsInput, SourceFile};
use worker::{Request, Response};

use crate::accounts::{self, Account};
use crate::auth::{self, hex, Tenant};
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

/// The `Content-Encoding` of an upload, once its `Content-Type` is one a file comes as: the file
/// itself (`text/csv`, `text/plain`, `application/csv`, `application/octet-stream`,
/// `application/vnd.ms-excel` — what spreadsheets and browsers send for a CSV — or no type).
fn file_encoding(req: &Request) -> Result<String, ApiError> {
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
    Ok(req.headers().get("content-encoding")?.unwrap_or_default())
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
    let mut inflater = Inflater::new(encoding, limit)?;
    let mut file = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (read, piece) = inflater.feed(rest)?;
        file.extend_from_slice(&piece);
        rest = &rest[read..];
    }
    file.extend_from_slice(&inflater.finish()?);
    Ok(file)
}

/// Most of a file [`Inflater::feed`] gives at once, give or take one step's worth.
const FEED_BYTES: usize = 1 << 20;

/// Compressed bytes inflated at a step: deflate inflates at most about 1,032 times, so a step
/// gives at most about 4 MiB.
const INFLATE_STEP: usize = 4 << 10;

/// The file in a body, as the body's bytes come: as sent, or inflated (`Content-Encoding:
/// gzip`, every member of it), held to a limit on the file's size. Memory stays within a few
/// mebibytes however well the body compresses.
pub(crate) struct Inflater {
    gzip: Option<flate2::write::MultiGzDecoder<Vec<u8>>>,
    limit: BodyLimit,
    size: u64,
}

impl Inflater {
    /// The file of a body sent with `Content-Encoding: encoding` (none, `identity` or `gzip`).
    ///
    /// # Errors
    /// [`ApiError::UnsupportedMediaType`] for another encoding.
    pub fn new(encoding: &str, limit: BodyLimit) -> Result<Inflater, ApiError> {
        let gzip = match encoding.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => None,
            "gzip" | "x-gzip" => Some(flate2::write::MultiGzDecoder::new(Vec::new())),
            _ => {
                return Err(ApiError::UnsupportedMediaType {
                    content_type: format!("Content-Encoding: {encoding}"),
                    accepted: "send the file uncompressed, or gzip-compressed with \
                               Content-Encoding: gzip",
                })
            }
        };
        Ok(Inflater {
            gzip,
            limit,
            size: 0,
        })
    }

    /// The file from the start of `body` on: how many of its bytes were read, and what of the
    /// file they gave (about [`FEED_BYTES`] at most: call again with the rest).
    ///
    /// # Errors
    /// [`ApiError::UnsupportedMediaType`] for a body that does not inflate;
    /// [`ApiError::PayloadTooLarge`] once the file passes the limit.
    pub fn feed<'b>(&mut self, body: &'b [u8]) -> Result<(usize, Cow<'b, [u8]>), ApiError> {
        let (read, file) = match &mut self.gzip {
            None => (body.len(), Cow::Borrowed(body)),
            Some(gzip) => {
                // The decoder hands its output on as it goes, but for its last 32 KiB at most,
                // which the flush after the steps hands on.
                let mut read = 0;
                while read < body.len() && gzip.get_ref().len() < FEED_BYTES {
                    let step = &body[read..body.len().min(read + INFLATE_STEP)];
                    gzip.write_all(step).map_err(not_gzip)?;
                    read += step.len();
                }
                gzip.flush().map_err(not_gzip)?;
                (read, Cow::Owned(std::mem::take(gzip.get_mut())))
            }
        };
        self.count(file.len())?;
        Ok((read, file))
    }

    /// The rest of the file, once the whole body is fed.
    ///
    /// # Errors
    /// [`ApiError::UnsupportedMediaType`] for gzip cut short; [`ApiError::PayloadTooLarge`].
    pub fn finish(mut self) -> Result<Vec<u8>, ApiError> {
        let Some(mut gzip) = self.gzip.take() else {
            return Ok(Vec::new());
        };
        gzip.try_finish().map_err(not_gzip)?;
        let rest = std::mem::take(gzip.get_mut());
        self.count(rest.len())?;
        Ok(rest)
    }

    fn count(&mut self, bytes: usize) -> Result<(), ApiError> {
        self.size += bytes as u64;
        if self.size > self.limit.bytes {
            return Err(self.limit.exceeded(None));
        }
        Ok(())
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

/// An uploaded SIMs file checked and stored as its body comes, a chunk at a time: inflated
/// ([`Inflater`]), read by `loader` (given the plans, eligibility and settings), hashed, and
/// stored by `parts` — in parts (an R2 multipart upload, aborted when the file proves bad), or
/// whole when it is one part. Neither the body, the file nor its SIMs are ever held: the check
/// keeps 16 bytes a SIM (`Loader::check_only`), the store one part. Answers the check, the
/// file's size and its SHA-256 (hex).
///
/// # Errors
/// 413 past [`UPLOAD_LIMIT`] or [`INFLATED_LIMIT`], 415 for a body that does not inflate, 422
/// with the core's diagnostics, a storage error.
async fn check_and_store_sims(
    loader: input::Loader,
    req: &mut Request,
    encoding: &str,
    parts: Parts<'_>,
) -> Result<(FileCheck, u64, String), ApiError> {
    let mut sims = SimsFile {
        loader,
        hasher: Sha256::new(),
        size: 0,
        parts,
    };
    sims.loader.check_only();
    match sims.read(req, encoding).await {
        Ok(()) => sims.finish().await,
        Err(e) => {
            sims.parts.abort().await;
            Err(e)
        }
    }
}

/// A SIMs file being checked and stored ([`check_and_store_sims`]).
struct SimsFile<'s> {
    loader: input::Loader,
    hasher: Sha256,
    size: u64,
    parts: Parts<'s>,
}

impl SimsFile<'_> {
    /// Reads the whole body.
    async fn read(&mut self, req: &mut Request, encoding: &str) -> Result<(), ApiError> {
        let mut inflater = Inflater::new(encoding, INFLATED_LIMIT)?;
        let mut body = request::Body::of(req, UPLOAD_LIMIT)?;
        while let Some(chunk) = body.next().await? {
            let mut rest = &chunk[..];
            while !rest.is_empty() {
                let (read, file) = inflater.feed(rest)?;
                rest = &rest[read..];
                self.take(&file).await?;
            }
        }
        self.take(&inflater.finish()?).await
    }

    async fn take(&mut self, bytes: &[u8]) -> Result<(), ApiError> {
        self.size += bytes.len() as u64;
        self.loader.push(bytes);
        self.hasher.update(bytes);
        self.parts.write(bytes).await
    }

    /// The check's verdict; a good file's last part stored.
    async fn finish(self) -> Result<(FileCheck, u64, String), ApiError> {
        let digest = self.hasher.finalize();
        let checked = self
            .loader
            .finish_check()
            .map_err(|errors| ApiError::InvalidUpload {
                kind: Kind::Sims.name(),
                errors,
            });
        match checked {
            Ok(checked) => {
                self.parts.finish(&digest).await?;
                Ok((checked, self.size, hex(&digest)))
            }
            Err(e) => {
                self.parts.abort().await;
                Err(e)
            }
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

    /// Takes the file's next bytes, storing each part once it is full and more follows (the
    /// last part is stored by [`Parts::finish`]). Holds one part's buffer: grown by doubling
    /// up to a part's size for the first part (most files are smaller), allocated at it for
    /// the others.
    async fn write(&mut self, mut bytes: &[u8]) -> Result<(), ApiError> {
        let part = self.part_bytes as usize;
        while !bytes.is_empty() {
            if self.pending.len() == part {
                let full = std::mem::take(&mut self.pending);
                self.store_part(full).await?;
                self.pending.reserve_exact(part);
            }
            let now = bytes.len().min(part - self.pending.len());
            let needed = self.pending.len() + now;
            if needed > self.pending.capacity() {
                let to = needed.max(2 * self.pending.capacity()).min(part);
                self.pending.reserve_exact(to - self.pending.len());
            }
            self.pending.extend_from_slice(&bytes[..now]);
            bytes = &bytes[now..];
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
    let encoding = file_encoding(&req)?;
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
        // Checked and stored as the body comes, under a new id (the file's digest is only
        // known at its end, and R2 cannot rename).
        let key = r2_key(&tenant.id, &account.id, kind, &auth::new_id()?);
        let loader = input::Loader::new(
            current.plans_for(&account.id, kind)?,
            current.eligibility_file(),
            kind.file_name(),
            &settings,
        );
        let parts = Parts::new(store, &key, part_bytes);
        let (checked, bytes, sha256) =
            check_and_store_sims(loader, &mut req, &encoding, parts).await?;
        (checked, key, bytes, sha256)
    } else {
        let body = request::read_capped(&mut req, UPLOAD_LIMIT).await?;
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

    use super::{decode, decode_within, BodyLimit, Inflater, FEED_BYTES};

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

    const LIMIT: BodyLimit = BodyLimit {
        bytes: 64 << 20,
        hint: "test",
    };

    /// The file `body` gives, fed in chunks of `chunk` bytes, and the most one feed gave.
    fn fed(body: &[u8], encoding: &str, chunk: usize) -> Result<(Vec<u8>, usize), u16> {
        let mut inflater = Inflater::new(encoding, LIMIT).map_err(|e| e.status())?;
        let (mut file, mut most) = (Vec::new(), 0);
        for mut rest in body.chunks(chunk) {
            while !rest.is_empty() {
                let (read, piece) = inflater.feed(rest).map_err(|e| e.status())?;
                assert!(read > 0, "a feed read nothing");
                most = most.max(piece.len());
                file.extend_from_slice(&piece);
                rest = &rest[read..];
            }
        }
        file.extend_from_slice(&inflater.finish().map_err(|e| e.status())?);
        Ok((file, most))
    }

    #[test]
    fn a_body_inflates_a_piece_at_a_time_however_well_it_compresses() {
        // 16 MiB of one byte is about 16 KiB of gzip: one 64 KiB chunk of the body.
        let file = vec![b'7'; 16 << 20];
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&file).expect("writes");
        let body = encoder.finish().expect("finishes");
        assert!(body.len() < 64 << 10, "{} bytes", body.len());
        let (got, most) = fed(&body, "gzip", 64 << 10).expect("inflates");
        assert!(got == file, "{} bytes came back", got.len());
        assert!(most <= FEED_BYTES + (5 << 20), "one feed gave {most} bytes");
        // As sent: each chunk as it is.
        let csv = b"iccid,usage_mb\n1,2\n".repeat(1000);
        assert_eq!(fed(&csv, "", 100), Ok((csv.clone(), 100)));
    }

    #[test]
    fn every_member_of_a_gzip_body_is_read_and_a_cut_or_trailing_one_is_415() {
        let (a, b) = (b"iccid,usage_mb\n".to_vec(), b"1,2\n3,4\n".to_vec());
        let mut two = gzip(&a);
        two.extend(gzip(&b));
        assert_eq!(
            fed(&two, "gzip", 7).map(|f| f.0),
            Ok([a.clone(), b].concat())
        );
        let one = gzip(&a);
        assert_eq!(fed(&one[..one.len() - 3], "gzip", 7), Err(415));
        let mut trailing = one.clone();
        trailing.extend_from_slice(b"not gzip");
        assert_eq!(fed(&trailing, "gzip", 7), Err(415));
        assert_eq!(fed(b"", "gzip", 7), Err(415));
        assert_eq!(fed(b"", "", 7), Ok((Vec::new(), 0)));
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
