-- Messages reach the search index (search_text, 0006) in batches, no longer one by one in
-- each message's own transaction: every FTS5 commit writes a segment, and on a busy day
-- that cost was most of a message's write (1.5 ms a line with 20 000 lines indexed, 0.03 ms
-- in batches of 100; bench/soak.py). SQLiteStore.index_search_text adds the lines after
-- `message_rowid`, about once a second; until then a search reads those few lines from
-- `messages` itself (store/sqlite_search.py), so nothing written is missed. Customers and
-- tickets keep their triggers: they are written once per conversation.
DROP TRIGGER IF EXISTS search_text_message;
CREATE TABLE IF NOT EXISTS search_watermark (
    id INTEGER PRIMARY KEY,
    message_rowid INTEGER NOT NULL
);
-- Every message so far is indexed (0006 filled the index, its trigger kept it).
INSERT OR IGNORE INTO search_watermark (id, message_rowid)
    SELECT 1, COALESCE(MAX(rowid), 0) FROM messages;
