"""The gateway, and the command line for agents.

python -m handoff                       run the gateway (settings from ASSISTANT_* variables)
python -m handoff agents add NAME [--languages ko,ja,en] [--skills billing]
                                  [--capacity 3] [--display-name "Mina"]
                                  [--role agent|supervisor]
    password from $AGENT_PASSWORD, else asked for (hidden); re-adding updates the agent
python -m handoff agents list
python -m handoff agents unlock NAME     lift a sign-in lockout (too many failed sign-ins)
python -m handoff texts check            check data/gateway_texts.yml and data/helpcentre_texts.yml
                                         (every text in ko/ja/en)
python -m handoff sign-identity --id ID [--email E] [--name N] [--ttl 3600]
    a host-signed customer identity for POST /api/conversations ($ASSISTANT_IDENTITY_SECRET)
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys

from aiohttp import web

from common.jsonlog import make_handler
from common.pii import install_log_redaction
from handoff.conversation.models import MAX_MESSAGE_CHARS, ROLES
from handoff.customer.identity import sign_identity_cli
from handoff.customer.texts import TextsError, load_texts
from handoff.helpcentre.texts import load_help_texts
from handoff.notices.demo import ensure_demo_notice
from handoff.notices.loader import NoticesError
from handoff.store.backends import open_stores
from handoff.store.migrations import MigrationError
from handoff.web.app import create_app
from handoff.web.guard import quiet_malformed_requests
from stack.settings import PRIVATE_UMASK, Settings

LANGUAGES = ("ko", "ja", "en")


def serve() -> int:
    settings = Settings.from_env()
    try:
        handler = make_handler(settings.log_format, "gateway")
    except ValueError as exc:
        print(f"error: ASSISTANT_LOG_FORMAT: {exc}", file=sys.stderr)
        return 2
    # JSON lines with the conversation id by default (common/jsonlog.py).
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.captureWarnings(True)  # a library's warning is a line of the log too
    install_log_redaction()  # no contact details, cards or ids in the gateway's log
    quiet_malformed_requests()  # a client's broken HTTP is a warning, not a traceback
    if not 1 <= settings.max_message_chars <= MAX_MESSAGE_CHARS:
        # The request models and the API document refuse longer messages whatever the
        # setting says: a higher value would be silently ignored.
        print(
            f"error: the gateway cannot start: ASSISTANT_MAX_MESSAGE_CHARS is "
            f"{settings.max_message_chars}; it may lower the API's limit of "
            f"{MAX_MESSAGE_CHARS} characters, not raise it (1 to {MAX_MESSAGE_CHARS})",
            file=sys.stderr,
        )
        return 2
    try:
        app = create_app(settings)
    except (TextsError, NoticesError) as exc:
        print(f"error: the gateway cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.gateway_port,
            access_log=None,
            print=None,
        )
    except MigrationError as exc:  # the store's schema could not be brought up to date
        print(f"error: the gateway cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


def check_texts() -> int:
    """The designers' check of the gateway's and the help centre's texts files."""
    settings = Settings.from_env()
    failed = False
    for path, load in (
        (settings.gateway_texts_path, load_texts),
        (settings.helpcentre_texts_path, load_help_texts),
    ):
        try:
            load(path)
        except TextsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed = True
        else:
            print(f"{path}: every text in ko, ja and en, placeholders consistent")
    return 1 if failed else 0


async def _demo_notice() -> int:
    """`make run`'s notice (handoff/notices/demo.py): prints its id."""
    store, handoffs = await open_stores(Settings.from_env())
    try:
        notice = await ensure_demo_notice(handoffs)
    finally:
        await store.close()
    print(notice.id)
    return 0


async def _agents(args: argparse.Namespace) -> int:
    store, agents = await open_stores(Settings.from_env())
    try:
        if args.action == "list":
            for agent in await agents.agents():
                print(
                    f"{agent.username:16} {','.join(agent.languages):10} "
                    f"{','.join(agent.skills) or '-':16} capacity {agent.capacity}  "
                    f"{agent.role:10} {agent.availability}"
                )
            for username, since in (await agents.login_lockouts()).items():
                print(f"sign-in locked since {since}: {username} (agents unlock {username})")
            return 0
        if args.action == "unlock":
            if await agents.unlock_login(args.username):
                print(f"{args.username} unlocked: it can sign in again")
            else:
                print(f"{args.username} was not locked")
            return 0
        languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
        unknown = [lang for lang in languages if lang not in LANGUAGES]
        if unknown or not languages:
            print(f"error: --languages takes a list of {', '.join(LANGUAGES)}", file=sys.stderr)
            return 2
        password = os.environ.get("AGENT_PASSWORD") or getpass.getpass("password: ")
        if len(password) < 8:
            print("error: the password needs at least 8 characters", file=sys.stderr)
            return 2
        skills = [skill.strip() for skill in args.skills.split(",") if skill.strip()]
        agent = await agents.upsert_agent(
            args.username,
            password,
            languages,
            skills,
            args.capacity,
            args.display_name,
            role=args.role,
        )
        print(
            f"{agent.role} {agent.username} ready: {','.join(agent.languages)},"
            f" capacity {agent.capacity}"
        )
        return 0
    finally:
        await store.close()
        agents.hasher.close()


def main(argv: list[str]) -> int:
    os.umask(PRIVATE_UMASK)  # the database, its journal and anything else we write: ours alone
    if not argv:
        return serve()
    if argv == ["texts", "check"]:
        return check_texts()
    if argv[:1] == ["sign-identity"]:
        return sign_identity_cli(argv[1:])
    if argv == ["notices", "demo"]:
        return asyncio.run(_demo_notice())
    parser = argparse.ArgumentParser(
        prog="python -m handoff", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="group", required=True)
    agents = sub.add_parser("agents").add_subparsers(dest="action", required=True)
    add = agents.add_parser("add", help="create or update an agent")
    add.add_argument("username")
    add.add_argument("--languages", default="ko,ja,en")
    add.add_argument("--skills", default="")
    add.add_argument("--capacity", type=int, default=3)
    add.add_argument("--display-name", default="")
    add.add_argument(
        "--role",
        choices=ROLES,
        default="agent",
        help="supervisor: also sees analytics (/agent/analytics)",
    )
    agents.add_parser("list", help="list agents")
    unlock = agents.add_parser("unlock", help="lift a sign-in lockout")
    unlock.add_argument("username")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_agents(args))
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
