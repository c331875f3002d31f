-- Private notes on a conversation by agents and supervisors ("VIP, refund already approved
-- by finance"): never shown to the customer, so kept apart from `messages`, which every
-- customer read returns. `id` is the order they were added in; `author` an agent's username.
CREATE TABLE IF NOT EXISTS conversation_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversation_notes_conversation
    ON conversation_notes(conversation_id, id);
