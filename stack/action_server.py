"""rasa-sdk's action server, refusing every request that lacks the stack's shared secret.

rasa-sdk's `/webhook` runs any action on whatever tracker it is sent and has no
authentication: any local process, or a web page open in a local browser (a text/plain
POST needs no CORS preflight), could run actions for any conversation. This entry point
builds rasa-sdk's own Sanic app and puts one request middleware in front of it:

- every route except `/health` needs `Authorization: Bearer <secret>`; anything else is
  a 401 with a JSON body. A request that carries a *wrong* secret is refused on `/health`
  too, so the gateway's readiness check notices a secret mismatch;
- no cross-origin requests are allowed unless `--cors` says so (rasa-sdk's default is
  any origin).

Rasa sends the header (the launcher writes it into Rasa's `action_endpoint` as a
`headers:` entry referring to the environment variable); the gateway sends it for agent
suggestions and its readiness check. A header, not Rasa's `token:` query parameter:
URLs end up in access logs. The secret comes from the environment
(ASSISTANT_ACTION_AUTH_TOKEN), never the command line, which `ps` shows to every user.

    python -m stack.action_server --actions actions --port 5055

rasa-sdk runs Sanic with the "spawn" start method and the app is rebuilt in a worker
process: this module does nothing at import time but import, and the worker reads the
secret from its (inherited) environment.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import sys
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME, DEFAULT_KEEP_ALIVE_TIMEOUT
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser, create_ssl_config
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

from common.jsonlog import CONVERSATION_ID, make_handler
from common.pii import RedactingFilter
from stack.settings import Settings

TOKEN_VARIABLE = "ASSISTANT_ACTION_AUTH_TOKEN"
# Liveness only: it says nothing and runs nothing.
OPEN_PATHS = frozenset({"/health"})
_EXPECTED = "expected_authorization"
# What Sanic's worker manager raises when its multiprocessing state server (a process of
# the same group) was stopped by the same signal a moment before the manager itself.
_MANAGER_GONE = (BrokenPipeError, ConnectionResetError, EOFError)

logger = logging.getLogger(__name__)


def bearer(token: str) -> str:
    """The `Authorization` header value for `token`."""
    return f"Bearer {token}"


def _refusal(message: str) -> HTTPResponse:
    return response.json(
        {"error": {"code": "unauthorized", "message": message}},
        status=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _require_secret(request: Request) -> HTTPResponse | None:
    expected: bytes = getattr(request.app.ctx, _EXPECTED)
    given = request.headers.get("Authorization")
    if given is None:
        if request.path in OPEN_PATHS:
            return None
        return _refusal("this server answers Rasa and the gateway only")
    if not hmac.compare_digest(given.encode("utf-8", "replace"), expected):
        return _refusal("wrong action server secret")
    return None


def configure_logging(level: int | str = logging.INFO) -> None:
    """Every record of this process (rasa-sdk's, Sanic's, ours) to stderr in the stack's
    format (ASSISTANT_LOG_FORMAT: JSON lines with the conversation id by default),
    redacted. Sanic's worker is a spawned process that inherits no logging set-up, so
    the app factory calls this there too; rasa-sdk's coloured text is not used."""
    handler = make_handler(Settings.from_env().log_format, "actions")
    handler.addFilter(RedactingFilter())  # an action's query may hold contact details
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.captureWarnings(True)  # rasa-sdk's version warnings: lines of the log too


def _sender_id(request: Request) -> str | None:
    """`tracker.sender_id` of a /webhook call: Rasa's sender id, which is the gateway's
    conversation id (handoff/conversation/bot_relay.py sends each message as its conversation)."""
    if request.path != "/webhook":
        return None
    try:
        if request.headers.get("Content-Encoding") == "deflate":
            body = json.loads(zlib.decompress(request.body))
        else:
            body = request.json  # parsed once: rasa-sdk's handler gets the same object
    except Exception:  # rasa-sdk's handler answers a bad body
        return None
    tracker = body.get("tracker") if isinstance(body, dict) else None
    sender = tracker.get("sender_id") if isinstance(tracker, dict) else None
    return sender if isinstance(sender, str) and sender else None


