"""Supervisor routes: the analytics page and its API (figures: handoff/agent/analytics.py).

    GET /agent/analytics                       the page (charts, tables, CSV export)
    GET /api/agent/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD&language=ko|ja|en&tz=Asia/Seoul
        every figure with its definition (JSON); `&format=csv&figure=NAME` one figure's
        rows as CSV, from the same builder
    GET /api/agent/live                        now: the queue per team and language (oldest
        wait), every agent (online, open chats, capacity) and every chat with people
        (pushed as it changes: handoff/agent/supervisor_api.py, /api/agent/live/ws)

A supervisor's session token is needed: none (or an expired one) is 401, an agent's
is 403. The queries run on a read-only connection of their own, so a long report never
holds up the connection that stores customers' messages (SQLite WAL: readers do not
block the writer).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from handoff.agent import analytics
from handoff.agent.api import signed_in_agent
from handoff.agent.labels import LABELS, LabelCatalog
from handoff.agent.live_view import open_chats
from handoff.conversation.handoff_service import HandoffService
from handoff.store.postgres import PostgresStore, postgres_fetch
from handoff.web.http import STATIC_DIR, json_error
from handoff.web.request_models import AnalyticsQuery, DayRange, InvalidRequest, parse, query_dict
from handoff.web.state import SERVICE, SETTINGS

ANALYTICS_FETCH: web.AppKey[analytics.Fetch] = web.AppKey("analytics_fetch")
DEFAULT_DAYS = 30

routes = web.RouteTableDef()


@routes.get("/agent/analytics")
async def analytics_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "analytics.html")


@routes.get("/api/agent/analytics")
async def analytics_report(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    if not agent.is_supervisor:
        return json_error(403, "supervisors_only", "analytics are for supervisors")
    try:
        filters, query = analytics_query(request.query)
    except analytics.InvalidRange as exc:
        return json_error(400, "bad_request", str(exc))
    fetch = request.app[ANALYTICS_FETCH]
    if query.format == "csv":
        name = query.figure or ""
        figure = analytics.FIGURES.get(name)
        if figure is None:
            return json_error(
                400, "bad_request", f"'figure' must be one of {', '.join(analytics.FIGURES)}"
            )
        rows = _titled(request, name, await figure(fetch, filters))
        filename = f"{name}_{filters.start}_{filters.end}_{filters.language or 'all'}.csv"
        return web.Response(
            text=analytics.to_csv(rows),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    body = await analytics.report(fetch, filters)
    for name in ("articles", "labels"):
        body["figures"][name] = _titled(request, name, body["figures"][name])
    return web.json_response(body)


def parse_filters(query: Mapping[str, str]) -> analytics.Filters:
    """The report's filters from its query (AnalyticsQuery); InvalidRange says what is
    wrong."""
    return analytics_query(query)[0]


def analytics_query(query: Mapping[str, str]) -> tuple[analytics.Filters, AnalyticsQuery]:
    """`from`, `to` (days in `tz`; default: the last 30 days up to today there),
    `language`, and `tz`: an IANA time zone name whose days the figures are per (default
    UTC, so that a report's link means the same to everyone; the page sends the
    browser's zone); `format` and `figure` for a CSV export. InvalidRange says what is
    wrong: a parameter its model refuses, or a range or zone the figures cannot use."""
    try:
        parsed = parse(AnalyticsQuery, query_dict(query))
    except InvalidRequest as exc:
        raise analytics.InvalidRange(str(exc)) from None
    return filters_for(parsed, parsed.tz or analytics.DEFAULT_TZ), parsed


def filters_for(days: DayRange, tz: str) -> analytics.Filters:
    """The Filters of a parsed range, its defaults filled in as days in `tz`."""
    today = datetime.now(analytics.time_zone(tz)).date()
    end = days.end or today
    start = days.start or end - timedelta(days=DEFAULT_DAYS - 1)
    language = None if days.language in ("", analytics.ALL) else days.language
    return analytics.Filters(start, end, language, tz)


def _titled(request: web.Request, name: str, rows: list[analytics.Row]) -> list[analytics.Row]:
    """Articles get their title (the first English question) beside the id; labels their
    names in ko, ja and en (name_ko, name_ja, name_en: a label no longer on the list, its
    id)."""
    if name == "labels":
        return _named(request.app[LABELS], rows)
    if name != "articles":
        return rows
    catalog = request.app[SERVICE].handoff.catalog
    titles: dict[str, str] = {}
    try:
        known = catalog.index.articles if catalog is not None else {}
    except Exception:  # no index yet: the ids are still informative
        known = {}
    for row in rows:
        article_id = str(row["article_id"])
        if article_id not in titles:
            article = known.get(article_id)
            titles[article_id] = article.title_in("en") if article is not None else article_id
        row["title"] = titles[article_id]
    return rows


def _named(catalog: LabelCatalog, rows: list[analytics.Row]) -> list[analytics.Row]:
    names = {label.id: label.names for label in catalog.labels}
    for row in rows:
        known = names.get(str(row["label"]), {})
        for language in analytics.LANGUAGES:
            row[f"name_{language}"] = known.get(language, row["label"])
    return rows


async def _read_connection(app: web.Application) -> AsyncIterator[None]:
    """SQLite: read-only connections of the reports' own (analytics.SQLiteReaders).
    PostgreSQL: the store's pool (MVCC: a long report holds up no writer)."""
    store = app[SERVICE].store
    if isinstance(store, PostgresStore):
        app[ANALYTICS_FETCH] = postgres_fetch(store.pool)
        yield
        return
    readers = await analytics.SQLiteReaders.open(app[SETTINGS].db_path)
    app[ANALYTICS_FETCH] = readers.fetch
    yield
    await readers.close()


def setup_analytics_routes(app: web.Application) -> None:
    """After the store's start-up context: the database exists when this one opens."""
    app.cleanup_ctx.append(_read_connection)
    app.add_routes(routes)


# The live view lists who takes chats first, then who is busy, away, signed out.
_STATUS_ORDER = {"online": 0, "busy": 1, "away": 2, "offline": 3}


@routes.get("/api/agent/live")
async def live_view(request: web.Request) -> web.Response:
    """Now: the queue per team, language and skill (waiting, oldest wait) and every agent
    (online, open chats, capacity). Read from the service's live state, not the report."""
    agent = await signed_in_agent(request)
    if not agent.is_supervisor:
        return json_error(403, "supervisors_only", "the live view is for supervisors")
    return web.json_response(await live_state(request.app[SERVICE].handoff))


async def live_state(service: HandoffService, now: float | None = None) -> dict[str, Any]:
    """The queue grouped by (team, language, skill) and each agent's availability,
    presence and load."""
    now = time.time() if now is None else now
    await service.refresh_agents()
    snapshot = await service.snapshot()
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for handoff in snapshot.queued:
        team = (
            service.coverage.team_for(handoff.language).name
            if service.coverage is not None
            else "default"
        )
        key = (team, handoff.language, handoff.skill or "")
        group = groups.setdefault(
            key,
            {
                "team": team,
                "language": handoff.language,
                "skill": handoff.skill,
                "waiting": 0,
                "oldest_wait_seconds": 0,
            },
        )
        group["waiting"] += 1
        group["oldest_wait_seconds"] = max(
            group["oldest_wait_seconds"], int(now - handoff.queued_at)
        )
    signed_in = await service.handoffs.signed_in_agents()
    agents = [
        {
            **person.public(),
            # online / away / busy / offline (HandoffService.status_of): auto-away included
            "availability": service.status_of(person, signed_in),
            "online": service.presence.online(person.username),  # here: a console open
            "open_chats": snapshot.load.get(person.username, 0),
        }
        for person in await service.handoffs.agents()
    ]
    return {
        "queue": sorted(groups.values(), key=lambda g: -g["oldest_wait_seconds"]),
        "queued_total": len(snapshot.queued),
        # those who take new chats now
        "agents_online": sum(1 for a in agents if a["availability"] == "online"),
        "agents": sorted(agents, key=lambda a: (_STATUS_ORDER[a["availability"]], a["username"])),
        # each chat with people, to reassign (handoff/agent/supervisor_api.py)
        "chats": open_chats(snapshot.queued, await service.handoffs.assigned(), now),
    }
