-- Images and PDFs customers and agents send in a conversation (handoff/attachments/). The
-- bytes are kept here, not on one gateway's disk: every replica reads them, backups carry
-- them, and a file is at most a few MB (Settings.attachment_max_bytes). `id` is random
-- and unguessable; a read always names the conversation too. `uploader` is the agent's
-- username, '' for the customer; `name` is for display only.
CREATE TABLE IF NOT EXISTS attachments (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    uploader_role TEXT NOT NULL,
    uploader TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_conversation ON attachments(conversation_id);