async def _note_conversation(request: Request) -> None:
    """What is logged while an action runs for a conversation carries its id. Sanic
    handles a connection's requests one after another in one task, so each request
    sets it (to None for one about no conversation)."""
    CONVERSATION_ID.set(_sender_id(request))


def secured_app(
    action_executor: ActionExecutor,
    cors_origins: str | list[str] = "",
    auto_reload: bool = False,
    endpoints: str = "endpoints.yml",
    keep_alive_timeout: int = DEFAULT_KEEP_ALIVE_TIMEOUT,
) -> Sanic[Any, Any]:
    """rasa-sdk's app with the secret check first. Runs in the primary process and in
    each worker (Sanic's AppLoader), so it must stay a module-level function."""
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        raise RuntimeError(f"{TOKEN_VARIABLE} is not set: the action server needs its secret")
    configure_logging()
    app: Sanic[Any, Any] = create_app_for_serve(
        action_executor,
        cors_origins=cors_origins,  # default: no web page may call the action server
        auto_reload=auto_reload,
        endpoints=endpoints,
        keep_alive_timeout=keep_alive_timeout,
    )
    setattr(app.ctx, _EXPECTED, bearer(token).encode())
    # Ahead of rasa-sdk's CORS middleware (priority 0), which answers every OPTIONS.
    registrar: Any = app  # Sanic's middleware decorators are loosely typed
    registrar.on_request(_require_secret, priority=100)
    # After the secret check: an unauthorized body is never parsed.
    registrar.on_request(_note_conversation, priority=90)
    return app


def serve(action_executor: ActionExecutor, args: Any) -> int:
    """rasa_sdk.endpoint.run with our app factory; the exit status."""
    loader = AppLoader(
        factory=partial(
            secured_app,
            action_executor,
            cors_origins=args.cors or "",
            auto_reload=bool(args.auto_reload),
            endpoints=str(args.endpoints),
        )
    )
    app = loader.load()
    ssl_config = create_ssl_config(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = os.environ.get("SANIC_HOST", "0.0.0.0")
    logger.info("action server on %s:%s (secret required)", host, args.port)
    app.prepare(host=host, port=args.port, ssl=ssl_config, workers=utils.number_of_sanic_workers())
    return run_until_stopped(partial(Sanic.serve, primary=app, app_loader=loader))


def run_until_stopped(serve_forever: Callable[[], None]) -> int:
    """Run the server; 0 when it stops, 1 when its worker manager broke off.

    A stop signal reaches every process of the group at once (supervisord stops the
    program as a group). Now and then Sanic's state server dies first and the manager's
    next look at it raises a broken pipe: the server is stopping either way, so that is
    one line in the log, not a traceback."""
    try:
        serve_forever()
    except _MANAGER_GONE as exc:
        logger.warning(
            "action server stopped: Sanic's worker manager lost its state process (%s), "
            "as happens when a stop signal reaches that process first",
            type(exc).__name__,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = create_argument_parser().parse_args(argv)
    if not os.environ.get(TOKEN_VARIABLE):
        print(
            f"error: {TOKEN_VARIABLE} is not set (the launcher sets it: `make run`)",
            file=sys.stderr,
        )
        return 2
    if args.grpc:
        print("error: the gRPC server has no secret check; use HTTP", file=sys.stderr)
        return 2
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    try:
        configure_logging(args.loglevel or logging.INFO)
    except ValueError as exc:
        print(f"error: ASSISTANT_LOG_FORMAT: {exc}", file=sys.stderr)
        return 2
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions)
    return serve(executor, args)


if __name__ == "__main__":
    # Through the imported module, not this `__main__` copy: Sanic pickles the app
    # factory for its spawned worker, which must find it as stack.action_server.
    from stack import action_server

    sys.exit(action_server.main())
