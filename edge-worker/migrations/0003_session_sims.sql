-- Each completed session's per-SIM result (DESIGN §4: results to D1), for the API and for the
-- push of the changes to the carrier. Written a chunk at a time by the session's `results`
-- step with INSERT OR REPLACE, so a retried chunk writes the same rows again.

CREATE TABLE session_sims (
  session_id   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  n            INTEGER NOT NULL,      -- the SIM's row in the session's sims file, from 0
  iccid        TEXT NOT NULL,
  comm_plan    TEXT NOT NULL,         -- empty when the file has none
  current_plan TEXT NOT NULL,         -- plan_id now
  plan         TEXT NOT NULL,         -- plan_id after
  current_cost TEXT NOT NULL,         -- exact decimal
  cost         TEXT NOT NULL,
  saving       TEXT NOT NULL,         -- current_cost - cost
  changed      INTEGER NOT NULL CHECK (changed IN (0, 1)),
  why          TEXT NOT NULL,
  PRIMARY KEY (session_id, n)
) WITHOUT ROWID;
CREATE INDEX session_sims_changes ON session_sims (session_id, changed, n);
