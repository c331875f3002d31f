"""Rasa custom actions, served by rasa-sdk on Python 3.11."""

import logging

from common.jsonlog import make_handler
from common.pii import RedactingFilter, install_log_redaction
from stack.settings import Settings


def _log_our_decisions() -> None:
    """rasa-sdk runs actions in a spawned worker whose root logger has no handler
    and drops INFO; every retrieval decision and its numbers belong in the
    action server's log, so our loggers get their own handler, in the stack's
    format (JSON lines with the conversation id unless ASSISTANT_LOG_FORMAT=text)."""
    handler = make_handler(Settings.from_env().log_format, "actions")
    handler.addFilter(RedactingFilter())  # queries may hold contact details, cards, ids
    for name in ("actions", "kb_index"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False


install_log_redaction()  # every log record of the action server's worker
_log_our_decisions()
