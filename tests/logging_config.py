"""Apply a process's logging configuration in a test, then put the test run's back."""

from __future__ import annotations

import contextlib
import logging
import logging.config
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def logging_configured(config: dict[str, Any]) -> Iterator[None]:
    """`config` applied with dictConfig, as Rasa applies its --logging-config-file; on the
    way out the root logger's handlers and level are restored and the loggers the config
    names go back to inheriting theirs."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    logging.config.dictConfig(config)
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        for name in config.get("loggers", {}):
            logging.getLogger(name).setLevel(logging.NOTSET)
