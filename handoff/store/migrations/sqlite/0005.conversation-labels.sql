-- Labels agents put on a conversation (data/labels.yml lists them: refund, vip, ...): one
-- row per label a conversation has now, who set it and when. Setting and removing are also
-- written to `events` (name 'labels'), the conversation's history. Never read by any
-- customer route.
CREATE TABLE IF NOT EXISTS conversation_labels (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    label TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, label)
);
-- Analytics counts conversations per label (analytics.labels).
CREATE INDEX IF NOT EXISTS conversation_labels_label ON conversation_labels(label, conversation_id);
