"""Rasa custom actions, served by rasa-sdk on Python 3.11."""

import logging

from common.pii import RedactingFilter, install_log_redaction


def _log_our_decisions() -> None:
    """rasa-sdk runs actions in a spawned worker whose root logger has no handler
    and drops INFO; every retrieval decision and its numbers belong in the
    action server's log, so our loggers get their own handler."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s - %(message)s"))
    handler.addFilter(RedactingFilter())  # queries may hold contact details, cards, ids
    for name in ("actions", "kb_index"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False


install_log_redaction()  # every log record of the action server's worker
_log_our_decisions()
