-- Offline tickets are worked at the agents' desk, as on SQLite (see ../sqlite/0008): who
-- claimed a ticket and when, its latest reply, when it was closed and how.
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS claimed_by TEXT;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS claimed_at TEXT;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS answered_at TEXT;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS closed_at TEXT;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS resolution TEXT;
ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_status_known;
ALTER TABLE tickets ADD CONSTRAINT tickets_status_known
    CHECK (status IN ('open', 'claimed', 'answered', 'closed'));
CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status, id);
CREATE INDEX IF NOT EXISTS tickets_claimed_by ON tickets (claimed_by, id);
