//! Storage: tenants, tokens, accounts and upload records in D1 (binding `DB`, schema in
//! `edge-worker/migrations/`), uploaded file bodies in R2 (binding `FILES`).
//!
//! Every account query carries the tenant's id in its `WHERE` clause, so one tenant's request
//! can neither see nor change another tenant's rows.

use serde::{Deserialize, Serialize};
use worker::wasm_bindgen::JsValue;
use worker::{Bucket, D1Database, Env, ResponseBody};

use crate::accounts::{Account, AccountSettings};
use crate::error::ApiError;
use crate::session::SessionView;
use crate::uploads::Kind;

/// The D1 binding's name in `wrangler.toml`.
pub const DB_BINDING: &str = "DB";
/// The R2 binding's name in `wrangler.toml`.
pub const FILES_BINDING: &str = "FILES";

/// The Worker's storage.
pub struct Store {
    pub(crate) db: D1Database,
    files: Bucket,
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRow {
    /// 32 hex digits.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was made.
    pub created_at: String,
}

/// One uploaded file, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRow {
    /// Increasing with every upload: the highest of a kind is the current one.
    pub id: i64,
    /// The account.
    pub account_id: String,
    /// `plans`, `eligibility` or `sims`.
    pub kind: String,
    /// Where the body is in R2.
    pub r2_key: String,
    /// The body's length.
    pub bytes: i64,
    /// Hex SHA-256 of the body.
    pub sha256: String,
    /// Data rows, header excluded.
    pub rows: i64,
    /// When it was uploaded.
    pub uploaded_at: String,
}

/// One SIM's result in a session, as kept in D1 and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimResult {
    /// Its row in the session's sims file, from 0.
    pub n: u64,
    /// The ICCID.
    pub iccid: String,
    /// Its communication plan (empty when none).
    pub comm_plan: String,
    /// Its plan now.
    pub current_plan: String,
    /// Its plan after.
    pub plan: String,
    /// Its bill now.
    pub current_cost: String,
    /// Its bill after.
    pub cost: String,
    /// `current_cost − cost`.
    pub saving: String,
    /// Whether it changes plan.
    pub changed: bool,
    /// Why it moves or stays.
    pub why: String,
}

/// A row of `session_sims` (flags as integers).
#[derive(Debug, Deserialize)]
struct SimResultRow {
    n: f64,
    iccid: String,
    comm_plan: String,
    current_plan: String,
    plan: String,
    current_cost: String,
    cost: String,
    saving: String,
    changed: f64,
    why: String,
}

impl From<SimResultRow> for SimResult {
    fn from(r: SimResultRow) -> Self {
        SimResult {
            n: r.n as u64,
            iccid: r.iccid,
            comm_plan: r.comm_plan,
            current_plan: r.current_plan,
            plan: r.plan,
            current_cost: r.current_cost,
            cost: r.cost,
            saving: r.saving,
            changed: r.changed != 0.0,
            why: r.why,
        }
    }
}

/// An upload to record.
#[derive(Debug, Clone, Copy)]
pub struct NewUpload<'a> {
    /// The account.
    pub account: &'a str,
    /// The file's kind.
    pub kind: Kind,
    /// Where its body is in R2.
    pub r2_key: &'a str,
    /// The body's length.
    pub bytes: u64,
    /// Hex SHA-256 of the body.
    pub sha256: &'a str,
    /// Data rows.
    pub rows: u64,
    /// When (RFC 3339).
    pub uploaded_at: &'a str,
}

/// An account as D1 holds it (integers for flags and numbers).
#[derive(Debug, Deserialize)]
struct AccountRow {
    id: String,
    name: String,
    time_zone: String,
    period_end_day: i64,
    period_end_hour: i64,
    start_hour: i64,
    proration: i64,
    charge_type: String,
    projection: i64,
    margin_pct: String,
    currency_decimals: i64,
    notify_email: Option<String>,
    notify_webhook: Option<String>,
    auto_push: i64,
    created_at: String,
    updated_at: String,
}

