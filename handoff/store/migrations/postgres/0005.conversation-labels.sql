-- Labels agents put on a conversation, as on SQLite (see ../sqlite/0005): the labels a
-- conversation has now; setting and removing are also written to `events` ('labels').
CREATE TABLE IF NOT EXISTS conversation_labels (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    label TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, label)
);
CREATE INDEX IF NOT EXISTS conversation_labels_label
    ON conversation_labels (label, conversation_id);
