-- Images and PDFs sent in a conversation, as on SQLite (see ../sqlite/0009).
CREATE TABLE IF NOT EXISTS attachments (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    uploader_role TEXT NOT NULL CHECK (uploader_role IN ('customer', 'agent')),
    uploader TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL CHECK (size >= 0),
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    data BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_conversation ON attachments(conversation_id);
