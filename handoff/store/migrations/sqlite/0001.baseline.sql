-- The gateway's schema on SQLite, applied by yoyo when SQLiteStore.open (store.py) finds
-- a file without it: a new file, or one from before the migration tool (after 0000 has
-- given its tables the columns they lack).
-- tests/handoff/test_store_contract.py compares it with the PostgreSQL baseline.
-- Idempotent (IF NOT EXISTS throughout): safe over a file that already has any of it.
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    language TEXT NOT NULL,
    state TEXT NOT NULL,
    customer_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- Facts analytics.py counts conversations by, kept as they happen (no scan of
    -- messages, handoffs and bot_events per conversation at report time):
    engaged INTEGER NOT NULL DEFAULT 0,      -- the customer wrote at least once
    kb_answered INTEGER NOT NULL DEFAULT 0,  -- the bot showed a KB article's answer
    kb_rejected INTEGER NOT NULL DEFAULT 0,  -- "that didn't help" / "none of these"
    last_handoff TEXT                        -- status of its latest handoff, if any
);
CREATE TABLE IF NOT EXISTS messages (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    payload TEXT,
    client_id TEXT,
    buttons_json TEXT NOT NULL DEFAULT '[]',
    links_json TEXT NOT NULL DEFAULT '[]',
    meta_json TEXT NOT NULL DEFAULT '{}',
    ts TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_id
    ON messages(conversation_id, client_id) WHERE client_id IS NOT NULL;
-- handoff to people (handoff_store.py)
CREATE TABLE IF NOT EXISTS agents (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    languages_json TEXT NOT NULL,
    skills_json TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'agent'  -- agent | supervisor (sees analytics)
);
CREATE TABLE IF NOT EXISTS agent_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES agents(username),
    expires_at REAL NOT NULL
);
-- Sign-ins locked after too many failures (login_guard.py) until an operator runs
-- `python -m handoff agents unlock USERNAME`. Any username, known or not: a lock must
-- not tell which usernames exist.
CREATE TABLE IF NOT EXISTS login_lockouts (
    username TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS handoffs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    priority INTEGER NOT NULL,
    language TEXT NOT NULL,
    skill TEXT,
    agent TEXT,
    summary TEXT NOT NULL,
    context_json TEXT NOT NULL,
    queued_at REAL NOT NULL,
    assigned_at REAL,
    closed_at REAL,
    first_reply_at REAL,  -- the agent's first message (analytics: wait to first reply)
    day TEXT,  -- the UTC day the conversation started
    started_at TEXT  -- when the conversation started (analytics count by its day in any tz)
);
CREATE INDEX IF NOT EXISTS handoffs_open ON handoffs(status, priority, queued_at);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    name TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    data_json TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    language TEXT NOT NULL,
    contact_json TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
-- What the bot still has to be told (bot_relay.py): written in the same transaction
-- as the customer message (or the hand-back to the bot), deleted in the same
-- transaction as the bot's replies.
CREATE TABLE IF NOT EXISTS bot_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    seq INTEGER,
    ask_rating INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    notified INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bot_outbox_conversation ON bot_outbox(conversation_id, id);
CREATE TABLE IF NOT EXISTS ratings (
    conversation_id TEXT NOT NULL,
    handoff_id INTEGER,
    agent TEXT,
    rating INTEGER NOT NULL,
    ts TEXT NOT NULL
);
-- One rating per handoff (per conversation when it had none).
CREATE UNIQUE INDEX IF NOT EXISTS ratings_one_per_handoff
    ON ratings(conversation_id, IFNULL(handoff_id, 0));
-- What the bot did, read from its replies' meta as they are stored (analytics.py):
-- answer / clarify / abstain / chosen (the article shown, if any), and the customer's
-- helpful / not_helpful / none_of_these, in the same transaction as the reply.
CREATE TABLE IF NOT EXISTS bot_events (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    article_id TEXT,
    language TEXT NOT NULL,  -- the conversation's, when the bot replied
    ts TEXT NOT NULL,
    day TEXT,  -- the UTC day the conversation started
    started_at TEXT,  -- when the conversation started (analytics count by its day in any tz)
    PRIMARY KEY (conversation_id, seq, kind)
);
CREATE INDEX IF NOT EXISTS handoffs_conversation ON handoffs(conversation_id, id);
CREATE INDEX IF NOT EXISTS ratings_handoff ON ratings(handoff_id);
CREATE INDEX IF NOT EXISTS ratings_ts ON ratings(ts);
-- What analytics.py reads (covering indexes).
CREATE INDEX IF NOT EXISTS conversations_by_hour ON conversations(SUBSTR(created_at, 1, 13),
    language, engaged, kb_answered, kb_rejected, last_handoff, created_at);
CREATE INDEX IF NOT EXISTS bot_events_by_hour ON bot_events(SUBSTR(started_at, 1, 13),
    language, kind, started_at);
CREATE INDEX IF NOT EXISTS bot_events_by_article ON bot_events(day, language, article_id,
    kind, started_at);
CREATE INDEX IF NOT EXISTS handoffs_by_hour ON handoffs(SUBSTR(started_at, 1, 13), language,
    reason, status, agent, queued_at, assigned_at, closed_at, first_reply_at, started_at);
