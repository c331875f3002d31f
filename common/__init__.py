"""Pure-Python code both environments import: Rasa's (Python 3.10, bot/) and ours
(Python 3.11: kb_index, handoff). Standard library only."""
