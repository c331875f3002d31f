-- What each agent set in the console's header: online (takes new chats), away or busy
-- (takes none; HandoffService.set_availability says how they differ). Kept with the agent,
-- so every gateway replica routes by the same choice, and a reload shows it again. Agents
-- already there are online, as they were: whether they are at a console is presence, not this.
ALTER TABLE agents ADD COLUMN availability TEXT NOT NULL DEFAULT 'online'
    CHECK (availability IN ('online', 'away', 'busy'));
