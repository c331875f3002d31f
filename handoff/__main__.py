"""The gateway, and the command line for agents.

python -m handoff                       run the gateway (settings from ASSISTANT_* variables)
python -m handoff agents add NAME [--languages ko,ja,en] [--skills billing]
                                  [--capacity 3] [--display-name "Mina"]
    password from $AGENT_PASSWORD, else asked for (hidden); re-adding updates the agent
python -m handoff agents list
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys

from aiohttp import web

from handoff.app import create_app
from handoff.handoff_store import HandoffStore
from handoff.store import SQLiteStore
from stack.settings import Settings

LANGUAGES = ("ko", "ja", "en")


def serve() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings.from_env()
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.gateway_port,
        access_log=None,
        print=None,
    )


async def _agents(args: argparse.Namespace) -> int:
    store = await SQLiteStore.open(Settings.from_env().db_path)
    agents = HandoffStore(store.connection)
    try:
        if args.action == "list":
            for agent in await agents.agents():
                print(
                    f"{agent.username:16} {','.join(agent.languages):10} "
                    f"{','.join(agent.skills) or '-':16} capacity {agent.capacity}"
                )
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
            args.username, password, languages, skills, args.capacity, args.display_name
        )
        print(
            f"agent {agent.username} ready: {','.join(agent.languages)}, capacity {agent.capacity}"
        )
        return 0
    finally:
        await store.close()


def main(argv: list[str]) -> int:
    if not argv:
        serve()
        return 0
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
    agents.add_parser("list", help="list agents")
    return asyncio.run(_agents(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
