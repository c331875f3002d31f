"""Rasa's log, said plainly when the action server cannot be reached.

While the action server is down (it crashed, and supervisord has not brought it back
yet) Rasa logs every custom action it could not run as an ERROR carrying a three-part
traceback of aiohttp's connection error. Nothing in that traceback helps an operator;
`ActionServerDown` replaces it with what happened and what to do. Every other record,
and every other exception, is left as it is.

Imported by Rasa's --logging-config-file (stack/launcher.py): standard library only,
Python 3.10.
"""

from __future__ import annotations

import logging
import re
from typing import Optional

_ACTION = re.compile(r"running action '([^']+)'")

ACTION_SERVER_DOWN = (
    "could not reach the action server to run '{action}' (connection refused). "
    "supervisord restarts a crashed action server by itself, and the gateway keeps the "
    "customer's message and answers it once the server is back. If this repeats, read "
    "the actions log (var/log/actions-*.log) and `python -m stack ctl status`."
)


def _refused(error: Optional[BaseException]) -> bool:
    """Whether a connection was refused anywhere in the chain of `error`."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ConnectionRefusedError):
            return True
        error = error.__cause__ or error.__context__
    return False


class ActionServerDown(logging.Filter):
    """Rasa's "could not run this action" ERROR without its traceback, when the cause is
    a refused connection: one line that says what to do."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("rasa.") or not record.exc_info:
            return True
        if not _refused(record.exc_info[1]):
            return True
        found = _ACTION.search(record.getMessage())
        record.msg = ACTION_SERVER_DOWN.format(action=found.group(1) if found else "an action")
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True
