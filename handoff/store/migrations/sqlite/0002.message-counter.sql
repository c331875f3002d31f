-- Each conversation counts its messages (last_seq), as on PostgreSQL, where a message is
-- stored by one statement that bumps it (see ../postgres/0002). SQLite, with one writer,
-- keeps it up to date alongside. Filled in for the conversations already there.
ALTER TABLE conversations ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET last_seq = COALESCE(
    (SELECT MAX(seq) FROM messages WHERE messages.conversation_id = conversations.id), 0);