impl AccountRow {
    fn into_account(self) -> Result<Account, ApiError> {
        let small = |field: &str, v: i64| {
            u32::try_from(v).map_err(|_| corrupt(format!("account {}: {field} = {v}", self.id)))
        };
        Ok(Account {
            settings: AccountSettings {
                name: self.name.clone(),
                time_zone: self.time_zone.clone(),
                period_end_day: small("period_end_day", self.period_end_day)?,
                period_end_hour: small("period_end_hour", self.period_end_hour)?,
                start_hour: small("start_hour", self.start_hour)?,
                proration: self.proration != 0,
                charge_type: self.charge_type.clone(),
                projection: self.projection != 0,
                margin_pct: self.margin_pct.clone(),
                currency_decimals: small("currency_decimals", self.currency_decimals)?,
                notify_email: self.notify_email.clone(),
                notify_webhook: self.notify_webhook.clone(),
                auto_push: self.auto_push != 0,
            },
            id: self.id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub(crate) fn corrupt(what: String) -> ApiError {
    ApiError::Runtime(worker::Error::RustError(format!(
        "stored data out of range: {what}"
    )))
}

pub(crate) fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

pub(crate) fn int(n: impl Into<f64>) -> JsValue {
    JsValue::from_f64(n.into())
}

pub(crate) fn opt(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

fn flag(b: bool) -> JsValue {
    int(u8::from(b))
}

/// The values of `?1`–`?15` in the account statements (id, tenant, then the settings in the
/// table's column order), followed by `times` (`?16`, …).
fn account_values(tenant: &str, account: &Account, times: &[&str]) -> Vec<JsValue> {
    let s = &account.settings;
    let mut values = vec![
        text(&account.id),
        text(tenant),
        text(&s.name),
        text(&s.time_zone),
        int(s.period_end_day),
        int(s.period_end_hour),
        int(s.start_hour),
        flag(s.proration),
        text(&s.charge_type),
        flag(s.projection),
        text(&s.margin_pct),
        int(s.currency_decimals),
        opt(s.notify_email.as_deref()),
        opt(s.notify_webhook.as_deref()),
        flag(s.auto_push),
    ];
    values.extend(times.iter().map(|t| text(t)));
    values
}

const ACCOUNT_COLUMNS: &str = "id, name, time_zone, period_end_day, period_end_hour, start_hour, \
     proration, charge_type, projection, margin_pct, currency_decimals, notify_email, \
     notify_webhook, auto_push, created_at, updated_at";

const UPLOAD_COLUMNS: &str = "id, account_id, kind, r2_key, bytes, sha256, rows, uploaded_at";

impl Store {
    /// The bindings of `env`.
    ///
    /// # Errors
    /// A runtime error naming the binding that is missing from `wrangler.toml`.
    pub fn from_env(env: &Env) -> Result<Store, ApiError> {
        let missing = |binding: &str, e: worker::Error| {
            ApiError::Runtime(worker::Error::RustError(format!(
                "the {binding} binding is not usable ({e}); see [[d1_databases]] and \
                 [[r2_buckets]] in wrangler.toml"
            )))
        };
        Ok(Store {
            db: env.d1(DB_BINDING).map_err(|e| missing(DB_BINDING, e))?,
            files: env
                .bucket(FILES_BINDING)
                .map_err(|e| missing(FILES_BINDING, e))?,
        })
    }

    /// The tenant of the token with this hash, if any.
    ///
    /// # Errors
    /// A storage error.
    pub async fn tenant_of_token(&self, hash: &str) -> Result<Option<String>, ApiError> {
        Ok(self
            .db
            .prepare("SELECT tenant_id FROM api_tokens WHERE token_hash = ?1")
            .bind(&[text(hash)])?
            .first::<String>(Some("tenant_id"))
            .await?)
    }

    /// Records a tenant and its first token's hash, together.
    ///
    /// # Errors
    /// A storage error.
    pub async fn create_tenant(
        &self,
        tenant: &TenantRow,
        token_hash: &str,
    ) -> Result<(), ApiError> {
        let insert_tenant = self
            .db
            .prepare("INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)")
            .bind(&[
                text(&tenant.id),
                text(&tenant.name),
                text(&tenant.created_at),
            ])?;
        let insert_token = self
            .db
            .prepare(
                "INSERT INTO api_tokens (token_hash, tenant_id, created_at) VALUES (?1, ?2, ?3)",
            )
            .bind(&[text(token_hash), text(&tenant.id), text(&tenant.created_at)])?;
        // A batch is one transaction: both rows or neither.
        self.db.batch(vec![insert_tenant, insert_token]).await?;
        Ok(())
    }

    /// The tenant's accounts, oldest first (in the order they were made).
    ///
    /// # Errors
    /// A storage error.
    pub async fn accounts(&self, tenant: &str) -> Result<Vec<Account>, ApiError> {
        let rows = self
            .db
            .prepare(format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE tenant_id = ?1 \
                 ORDER BY created_at, rowid"
            ))
            .bind(&[text(tenant)])?
            .all()
            .await?
            .results::<AccountRow>()?;
        rows.into_iter().map(AccountRow::into_account).collect()
    }

    /// The tenant's account `id`, if the tenant has one of that id.
    ///
    /// # Errors
    /// A storage error.
    pub async fn account(&self, tenant: &str, id: &str) -> Result<Option<Account>, ApiError> {
        self.db
            .prepare(format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1 AND tenant_id = ?2"
            ))
            .bind(&[text(id), text(tenant)])?
            .first::<AccountRow>(None)
            .await?
            .map(AccountRow::into_account)
            .transpose()
    }

    /// Records a new account of the tenant.
    ///
    /// # Errors
    /// A storage error.
    pub async fn insert_account(&self, tenant: &str, account: &Account) -> Result<(), ApiError> {
        self.db
            .prepare(
                "INSERT INTO accounts (id, tenant_id, name, time_zone, period_end_day, \
                 period_end_hour, start_hour, proration, charge_type, projection, margin_pct, \
                 currency_decimals, notify_email, notify_webhook, auto_push, created_at, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, \
                 ?15, ?16, ?17)",
            )
            .bind(&account_values(
                tenant,
                account,
                &[&account.created_at, &account.updated_at],
            ))?
            .run()
            .await?;
        Ok(())
    }

    /// Writes an account's settings back; `false` when the tenant has no such account (any
    /// more).
    ///
    /// # Errors
    /// A storage error.
    pub async fn update_account(&self, tenant: &str, account: &Account) -> Result<bool, ApiError> {
        let result = self
            .db
            .prepare(
                "UPDATE accounts SET name = ?3, time_zone = ?4, period_end_day = ?5, \
                 period_end_hour = ?6, start_hour = ?7, proration = ?8, charge_type = ?9, \
                 projection = ?10, margin_pct = ?11, currency_decimals = ?12, notify_email = ?13, \
                 notify_webhook = ?14, auto_push = ?15, updated_at = ?16 \
                 WHERE id = ?1 AND tenant_id = ?2",
            )
            .bind(&account_values(tenant, account, &[&account.updated_at]))?
            .run()
            .await?;
        let changed = result
            .meta()?
            .and_then(|m| m.changes)
            .is_some_and(|n| n > 0);
        Ok(changed)
    }

    /// Records an upload (its body already in R2) and answers the record.
    ///
    /// # Errors
    /// A storage error.
    pub async fn insert_upload(&self, new: &NewUpload<'_>) -> Result<UploadRow, ApiError> {
        let row = self
            .db
            .prepare(format!(
                "INSERT INTO uploads (account_id, kind, r2_key, bytes, sha256, rows, uploaded_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING {UPLOAD_COLUMNS}"
            ))
            .bind(&[
                text(new.account),
                text(new.kind.name()),
                text(new.r2_key),
                int(new.bytes as f64),
                text(new.sha256),
                int(new.rows as f64),
                text(new.uploaded_at),
            ])?
            .first::<UploadRow>(None)
            .await?;
        row.ok_or_else(|| {
            ApiError::Runtime(worker::Error::RustError(
                "the upload was not recorded (INSERT returned no row)".into(),
            ))
        })
    }

    /// The account's uploads, newest first.
    ///
    /// # Errors
    /// A storage error.
    pub async fn uploads(&self, account: &str) -> Result<Vec<UploadRow>, ApiError> {
        Ok(self
            .db
            .prepare(format!(
                "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE account_id = ?1 ORDER BY id DESC"
            ))
            .bind(&[text(account)])?
            .all()
            .await?
            .results::<UploadRow>()?)
    }

    /// The account's current file of a kind (its latest upload), if any: none after a removal
    /// (a record without a file).
    ///
    /// # Errors
    /// A storage error.
    pub async fn current_upload(
        &self,
        account: &str,
        kind: Kind,
    ) -> Result<Option<UploadRow>, ApiError> {
        Ok(self
            .db
            .prepare(format!(
                "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE account_id = ?1 AND kind = ?2 \
                 ORDER BY id DESC LIMIT 1"
            ))
            .bind(&[text(account), text(kind.name())])?
            .first::<UploadRow>(None)
            .await?
            .filter(|row| !row.r2_key.is_empty()))
    }

    /// Stores a file body in R2; R2 checks it against its SHA-256 (`sha256`: the 32 bytes).
    ///
    /// # Errors
    /// A storage error (also when the body does not match the digest).
    pub async fn put_file(&self, key: &str, body: Vec<u8>, sha256: &[u8]) -> Result<(), ApiError> {
        self.put(key, body, "text/csv; charset=utf-8", Some(sha256))
            .await
    }

    /// Stores `body` under `key` with its content type (and the digest R2 checks, if given).
    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        sha256: Option<&[u8]>,
    ) -> Result<(), ApiError> {
        let mut put = self
            .files
            .put(key, body)
            .http_metadata(worker::HttpMetadata {
                content_type: Some(content_type.into()),
                ..worker::HttpMetadata::default()
            });
        if let Some(digest) = sha256 {
            put = put.sha256(digest.to_vec());
        }
        put.execute().await?;
        Ok(())
    }

    /// A file body from R2.
    ///
    /// # Errors
    /// A storage error, also when the object named by an upload record is gone.
    pub async fn file(&self, key: &str) -> Result<Vec<u8>, ApiError> {
        self.file_if_present(key).await?.ok_or_else(|| {
            ApiError::Runtime(worker::Error::RustError(format!(
                "the stored file {key} is missing from R2"
            )))
        })
    }

    /// A file body from R2, or `None` when there is no object of that key.
    ///
    /// # Errors
    /// A storage error.
    pub async fn file_if_present(&self, key: &str) -> Result<Option<Vec<u8>>, ApiError> {
        let object = self.files.get(key).execute().await?;
        match object.as_ref().and_then(|o| o.body()) {
            Some(body) => Ok(Some(body.bytes().await?)),
            None => Ok(None),
        }
    }

    /// The size of a stored file, if there is one.
    ///
    /// # Errors
    /// A storage error.
    pub async fn file_size(&self, key: &str) -> Result<Option<u64>, ApiError> {
        Ok(self.files.head(key).await?.map(|o| o.size()))
    }

    /// A stored file as a body to answer with, streamed from R2 by the runtime (the Worker holds
    /// none of it: a report of a million SIMs is ~100 MB), with its size; `None` when there is
    /// no object of that key.
    ///
    /// # Errors
    /// A storage error.
    pub async fn file_stream(&self, key: &str) -> Result<Option<(ResponseBody, u64)>, ApiError> {
        let Some(object) = self.files.get(key).execute().await? else {
            return Ok(None);
        };
        let size = object.size();
        match object.body() {
            Some(body) => Ok(Some((body.response_body()?, size))),
            None => Ok(None),
        }
    }

    /// Stores a file the Worker wrote (a session's report) in R2.
    ///
    /// # Errors
    /// A storage error.
    pub async fn put_object(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), ApiError> {
        self.put(key, body, content_type, None).await
    }

    /// A stored file's bytes handed to `each` in pieces of `piece` bytes (the last shorter),
    /// read from R2 one range at a time, so the Worker never holds the whole file; answers its
    /// size, or `None` when there is no object of that key.
    ///
    /// # Errors
    /// A storage error, also when a range comes back short (the file changed while read).
    pub async fn file_in_pieces(
        &self,
        key: &str,
        piece: u64,
        mut each: impl FnMut(&[u8]),
    ) -> Result<Option<u64>, ApiError> {
        let Some(head) = self.files.head(key).await? else {
            return Ok(None);
        };
        let size = head.size();
        let mut offset = 0;
        while offset < size {
            let length = piece.max(1).min(size - offset);
            let object = self
                .files
                .get(key)
                .range(worker::Range::OffsetWithLength { offset, length })
                .execute()
                .await?;
            let bytes = match object.as_ref().and_then(|o| o.body()) {
                Some(body) => body.bytes().await?,
                None => Vec::new(),
            };
            if bytes.len() as u64 != length {
                return Err(ApiError::Runtime(worker::Error::RustError(format!(
                    "the stored file {key} gave {} bytes at {offset} where {length} were asked for",
                    bytes.len()
                ))));
            }
            each(&bytes);
            offset += length;
        }
        Ok(Some(size))
    }

    /// Deletes stored files (those already gone are no error).
    ///
    /// # Errors
    /// A storage error.
    pub async fn delete_files(&self, keys: Vec<String>) -> Result<(), ApiError> {
        if !keys.is_empty() {
            self.files.delete_multiple(keys).await?;
        }
        Ok(())
    }

    /// Starts storing a file the Worker writes part by part (a session's report of many SIMs);
    /// answers the upload's id, which [`Store::put_part`] and [`Store::complete_parts`] take.
    ///
    /// # Errors
    /// A storage error.
    pub async fn start_parts(&self, key: &str, content_type: &str) -> Result<String, ApiError> {
        let upload = self
            .files
            .create_multipart_upload(key)
            .http_metadata(worker::HttpMetadata {
                content_type: Some(content_type.into()),
                ..worker::HttpMetadata::default()
            })
            .execute()
            .await?;
        Ok(upload.upload_id().await)
    }

    /// Stores part `number` (from 1) of a file started with [`Store::start_parts`]; answers its
    /// ETag. Storing a part again replaces it.
    ///
    /// # Errors
    /// A storage error, also when the upload is no longer open.
    pub async fn put_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        bytes: Vec<u8>,
    ) -> Result<String, ApiError> {
        let upload = self.files.resume_multipart_upload(key, upload_id)?;
        Ok(upload.upload_part(number, bytes).await?.etag())
    }

    /// Drops a multipart upload and the parts stored.
    ///
    /// # Errors
    /// A storage error.
    pub async fn abort_parts(&self, key: &str, upload_id: &str) -> Result<(), ApiError> {
        self.files
            .resume_multipart_upload(key, upload_id)?
            .abort()
            .await?;
        Ok(())
    }

    /// Joins the parts stored (their ETags in order, part 1 first) into the file.
    ///
    /// # Errors
    /// A storage error, also when the upload is no longer open (joined already, or aborted).
    pub async fn complete_parts(
        &self,
        key: &str,
        upload_id: &str,
        etags: &[String],
    ) -> Result<(), ApiError> {
        let upload = self.files.resume_multipart_upload(key, upload_id)?;
        let parts = etags
            .iter()
            .zip(1u16..)
            .map(|(etag, number)| worker::UploadedPart::new(number, etag.clone()));
        upload.complete(parts).await?;
        Ok(())
    }

    /// Writes a session's view (new or changed) for the API and the history.
    ///
    /// # Errors
    /// A storage error.
    pub async fn put_session(&self, tenant: &str, view: &SessionView) -> Result<(), ApiError> {
        let json = serde_json::to_string(view).map_err(|e| {
            ApiError::Runtime(worker::Error::RustError(format!(
                "cannot write session {}: {e}",
                view.id
            )))
        })?;
        self.db
            .prepare(
                "INSERT INTO sessions (id, tenant_id, account_id, period_end, state, created_at, \
                 updated_at, view) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state, \
                 updated_at = excluded.updated_at, view = excluded.view",
            )
            .bind(&[
                text(&view.id),
                text(tenant),
                text(&view.account_id),
                text(&view.period_end),
                text(view.state.as_str()),
                text(&view.created_at),
                text(&view.updated_at),
                text(&json),
            ])?
            .run()
            .await?;
        Ok(())
    }

    /// The tenant's session `id`, if the tenant has one of that id.
    ///
    /// # Errors
    /// A storage error, or a stored view that does not read.
    pub async fn session(&self, tenant: &str, id: &str) -> Result<Option<SessionView>, ApiError> {
        let view = self
            .db
            .prepare("SELECT view FROM sessions WHERE id = ?1 AND tenant_id = ?2")
            .bind(&[text(id), text(tenant)])?
            .first::<String>(Some("view"))
            .await?;
        view.map(|v| read_view(&v)).transpose()
    }

    /// The sessions of the tenant's account, newest first.
    ///
    /// # Errors
    /// A storage error, or a stored view that does not read.
    pub async fn sessions(
        &self,
        tenant: &str,
        account: &str,
    ) -> Result<Vec<SessionView>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            view: String,
        }
        let rows = self
            .db
            .prepare(
                "SELECT view FROM sessions WHERE tenant_id = ?1 AND account_id = ?2 \
                 ORDER BY created_at DESC, rowid DESC",
            )
            .bind(&[text(tenant), text(account)])?
            .all()
            .await?
            .results::<Row>()?;
        rows.iter().map(|r| read_view(&r.view)).collect()
    }

    /// Every account of every tenant, as (tenant, account), for the schedule.
    ///
    /// # Errors
    /// A storage error.
    pub async fn all_accounts(&self) -> Result<Vec<(String, Account)>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            tenant_id: String,
            #[serde(flatten)]
            account: AccountRow,
        }
        let rows = self
            .db
            .prepare(format!(
                "SELECT tenant_id, {ACCOUNT_COLUMNS} FROM accounts ORDER BY created_at, rowid"
            ))
            .all()
            .await?
            .results::<Row>()?;
        rows.into_iter()
            .map(|r| Ok((r.tenant_id, r.account.into_account()?)))
            .collect()
    }

    /// When the sessions of an account's period were started (RFC 3339), oldest first.
    ///
    /// # Errors
    /// A storage error.
    pub async fn period_starts(
        &self,
        tenant: &str,
        account: &str,
        period_end: &str,
    ) -> Result<Vec<String>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            created_at: String,
        }
        let rows = self
            .db
            .prepare(
                "SELECT created_at FROM sessions WHERE tenant_id = ?1 AND account_id = ?2 \
                 AND period_end = ?3 ORDER BY created_at",
            )
            .bind(&[text(tenant), text(account), text(period_end)])?
            .all()
            .await?
            .results::<Row>()?;
        Ok(rows.into_iter().map(|r| r.created_at).collect())
    }

    /// Writes per-SIM results of a session (rows replaced if already there: a retried chunk
    /// writes the same rows).
    ///
    /// # Errors
    /// A storage error.
    pub async fn put_session_sims(
        &self,
        session: &str,
        rows: &[SimResult],
    ) -> Result<(), ApiError> {
        let mut values = Vec::with_capacity(rows.len() * 11);
        for row in rows {
            values.extend([
                text(session),
                int(row.n as f64),
                text(&row.iccid),
                text(&row.comm_plan),
                text(&row.current_plan),
                text(&row.plan),
                text(&row.current_cost),
                text(&row.cost),
                text(&row.saving),
                flag(row.changed),
                text(&row.why),
            ]);
        }
        self.insert_rows(
            "INSERT OR REPLACE INTO session_sims (session_id, n, iccid, comm_plan, current_plan, \
             plan, current_cost, cost, saving, changed, why)",
            11,
            &values,
        )
        .await
    }

    /// Runs `insert` (an `INSERT` up to its `VALUES`) for every row of `values` (`width` values
    /// a row, one after the other): as many rows a statement as D1's 100 bound values allow,
    /// the statements in one batch.
    ///
    /// # Errors
    /// A storage error.
    pub(crate) async fn insert_rows(
        &self,
        insert: &str,
        width: usize,
        values: &[JsValue],
    ) -> Result<(), ApiError> {
        // D1 binds at most 100 values per statement.
        let per_statement = (100 / width) * width;
        let mut statements = Vec::with_capacity(values.len().div_ceil(per_statement));
        for chunk in values.chunks(per_statement) {
            let places = placeholders(chunk.len() / width, width);
            statements.push(
                self.db
                    .prepare(format!("{insert} VALUES {places}"))
                    .bind(chunk)?,
            );
        }
        if !statements.is_empty() {
            self.db.batch(statements).await?;
        }
        Ok(())
    }

    /// A page of a session's per-SIM results in fleet order (only the changes when
    /// `changed_only`), and how many there are in all.
    ///
    /// # Errors
    /// A storage error.
    pub async fn session_sims(
        &self,
        session: &str,
        changed_only: bool,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<SimResult>), ApiError> {
        let filter = if changed_only { " AND changed = 1" } else { "" };
        let total = self
            .db
            .prepare(format!(
                "SELECT COUNT(*) AS n FROM session_sims WHERE session_id = ?1{filter}"
            ))
            .bind(&[text(session)])?
            .first::<f64>(Some("n"))
            .await?
            .unwrap_or(0.0) as u64;
        let rows = self
            .db
            .prepare(format!(
                "SELECT n, iccid, comm_plan, current_plan, plan, current_cost, cost, saving, \
                 changed, why FROM session_sims WHERE session_id = ?1{filter} ORDER BY n \
                 LIMIT ?2 OFFSET ?3"
            ))
            .bind(&[text(session), int(limit as f64), int(offset as f64)])?
            .all()
            .await?
            .results::<SimResultRow>()?;
        Ok((total, rows.into_iter().map(SimResult::from).collect()))
    }

    /// Records a queue message that could not be processed.
    ///
    /// # Errors
    /// A storage error.
    pub async fn dead_letter(
        &self,
        session: &str,
        message: &str,
        reason: &str,
        at: &str,
    ) -> Result<(), ApiError> {
        self.db
            .prepare(
                "INSERT INTO dead_letters (session_id, message, reason, recorded_at) \
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(&[text(session), text(message), text(reason), text(at)])?
            .run()
            .await?;
        Ok(())
    }
}

/// `rows` tuples of `width` numbered placeholders: `(?1, ?2), (?3, ?4)`.
fn placeholders(rows: usize, width: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect();
    tuples.join(", ")
}

fn read_view(json: &str) -> Result<SessionView, ApiError> {
    serde_json::from_str(json).map_err(|e| corrupt(format!("a session's view: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(super::placeholders(2, 2), "(?1, ?2), (?3, ?4)");
        assert_eq!(super::placeholders(1, 3), "(?1, ?2, ?3)");
        assert_eq!(super::placeholders(0, 3), "");
    }
}
