"""The gateway: customers' front door (and, later, the agents' side).

It owns each conversation's state, persists every message before acknowledging
it, and relays customer messages to Rasa's REST channel while the bot owns the
conversation.
"""
