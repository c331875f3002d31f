"""The conversation domain: who owns a chat (state_machine), the one service that changes
it (handoff_service: escalate, queue, assign, resolve, back to the bot), customer messages
(service), queue events, business hours, and the relay that talks to the bot."""
