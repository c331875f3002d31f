-- Offline tickets are worked at the agents' desk (handoff/conversation/tickets.py): an agent
-- claims one (claimed_by, claimed_at), replies (answered_at: the latest reply; the reply
-- itself is an agent message in the conversation, so the customer's transcript has it) and
-- closes it (closed_at, resolution). `status` goes open -> claimed -> answered -> closed, and
-- a release puts a claimed ticket back to open (state_machine.TICKET_TRANSITIONS). Each change
-- is also an event in the conversation's history (`events`, ticket_claim and so on), written
-- with the row. No CHECK here (SQLite's ALTER TABLE cannot add one without a query whose
-- output yoyo prints); the store writes only the states the machine names.
ALTER TABLE tickets ADD COLUMN claimed_by TEXT;
ALTER TABLE tickets ADD COLUMN claimed_at TEXT;
ALTER TABLE tickets ADD COLUMN answered_at TEXT;
ALTER TABLE tickets ADD COLUMN closed_at TEXT;
ALTER TABLE tickets ADD COLUMN resolution TEXT;
-- The desk's lists: open ones, and an agent's own.
CREATE INDEX IF NOT EXISTS tickets_status ON tickets(status, id);
CREATE INDEX IF NOT EXISTS tickets_claimed_by ON tickets(claimed_by, id);
