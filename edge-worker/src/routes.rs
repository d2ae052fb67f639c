//! The API's routes: a request's path matched to what answers it, the methods each route takes
//! and who may call it. Pure: the fetch handler in `lib.rs` dispatches on the result.

use worker::Method;

use crate::uploads::Kind;

/// Every route of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /api/health`.
    Health,
    /// `POST /api/cost`: the stateless bill of posted files.
    Cost,
    /// `POST /api/admin/tenants`: a new tenant and its first token.
    AdminTenants,
    /// `GET`/`POST /api/accounts`: the tenant's accounts, a new account.
    Accounts,
    /// `GET`/`PATCH /api/accounts/:id`.
    Account(String),
    /// `GET /api/accounts/:id/uploads`: the account's uploaded files.
    Uploads(String),
    /// `PUT /api/accounts/:id/{plans,eligibility,sims}`: a new file of one kind.
    Upload(String, Kind),
    /// `GET`/`POST /api/accounts/:id/sessions`: the account's sessions, a new session.
    AccountSessions(String),
    /// `GET /api/sessions/:id`: a session's state and progress.
    Session(String),
    /// `GET /api/sessions/:id/report.xlsx`: a session's Excel report.
    SessionReport(String),
    /// `GET /api/sessions/:id/sims`: a session's per-SIM results, a page at a time.
    SessionSims(String),
    /// `POST /api/sessions/:id/push`: approve the push of a session's changes to the carrier.
    SessionPush(String),
    /// `GET`/`PUT`/`DELETE /api/accounts/:id/carrier`: the account's carrier connection.
    Carrier(String),
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (no credentials).
    Public,
    /// The holder of the service's `ADMIN_TOKEN`.
    Admin,
    /// A tenant, by one of its bearer tokens.
    Tenant,
}

impl Route {
    /// The route a path names, if any.
    pub fn of(path: &str) -> Option<Route> {
        let rest = path.strip_prefix("/api/")?;
        let parts: Vec<&str> = rest.split('/').collect();
        let id = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Some(match parts.as_slice() {
            ["health"] => Route::Health,
            ["cost"] => Route::Cost,
            ["admin", "tenants"] => Route::AdminTenants,
            ["accounts"] => Route::Accounts,
            ["accounts", account] => Route::Account(id(account)?),
            ["accounts", account, "uploads"] => Route::Uploads(id(account)?),
            ["accounts", account, "sessions"] => Route::AccountSessions(id(account)?),
            ["sessions", session] => Route::Session(id(session)?),
            ["sessions", session, "report.xlsx"] => Route::SessionReport(id(session)?),
            ["sessions", session, "sims"] => Route::SessionSims(id(session)?),
            ["sessions", session, "push"] => Route::SessionPush(id(session)?),
            ["accounts", account, "carrier"] => Route::Carrier(id(account)?),
            ["accounts", account, kind] => Route::Upload(id(account)?, Kind::of(kind)?),
            _ => return None,
        })
    }

