-- The carrier integration (issue 6): an account's carrier connection and change rules, the
-- syncs that replaced its SIMs file, the pushes of a session's changes and each device's
-- outcome. Sessions gain the states `syncing` and `pushing`: SQLite cannot change a CHECK, so
-- `sessions` is rebuilt (and `session_sims`, which refers to it, with it), rows kept.

-- One carrier connection per account (none: the account's SIMs file is uploaded by hand).
-- The API key is sealed (AES-256-GCM under the CARRIER_KEYS_SECRET secret, the account's id as
-- associated data): `v1.<hex nonce>.<hex ciphertext and tag>`; it is never answered or logged.
CREATE TABLE account_carriers (
  account_id                    TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  tenant_id                     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  kind                          TEXT NOT NULL CHECK (kind IN ('control_center')),
  base_url                      TEXT NOT NULL,
  username                      TEXT NOT NULL,
  api_key_sealed                TEXT NOT NULL,
  max_changes_per_sim_per_month INTEGER CHECK (max_changes_per_sim_per_month >= 0),
  earliest_effective_date       TEXT,   -- YYYY-MM-DD in the account's zone, or NULL
  created_at                    TEXT NOT NULL,
  updated_at                    TEXT NOT NULL
);

-- Every completed sync: what it read and the SIMs file it made current (uploads.id). The
-- latest row of an account is its last sync; the next one is incremental from next_since_ms
-- when that sync's file is still the account's current SIMs file.
CREATE TABLE carrier_syncs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  session_id    TEXT NOT NULL UNIQUE,
  mode          TEXT NOT NULL CHECK (mode IN ('full', 'incremental')),
  upload_id     INTEGER NOT NULL,
  started_at    TEXT NOT NULL,
  finished_at   TEXT NOT NULL,
  next_since_ms INTEGER NOT NULL,      -- Unix ms: the next incremental sync's "modified since"
  sims          INTEGER NOT NULL,      -- rows of the snapshot
  counts        TEXT NOT NULL,         -- JSON: pages, listed, rows, usage_updates, gone
  stats         TEXT NOT NULL          -- JSON: requests, retries, 429s, 5xx, waits
);
CREATE INDEX carrier_syncs_by_account ON carrier_syncs (account_id, id);

-- At most one push per account and billing period (an automatic one or an approved one).
CREATE TABLE carrier_pushes (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  account_id         TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  period_end         TEXT NOT NULL,
  session_id         TEXT NOT NULL UNIQUE,
  trigger            TEXT NOT NULL CHECK (trigger IN ('auto', 'approval')),
  created_at         TEXT NOT NULL,
  go                 INTEGER CHECK (go IN (0, 1)),   -- NULL until planned
  decision           TEXT,                           -- JSON: the go/no-go and its figures
  report             TEXT,                           -- JSON: counts, discrepancies, stats
  changes_per_minute INTEGER,                        -- observed, for the next go/no-go
  finished_at        TEXT,
  UNIQUE (account_id, period_end)
);

-- Each device's outcome in a push (applied, already_on_target, discrepancy, ...).
CREATE TABLE carrier_push_outcomes (
  session_id  TEXT NOT NULL,
  account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  iccid       TEXT NOT NULL,
  from_plan   TEXT NOT NULL,
  to_plan     TEXT NOT NULL,
  outcome     TEXT NOT NULL,
  detail      TEXT NOT NULL,            -- JSON of the outcome (the carrier's plan, a message)
  at          TEXT NOT NULL,            -- RFC 3339 UTC
  PRIMARY KEY (session_id, iccid)
) WITHOUT ROWID;
CREATE INDEX carrier_push_outcomes_by_account ON carrier_push_outcomes (account_id, at);

-- Sessions with the carrier's states.
CREATE TABLE sessions_new (
  id         TEXT PRIMARY KEY,
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  period_end TEXT NOT NULL,
  state      TEXT NOT NULL
             CHECK (state IN ('created', 'syncing', 'optimizing', 'reporting', 'notifying',
                              'pushing', 'completed', 'failed')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  view       TEXT NOT NULL
);
INSERT INTO sessions_new (id, tenant_id, account_id, period_end, state, created_at, updated_at, view)
  SELECT id, tenant_id, account_id, period_end, state, created_at, updated_at, view FROM sessions;

CREATE TABLE session_sims_new (
  session_id   TEXT NOT NULL REFERENCES sessions_new (id) ON DELETE CASCADE,
  n            INTEGER NOT NULL,
  iccid        TEXT NOT NULL,
  comm_plan    TEXT NOT NULL,
  current_plan TEXT NOT NULL,
  plan         TEXT NOT NULL,
  current_cost TEXT NOT NULL,
  cost         TEXT NOT NULL,
  saving       TEXT NOT NULL,
  changed      INTEGER NOT NULL CHECK (changed IN (0, 1)),
  why          TEXT NOT NULL,
  PRIMARY KEY (session_id, n)
) WITHOUT ROWID;
INSERT INTO session_sims_new SELECT session_id, n, iccid, comm_plan, current_plan, plan,
  current_cost, cost, saving, changed, why FROM session_sims;

-- The children first: dropping a parent with rows would cascade into them.
DROP TABLE session_sims;
DROP TABLE sessions;
-- Renaming updates the reference of session_sims_new to sessions.
ALTER TABLE sessions_new RENAME TO sessions;
ALTER TABLE session_sims_new RENAME TO session_sims;
CREATE INDEX sessions_by_account ON sessions (tenant_id, account_id, created_at);
CREATE INDEX session_sims_changes ON session_sims (session_id, changed, n);
