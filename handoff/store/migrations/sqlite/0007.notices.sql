-- Notices supervisors post for outages and maintenance (handoff/notices/): kept here so
-- every gateway replica shows the same banner, greeting line and answer line. The
-- designers' scheduled windows live in data/notices.yml, not here. Times are UTC text in
-- one shape (handoff/notices/model.py instant), so comparing them as text compares instants.
-- `ends_at` NULL: until a supervisor ends it (which sets ends_at to that moment and ended_by).
CREATE TABLE IF NOT EXISTS notices (
    id TEXT PRIMARY KEY,
    texts_json TEXT NOT NULL,
    topics_json TEXT NOT NULL,
    severity TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ended_by TEXT
);
