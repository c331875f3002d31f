"""Rasa custom actions, served by rasa-sdk on Python 3.11."""
