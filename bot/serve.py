"""`rasa run` with its API token taken from the environment, not the command line.

The token guards Rasa's HTTP API, which can rewrite any conversation. A command line is
visible to every local user in `ps`; a process's environment is not. The launcher sets
ASSISTANT_RASA_AUTH_TOKEN; this passes it to Rasa inside the process.

    python -m bot.serve run --model ... --enable-api ...
"""

import logging
import logging.config
import os
import sys
from typing import Any, List, Optional

import yaml


def _logging_config_file(argv: List[str]) -> Optional[str]:
    for i, arg in enumerate(argv):
        if arg == "--logging-config-file" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--logging-config-file="):
            return arg.split("=", 1)[1]
    return None


def _keep_configured_logging(path: str) -> None:
    """With --logging-config-file (the launcher's: JSON lines, common/jsonlog.py) every
    line Rasa writes must go through the handler that file sets on the root logger.

    The file is applied before Rasa is imported (Rasa applies it again), with Python's
    warnings routed into it: importing Rasa prints deprecation warnings. Three parts of
    Rasa 3.6 would write text past it (each verified): `rasa.utils.io.
    configure_colored_logging` replaces any stdout/stderr handler of the root logger with
    coloredlogs'; Sanic 21 gives its loggers console handlers of their own when Rasa
    builds its API app; and Rasa's `update_sanic_log_level` then cuts Sanic's loggers off
    from the root logger (their errors would reach stderr as bare text). All three are
    switched off; their records reach the configured root handler."""
    with open(path, encoding="utf-8") as config_file:
        logging.config.dictConfig(yaml.safe_load(config_file))
    logging.captureWarnings(True)

    import rasa.utils.common
    import rasa.utils.io
    from sanic.log import LOGGING_CONFIG_DEFAULTS

    rasa.utils.io.configure_colored_logging = lambda loglevel: None
    for logger_config in LOGGING_CONFIG_DEFAULTS["loggers"].values():
        logger_config["handlers"] = []
        logger_config["propagate"] = True
    update_sanic_log_level = rasa.utils.common.update_sanic_log_level

    def sanic_levels_only(*args: Any, **kwargs: Any) -> None:
        update_sanic_log_level(*args, **kwargs)
        for name in ("sanic.root", "sanic.error", "sanic.access"):
            logging.getLogger(name).propagate = True

    rasa.utils.common.update_sanic_log_level = sanic_levels_only


def main() -> None:
    # Rasa's tracker store and anything else it writes: for our user only (it holds
    # conversations). The launcher gives the same umask; this covers a hand-started Rasa.
    os.umask(0o077)
    token = os.environ.get("ASSISTANT_RASA_AUTH_TOKEN", "")
    if not token:
        sys.exit("error: ASSISTANT_RASA_AUTH_TOKEN is not set (the launcher sets it: `make run`)")
    logging_config = _logging_config_file(sys.argv[1:])
    if logging_config is not None:
        _keep_configured_logging(logging_config)
    from rasa.__main__ import main as rasa_main

    # "=" form: a generated token may start with "-", which argparse would read as an option.
    sys.argv = ["rasa", *sys.argv[1:], f"--auth-token={token}"]
    rasa_main()


if __name__ == "__main__":
    main()
