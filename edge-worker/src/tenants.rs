//! `POST /api/admin/tenants` (admin token only): a new tenant and its first bearer token, shown
//! once in the answer and stored only as its hash.

use serde::Deserialize;
use worker::{Request, Response};

use crate::accounts::{self, MAX_NAME_CHARS};
use crate::auth::{self, token_hash};
use crate::error::ApiError;
use crate::request::{self, BodyLimit};
use crate::store::{Store, TenantRow};
use crate::{clock, json_answer};

/// The largest body accepted.
const LIMIT: BodyLimit = BodyLimit {
    bytes: 4 * 1024,
    hint: "send only {\"name\": \"...\"}",
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    name: String,
}

/// The tenant's name from the request body `{"name": "..."}`.
///
/// # Errors
/// [`ApiError::BadJson`] for another body, an empty or overlong name.
pub fn tenant_name(body: &[u8]) -> Result<String, ApiError> {
    let bad = |why: String| {
        ApiError::BadJson(format!(
            "{why}; send {{\"name\": \"Acme Logistics\"}} (one line of at most {MAX_NAME_CHARS} \
             characters)"
        ))
    };
    let NewTenant { name } = serde_json::from_slice(body)
        .map_err(|e| bad(format!("the body is not a new tenant: {e}")))?;
    let name = name.trim();
    if let Some((why, _)) = accounts::name_problem(name) {
        return Err(bad(why));
    }
    Ok(name.to_owned())
}

/// Makes a tenant and its first token; answers 201 with both. The token is in this answer only.
///
/// # Errors
/// 400/413 for the body; a storage error.
pub async fn create(mut req: Request, store: &Store) -> Result<Response, ApiError> {
    let name = tenant_name(&request::read_capped(&mut req, LIMIT).await?)?;
    let tenant = TenantRow {
        id: auth::new_id()?,
        name,
        created_at: clock::now_rfc3339(),
    };
    let token = auth::new_token()?;
    store.create_tenant(&tenant, &token_hash(&token)).await?;
    #[derive(serde::Serialize)]
    struct Created<'a> {
        tenant: &'a TenantRow,
        token: &'a str,
        note: &'static str,
    }
    let body = Created {
        tenant: &tenant,
        token: &token,
        note: "the token is shown this once: only its hash is kept. Send it as \
               Authorization: Bearer <token>.",
    };
    let mut response = json_answer(201, &body)?;
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            tenant_name(br#"{"name":" Acme "}"#).ok().as_deref(),
            Some("Acme")
        );
        for body in [
            &br#"{"name":""}"#[..],
            br#"{"name":"a\nb"}"#,
            br#"{"nom":"a"}"#,
            br#"{"name":"a","x":1}"#,
            b"",
            b"[]",
        ] {
            let error = tenant_name(body).expect_err("bad");
            assert_eq!(
                error.code(),
                "bad-json",
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let long = format!(r#"{{"name":"{}"}}"#, "x".repeat(MAX_NAME_CHARS + 1));
        assert!(tenant_name(long.as_bytes()).is_err());
    }
}
