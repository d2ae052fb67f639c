-- Tenants, their API tokens, accounts and the files uploaded to them (DESIGN §4 and §7).
-- Applied by `wrangler d1 migrations apply DB` (--local for wrangler dev) and, in the vitest
-- suite, by test/apply-migrations.mjs. Never edit an applied migration: add 0002_... instead.
-- Times are RFC 3339 text in UTC (`2026-11-20T17:00:00Z`).

CREATE TABLE tenants (
  id         TEXT PRIMARY KEY,          -- 32 hex digits, random
  name       TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- A tenant's bearer tokens. Only the hex SHA-256 of a token is kept: the token itself is shown
-- once, when it is made, and never stored or logged.
CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL
);
CREATE INDEX api_tokens_by_tenant ON api_tokens (tenant_id);

-- One carrier account of a tenant and its settings, named as the core's SettingsInput names
-- them where they overlap (time_zone, proration, charge_type, projection, margin_pct,
-- currency_decimals). The billing period ends on period_end_day (1-31, clamped to the month's
-- length) at period_end_hour local time; sessions start at or after start_hour.
CREATE TABLE accounts (
  id                TEXT PRIMARY KEY,   -- 32 hex digits, random
  tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name              TEXT NOT NULL,
  time_zone         TEXT NOT NULL,      -- IANA name
  period_end_day    INTEGER NOT NULL CHECK (period_end_day BETWEEN 1 AND 31),
  period_end_hour   INTEGER NOT NULL CHECK (period_end_hour BETWEEN 0 AND 23),
  start_hour        INTEGER NOT NULL CHECK (start_hour BETWEEN 0 AND 23),
  proration         INTEGER NOT NULL CHECK (proration IN (0, 1)),
  charge_type       TEXT NOT NULL
                    CHECK (charge_type IN ('rate-and-overage', 'overage-only', 'rate-only')),
  projection        INTEGER NOT NULL CHECK (projection IN (0, 1)),
  margin_pct        TEXT NOT NULL,      -- exact decimal text, in percent ('1', '2.5')
  currency_decimals INTEGER NOT NULL CHECK (currency_decimals BETWEEN 0 AND 6),
  notify_email      TEXT,
  notify_webhook    TEXT,
  auto_push         INTEGER NOT NULL CHECK (auto_push IN (0, 1)),
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE INDEX accounts_by_tenant ON accounts (tenant_id, created_at);

-- Every file uploaded to an account. The body is in R2 under r2_key
-- (tenants/<tenant>/accounts/<account>/<kind>/<sha256>.csv); the latest row of each kind (the
-- highest id) is the account's current snapshot of that kind.
CREATE TABLE uploads (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind        TEXT NOT NULL CHECK (kind IN ('plans', 'eligibility', 'sims')),
  r2_key      TEXT NOT NULL,
  bytes       INTEGER NOT NULL,
  sha256      TEXT NOT NULL,            -- hex SHA-256 of the body
  rows        INTEGER NOT NULL,         -- data rows, header excluded
  uploaded_at TEXT NOT NULL
);
CREATE INDEX uploads_by_account ON uploads (account_id, kind, id);
