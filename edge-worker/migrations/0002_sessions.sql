-- Optimization sessions (DESIGN §4) and the queue messages given up on.
-- The session Durable Object owns a session's state; every change is written here too, as the
-- view `GET /api/sessions/:id` answers (JSON in `view`), so the API and the history read D1.

CREATE TABLE sessions (
  id         TEXT PRIMARY KEY,          -- 32 hex digits, random
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  period_end TEXT NOT NULL,             -- local YYYY-MM-DDTHH:MM in the account's zone
  state      TEXT NOT NULL
             CHECK (state IN ('created', 'optimizing', 'reporting', 'notifying', 'completed',
                              'failed')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  view       TEXT NOT NULL              -- the session as answered (JSON)
);
CREATE INDEX sessions_by_account ON sessions (tenant_id, account_id, created_at);

-- A queue message the queue stopped retrying (after max_retries), with why; its session
-- failed with the same reason.
CREATE TABLE dead_letters (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id  TEXT NOT NULL,
  message     TEXT NOT NULL,            -- the message body (JSON)
  reason      TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