    /// The route as written in the docs and the logs (`/api/accounts/:id/sims`): no ids.
    pub fn pattern(&self) -> &'static str {
        match self {
            Route::Health => "/api/health",
            Route::Cost => "/api/cost",
            Route::AdminTenants => "/api/admin/tenants",
            Route::Accounts => "/api/accounts",
            Route::Account(_) => "/api/accounts/:id",
            Route::Uploads(_) => "/api/accounts/:id/uploads",
            Route::Upload(_, Kind::Plans) => "/api/accounts/:id/plans",
            Route::Upload(_, Kind::Eligibility) => "/api/accounts/:id/eligibility",
            Route::Upload(_, Kind::Sims) => "/api/accounts/:id/sims",
            Route::AccountSessions(_) => "/api/accounts/:id/sessions",
            Route::Session(_) => "/api/sessions/:id",
            Route::SessionReport(_) => "/api/sessions/:id/report.xlsx",
            Route::SessionSims(_) => "/api/sessions/:id/sims",
            Route::SessionPush(_) => "/api/sessions/:id/push",
            Route::Carrier(_) => "/api/accounts/:id/carrier",
        }
    }

    /// The methods the route answers, as the `Allow` header lists them.
    pub fn allow(&self) -> &'static str {
        match self {
            Route::Health => "GET, HEAD",
            Route::Cost | Route::AdminTenants | Route::SessionPush(_) => "POST",
            Route::Carrier(_) => "GET, PUT, DELETE",
            Route::Accounts | Route::AccountSessions(_) => "GET, POST",
            Route::Session(_) | Route::SessionReport(_) | Route::SessionSims(_) => "GET",
            Route::Account(_) => "GET, PATCH",
            Route::Uploads(_) => "GET",
            Route::Upload(_, Kind::Eligibility) => "PUT, DELETE",
            Route::Upload(..) => "PUT",
        }
    }

    /// Whether the route answers `method`.
    pub fn allows(&self, method: &Method) -> bool {
        self.allow()
            .split(", ")
            .any(|m| m.eq_ignore_ascii_case(method.as_ref()))
    }

    /// Who may call it.
    pub fn access(&self) -> Access {
        match self {
            Route::Health | Route::Cost => Access::Public,
            Route::AdminTenants => Access::Admin,
            Route::Accounts
            | Route::Account(_)
            | Route::Uploads(_)
            | Route::Upload(..)
            | Route::AccountSessions(_)
            | Route::Session(_)
            | Route::SessionReport(_)
            | Route::SessionSims(_)
            | Route::SessionPush(_)
            | Route::Carrier(_) => Access::Tenant,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_to_routes() {
        let id = "0123456789abcdef0123456789abcdef";
        let cases = [
            ("/api/health", Some(Route::Health)),
            ("/api/cost", Some(Route::Cost)),
            ("/api/admin/tenants", Some(Route::AdminTenants)),
            ("/api/accounts", Some(Route::Accounts)),
            (
                &format!("/api/accounts/{id}"),
                Some(Route::Account(id.into())),
            ),
            (
                &format!("/api/accounts/{id}/uploads"),
                Some(Route::Uploads(id.into())),
            ),
            (
                &format!("/api/accounts/{id}/plans"),
                Some(Route::Upload(id.into(), Kind::Plans)),
            ),
            (
                &format!("/api/accounts/{id}/eligibility"),
                Some(Route::Upload(id.into(), Kind::Eligibility)),
            ),
            (
                &format!("/api/accounts/{id}/sims"),
                Some(Route::Upload(id.into(), Kind::Sims)),
            ),
            (
                &format!("/api/accounts/{id}/carrier"),
                Some(Route::Carrier(id.into())),
            ),
            (
                &format!("/api/sessions/{id}/push"),
                Some(Route::SessionPush(id.into())),
            ),
            (&format!("/api/accounts/{id}/other"), None),
            (&format!("/api/accounts/{id}/sims/x"), None),
            ("/api/accounts/", None),
            ("/api/accounts//sims", None),
            ("/api/admin", None),
            ("/api/nothing", None),
            ("/api", None),
            ("/health", None),
            ("/", None),
        ];
        for (path, want) in cases {
            assert_eq!(Route::of(path), want, "{path}");
        }
    }

    #[test]
    fn methods_and_access() {
        let account = Route::Account("a".into());
        assert!(account.allows(&Method::Get));
        assert!(account.allows(&Method::Patch));
        assert!(!account.allows(&Method::Delete));
        assert!(!account.allows(&Method::Put));
        assert!(Route::Health.allows(&Method::Head));
        assert!(Route::Upload("a".into(), Kind::Sims).allows(&Method::Put));
        assert!(!Route::Upload("a".into(), Kind::Sims).allows(&Method::Post));
        assert_eq!(Route::Health.access(), Access::Public);
        assert_eq!(Route::Cost.access(), Access::Public);
        assert_eq!(Route::AdminTenants.access(), Access::Admin);
        for route in [
            Route::Accounts,
            account,
            Route::Uploads("a".into()),
            Route::Upload("a".into(), Kind::Plans),
        ] {
            assert_eq!(route.access(), Access::Tenant, "{}", route.pattern());
        }
        assert_eq!(
            Route::Upload("a".into(), Kind::Eligibility).pattern(),
            "/api/accounts/:id/eligibility"
        );
    }
}
