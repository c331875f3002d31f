-- Each agent's availability as they set it (online | away | busy), as on SQLite (see
-- ../sqlite/0004): agents already there are online.
ALTER TABLE agents ADD COLUMN IF NOT EXISTS availability TEXT NOT NULL DEFAULT 'online'
    CHECK (availability IN ('online', 'away', 'busy'));
