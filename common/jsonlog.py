"""Structured logs: one JSON object per line, each carrying the conversation it is about.

Three processes write logs (the gateway, Rasa, the action server), each to its own file.
Following one customer's conversation through them needs one key they all print: the
conversation id. The gateway uses it as Rasa's sender id and Rasa passes it on to the
action server as `tracker.sender_id`, so each process knows it while it works on a
conversation and puts it in a context variable (`conversation_context`). Every record
logged meanwhile, by our code or a library's, in that task or one it starts (asyncio
copies context variables into new tasks), gets it through `ConversationFilter`.

One line:

    {"ts": "2026-12-05T03:41:50.123Z", "level": "INFO", "logger": "handoff.conversation.bot_relay",
     "process": "gateway", "pid": 4242, "message": "bot answered message item 7 ...",
     "conversation_id": "6f1c...", "exc": "Traceback ..."}

`conversation_id` only when known, `exc` only with an exception. The message is what
the code logged: personal data is kept out of it where it is made (common/pii.py
redacts every record in our environment; Rasa only ever gets redacted text).

Standard library only, Python 3.10-compatible: Rasa's environment imports this too
(its --logging-config-file names `JsonFormatter` and `ConversationFilter`).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from datetime import datetime, timezone
from typing import IO, Any, Iterator, Optional, Sequence

JSON = "json"
TEXT = "text"
FORMATS = (JSON, TEXT)

# The conversation the current task is working on (None: none, or not known).
CONVERSATION_ID: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
    "conversation_id", default=None
)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(conversation)s: %(message)s"


@contextlib.contextmanager
def conversation_context(conversation_id: Optional[str]) -> Iterator[None]:
    """Every record logged inside the block (and in tasks started in it) carries
    `conversation_id`; the previous value is back afterwards."""
    token = CONVERSATION_ID.set(conversation_id or None)
    try:
        yield
    finally:
        CONVERSATION_ID.reset(token)


def current_conversation_id() -> Optional[str]:
    return CONVERSATION_ID.get()


def conversation_of(record: logging.LogRecord) -> Optional[str]:
    """The record's conversation: set by ConversationFilter (or `extra=`) when it was
    handled, else the one of the code formatting it (the same thread, so the same)."""
    value = getattr(record, "conversation_id", None)
    return str(value) if value else CONVERSATION_ID.get()


class ConversationFilter(logging.Filter):
    """Adds `conversation_id` (the current conversation, or None) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "conversation_id", None):
            record.conversation_id = CONVERSATION_ID.get()
        return True


def _timestamp(created: float) -> str:
    moment = datetime.fromtimestamp(created, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in a message or a traceback
    are escaped by JSON, so a line is always a whole record)."""

    def __init__(self, process_name: str = "") -> None:
        super().__init__()
        self.process_name = process_name

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "process": self.process_name or record.processName,
            "pid": record.process,
            "message": record.getMessage(),
        }
        conversation_id = conversation_of(record)
        if conversation_id:
            entry["conversation_id"] = conversation_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Korean and Japanese stay readable; a line that cannot be UTF-8 (a lone
        # surrogate) is written escaped rather than lost. Newlines are always escaped.
        line = json.dumps(entry, ensure_ascii=False, default=str)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            line = json.dumps(entry, ensure_ascii=True, default=str)
        return line


class TextFormatter(logging.Formatter):
    """The plain format, with the conversation id in brackets when there is one."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        conversation_id = conversation_of(record)
        record.conversation = f" [{conversation_id}]" if conversation_id else ""
        return super().formatMessage(record)


def make_formatter(log_format: str, process_name: str) -> logging.Formatter:
    """The formatter for ASSISTANT_LOG_FORMAT (`json` or `text`)."""
    if log_format == JSON:
        return JsonFormatter(process_name)
    if log_format == TEXT:
        return TextFormatter()
    raise ValueError(f"log format {log_format!r}: use one of {', '.join(FORMATS)}")


def make_handler(
    log_format: str, process_name: str, stream: Optional[IO[str]] = None
) -> logging.Handler:
    """A handler writing to `stream` (default stderr) in `log_format`, with the
    conversation id added to each record."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(make_formatter(log_format, process_name))
    handler.addFilter(ConversationFilter())
    return handler


def dict_config(
    log_format: str,
    process_name: str,
    level: str = "INFO",
    own_loggers: Sequence[str] = (),
    filters: Sequence[str] = (),
) -> dict[str, Any]:
    """A `logging.config.dictConfig` configuration: every record of the process through
    one stderr handler in `log_format`, with the conversation id. The launcher writes it
    as Rasa's --logging-config-file. `own_loggers` get `level` themselves: a library may
    lower the root logger's level (numpy.distutils sets it to WARNING when Rasa loads
    its model), which would silence every logger that only inherits it. `filters`: more
    logging.Filter classes (import paths) every record passes through."""
    make_formatter(log_format, process_name)  # an unknown format fails here, not later
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "stack": {
                "()": f"{__name__}.make_formatter",
                "log_format": log_format,
                "process_name": process_name,
            }
        },
        "filters": {
            "conversation": {"()": f"{__name__}.ConversationFilter"},
            **{path: {"()": path} for path in filters},
        },
        "handlers": {
            "stack": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "stack",
                "filters": ["conversation", *filters],
            }
        },
        "loggers": {name: {"level": level} for name in own_loggers},
        "root": {"level": level, "handlers": ["stack"]},
    }
