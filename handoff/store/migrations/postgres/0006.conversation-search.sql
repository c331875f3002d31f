-- Conversation search for agents (handoff/store/search.py), as on SQLite (see ../sqlite/0006):
-- pg_trgm's GIN indexes make `ILIKE '%text%'` an index lookup for 3 characters or more, in
-- any script. They index the columns themselves (and the customer's and a ticket's text as
-- expressions, spelled exactly as handoff/store/postgres_search.py queries them), so every
-- insert keeps them current and existing rows are indexed as they are built.
-- pg_trgm is a trusted extension: the database's owner may create it. It goes to `public`,
-- never to a deployment's own schema: several deployments (or test schemas) in one database
-- share it, and dropping one schema must not take the others' indexes with it. Already
-- installed elsewhere by an administrator, it is used where it is.
DO $$
DECLARE
    home TEXT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE EXTENSION pg_trgm SCHEMA public;
    END IF;
    SELECT n.nspname INTO home FROM pg_extension e
        JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    EXECUTE format(
        'CREATE INDEX IF NOT EXISTS messages_text_trgm ON messages USING gin (text %I.gin_trgm_ops)',
        home);
    EXECUTE format(
        'CREATE INDEX IF NOT EXISTS conversations_customer_trgm ON conversations USING gin (('
        'TRIM(COALESCE((customer_json::jsonb) ->> ''name'', '''') || '' '''
        ' || COALESCE((customer_json::jsonb) ->> ''email'', '''') || '' '''
        ' || COALESCE((customer_json::jsonb) ->> ''id'', ''''))) %I.gin_trgm_ops)',
        home);
    EXECUTE format(
        'CREATE INDEX IF NOT EXISTS tickets_text_trgm ON tickets USING gin (('
        'message || '' '' || COALESCE((contact_json::jsonb) ->> ''name'', '''') || '' '''
        ' || COALESCE((contact_json::jsonb) ->> ''email'', '''') || '' '''
        ' || COALESCE((contact_json::jsonb) ->> ''phone'', '''')) %I.gin_trgm_ops)',
        home);
END
$$;
-- The most recently active conversations first: results, and the recent conversations a
-- search of 1 or 2 characters scans. Tickets by conversation, for the same scan.
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations (updated_at);
CREATE INDEX IF NOT EXISTS tickets_conversation ON tickets (conversation_id);
