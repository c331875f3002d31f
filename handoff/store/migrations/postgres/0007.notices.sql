-- Notices supervisors post for outages and maintenance, as on SQLite (see ../sqlite/0007).
CREATE TABLE IF NOT EXISTS notices (
    id TEXT PRIMARY KEY,
    texts_json TEXT NOT NULL,
    topics_json TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('info', 'outage')),
    starts_at TEXT NOT NULL,
    ends_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ended_by TEXT
);
