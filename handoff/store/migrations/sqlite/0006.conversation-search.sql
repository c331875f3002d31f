-- Conversation search for agents (handoff/store/search.py): one full-text table over what
-- agents search by, with FTS5's trigram tokenizer (SQLite 3.34+): any 3 characters or more
-- are found inside a word, so Japanese (no spaces) and Korean (particles attached) need no
-- word splitting. `kind` says what a row is: a message (`ref` its seq), the customer's
-- name, email and id (`ref` 0), or an offline ticket (`ref` its id). Kept by the triggers
-- below in the same transaction as the row they index; filled here with what exists.
-- tests/handoff/test_store_contract.py: PostgreSQL's pg_trgm indexes do the same there.
CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(
    body, conversation_id UNINDEXED, kind UNINDEXED, ref UNINDEXED, tokenize = 'trigram'
);
CREATE TRIGGER IF NOT EXISTS search_text_message AFTER INSERT ON messages BEGIN
    INSERT INTO search_text (body, conversation_id, kind, ref)
        VALUES (new.text, new.conversation_id, 'message', new.seq);
END;
CREATE TRIGGER IF NOT EXISTS search_text_customer AFTER INSERT ON conversations BEGIN
    INSERT INTO search_text (body, conversation_id, kind, ref)
        SELECT TRIM(COALESCE(json_extract(new.customer_json, '$.name'), '') || ' '
            || COALESCE(json_extract(new.customer_json, '$.email'), '') || ' '
            || COALESCE(json_extract(new.customer_json, '$.id'), '')), new.id, 'customer', 0;
END;
CREATE TRIGGER IF NOT EXISTS search_text_ticket AFTER INSERT ON tickets BEGIN
    INSERT INTO search_text (body, conversation_id, kind, ref)
        VALUES (new.message || ' ' || COALESCE(json_extract(new.contact_json, '$.name'), '')
            || ' ' || COALESCE(json_extract(new.contact_json, '$.email'), '') || ' '
            || COALESCE(json_extract(new.contact_json, '$.phone'), ''),
            new.conversation_id, 'ticket', new.id);
END;
INSERT INTO search_text (body, conversation_id, kind, ref)
    SELECT text, conversation_id, 'message', seq FROM messages ORDER BY rowid;
INSERT INTO search_text (body, conversation_id, kind, ref)
    SELECT TRIM(COALESCE(json_extract(customer_json, '$.name'), '') || ' '
        || COALESCE(json_extract(customer_json, '$.email'), '') || ' '
        || COALESCE(json_extract(customer_json, '$.id'), '')), id, 'customer', 0
    FROM conversations ORDER BY created_at;
INSERT INTO search_text (body, conversation_id, kind, ref)
    SELECT message || ' ' || COALESCE(json_extract(contact_json, '$.name'), '') || ' '
        || COALESCE(json_extract(contact_json, '$.email'), '') || ' '
        || COALESCE(json_extract(contact_json, '$.phone'), ''), conversation_id, 'ticket', id
    FROM tickets ORDER BY id;
-- The most recently active conversations first: results, and the recent conversations a
-- search of 1 or 2 characters scans. Tickets by conversation, for the same scan.
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations(updated_at);
CREATE INDEX IF NOT EXISTS tickets_conversation ON tickets(conversation_id);
