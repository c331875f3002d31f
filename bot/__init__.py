"""Rasa project files and our Rasa NLU components.

Modules here run inside Rasa's own environment (Python 3.10): they may import
only the standard library, Rasa and what Rasa installs.
"""
