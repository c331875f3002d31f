-- What each agent set in the console's header: online (takes new chats), away or busy
-- (takes none; HandoffService.set_availability says how they differ). Kept with the agent,
-- so every gateway replica routes by the same choice, and a reload shows it again. Agents
-- already there are online, as they were: whether they are at a console is presence, not this.
-- No CHECK here (PostgreSQL's step has one): SQLite would verify the rows already there
-- with a query of its own, whose empty result yoyo prints to standard output, a stray line
-- in the gateway's JSON log. The store refuses any other value (set_availability).
ALTER TABLE agents ADD COLUMN availability TEXT NOT NULL DEFAULT 'online';
