"""Notices over HTTP, and their wiring into the gateway.

    GET  /api/notices?language=ko                  the notices in force, in that language
    GET  /api/supervisor/notices                   active and scheduled ones, both sources,
                                                   and the topics a notice may name
    POST /api/supervisor/notices                   post one (request_models.NewNotice)
    POST /api/supervisor/notices/{notice_id}/end   end it now

The supervisor routes: no session is 401, an agent's session 403. A notice from
data/notices.yml cannot be ended here (409): the file is its source, and a restart would
bring it back; its ends_at is changed there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web

from handoff.agent.api import signed_in_agent
from handoff.conversation.models import Agent
from handoff.helpcentre.catalog import HelpCatalog, read_kb
from handoff.notices.board import NOTICE_BOARD, NoticeBoard
from handoff.notices.lines import NoticeLines
from handoff.notices.loader import ID_PATTERN, NoticesError, load_notices
from handoff.notices.model import LANGUAGES, Notice, instant
from handoff.notices.topics import known_topics
from handoff.web.http import json_error, read_model
from handoff.web.request_models import NewNotice, NoticesQuery, parse, query_dict
from handoff.web.state import SERVICE, SETTINGS
from kb_index.articles import KBError, kb_files

log = logging.getLogger(__name__)

routes = web.RouteTableDef()


@routes.get("/api/notices")
async def customer_notices(request: web.Request) -> web.Response:
    query = parse(NoticesQuery, query_dict(request.query))
    active = request.app[NOTICE_BOARD].active()
    return web.json_response(
        {"language": query.language, "notices": [n.for_customer(query.language) for n in active]}
    )


async def _supervisor(request: web.Request) -> Agent | web.Response:
    person = await signed_in_agent(request)
    if not person.is_supervisor:
        return json_error(403, "supervisors_only", "only a supervisor can manage notices")
    return person


@routes.get("/api/supervisor/notices")
async def list_notices(request: web.Request) -> web.Response:
    person = await _supervisor(request)
    if isinstance(person, web.Response):
        return person
    board = request.app[NOTICE_BOARD]
    now = board.clock()
    return web.json_response(
        {
            "notices": [n.for_supervisor(now) for n in await board.upcoming()],
            "topics": sorted(await board.topics()),
        }
    )


@routes.post("/api/supervisor/notices")
async def post_notice(request: web.Request) -> web.Response:
    person = await _supervisor(request)
    if isinstance(person, web.Response):
        return person
    body = await read_model(request, NewNotice)  # 400 naming the field; 413 if large
    board = request.app[NOTICE_BOARD]
    now = board.clock()
    starts_at = instant(datetime.fromisoformat(body.starts_at)) if body.starts_at else now
    ends_at = instant(datetime.fromisoformat(body.ends_at)) if body.ends_at else None
    if ends_at is not None and ends_at <= now:
        return json_error(400, "ends_in_the_past", "'ends_at' is past: it would never be shown")
    known = await board.topics()
    if unknown := sorted(set(body.topics) - known):
        return json_error(
            400,
            "unknown_topic",
            f"'topics': {', '.join(t[:64] for t in unknown)} is no KB tag or category; "
            f"known topics: {', '.join(sorted(known))}",
        )
    texts = body.text.model_dump()
    notice = Notice(
        id=f"n-{secrets.token_hex(6)}",
        texts={language: str(texts[language]).strip() for language in LANGUAGES},
        starts_at=starts_at,
        ends_at=ends_at,
        topics=tuple(dict.fromkeys(body.topics)),
        severity=body.severity,
        created_by=person.username,
    )
    stored = await board.handoffs.add_notice(notice)
    log.info(
        "notice %s posted by %s: %s from %s to %s, topics %s",
        stored.id,
        person.username,
        stored.severity,
        stored.starts_at,
        stored.ends_at or "until ended",
        list(stored.topics) or "all",
    )
    await board.refresh()  # this replica's customers at once; the others on their tick
    return web.json_response(stored.for_supervisor(board.clock()), status=201)


@routes.post("/api/supervisor/notices/{notice_id}/end")
async def end_notice(request: web.Request) -> web.Response:
    person = await _supervisor(request)
    if isinstance(person, web.Response):
        return person
    board = request.app[NOTICE_BOARD]
    notice_id = request.match_info["notice_id"]
    if any(n.id == notice_id for n in board.scheduled):
        return json_error(
            409,
            "scheduled_in_file",
            "this notice is scheduled in data/notices.yml: change its ends_at there",
        )
    ended = None
    if ID_PATTERN.fullmatch(notice_id):  # anything else is no id of ours
        ended = await board.handoffs.end_notice(notice_id, person.username, board.clock())
    if ended is None:
        return json_error(404, "not_found", "there is no notice with this id")
    log.info("notice %s ended by %s", ended.id, person.username)
    await board.refresh()
    return web.json_response(ended.for_supervisor(board.clock()))


def _scheduled(app: web.Application) -> tuple[Notice, ...]:
    """data/notices.yml, checked against the KB's topics: NoticesError if either is broken."""
    settings = app[SETTINGS]
    try:
        topics = known_topics(read_kb(kb_files(settings.kb_dir)))
    except (KBError, OSError) as exc:
        raise NoticesError(f"{settings.notices_path}: cannot check its topics: {exc}") from exc
    return load_notices(settings.notices_path, topics)


def _board_context(
    scheduled: tuple[Notice, ...],
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def board_context(app: web.Application) -> AsyncIterator[None]:
        """After the service's start-up: the board reads the service's store, and the
        relay says the notices with the bot's replies."""
        service = app[SERVICE]
        board = NoticeBoard(scheduled, service.handoff.handoffs, HelpCatalog(app[SETTINGS].kb_dir))
        await board.refresh()
        app[NOTICE_BOARD] = board
        service.relay.add_lines = NoticeLines(board, service.store, service.relay.rasa)
        ticker = asyncio.create_task(board.run())
        yield
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        service.relay.add_lines = None

    return board_context


def setup_notice_routes(app: web.Application) -> None:
    """Raises NoticesError when data/notices.yml is broken (the gateway does not start)."""
    app.cleanup_ctx.append(_board_context(_scheduled(app)))
    app.add_routes(routes)
