"""Rasa custom actions, served by rasa-sdk on Python 3.11."""

import logging


def _log_our_decisions() -> None:
    """rasa-sdk runs actions in a spawned worker whose root logger has no handler
    and drops INFO; every retrieval decision and its numbers belong in the
    action server's log, so our loggers get their own handler."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s - %(message)s"))
    for name in ("actions", "kb_index"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False


_log_our_decisions()
