-- Ticket replies going out by email (handoff/email/outbox.py). A reply is written here when
-- it is stored; a sender task per gateway sends due rows over SMTP, retrying with back-off
-- (`attempts`, `next_attempt_at`, `last_error`) until `sent_at` is set or it gives up
-- (`failed_at`). `recipient` is the one copy of the customer's address outside the
-- transcript and the ticket, kept only until then: it is blanked once the row is sent or
-- given up on. `thread` holds the Message-IDs of the conversation's earlier mails
-- (In-Reply-To / References), so mail clients show one thread. While a sender works on a
-- row, `next_attempt_at` is pushed past its lease, so no other sender takes it meanwhile.
CREATE TABLE IF NOT EXISTS email_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    message_id TEXT NOT NULL,
    thread TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT,
    failed_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS email_outbox_due ON email_outbox(next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX IF NOT EXISTS email_outbox_conversation ON email_outbox(conversation_id, id);
