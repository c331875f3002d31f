-- Each conversation counts its messages (last_seq): a message is then stored by one
-- statement that bumps the counter under the row's lock and inserts with the new value,
-- one round trip without a transaction of its own (postgres.py, _INSERT_MESSAGE).
-- Filled in for the conversations already there from their highest seq.
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS last_seq INTEGER NOT NULL DEFAULT 0;
UPDATE conversations AS c SET last_seq = m.last_seq
FROM (SELECT conversation_id, MAX(seq) AS last_seq FROM messages GROUP BY conversation_id) AS m
WHERE m.conversation_id = c.id AND c.last_seq < m.last_seq;
