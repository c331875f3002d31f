"""The widget's list of popular questions: what it offers a customer who opens it.

    GET /api/popular?language=ja
        {"language": "ja", "questions": [{"article_id": "order_tracking",
          "title": "注文はどこにありますか", "payload": "/choose_article{…}",
          "source": "usage"}, …]}

Up to three articles: those the bot answered most in that language over the last
USAGE_DAYS (analytics.most_answered: confident answers and customers' picks), each at
least MIN_ANSWERS times so that a handful of chats does not decide; the designers' list
(data/popular_questions.yml, `popular_questions_path`) fills the rest, and is all there is
on a new install. Articles no longer in the KB are left out. Picking one is a suggestion
picked (suggestions.py): the article's choice goes to the bot.

The usage half is one indexed query, cached per language for CACHE_SECONDS per gateway:
every customer who opens the widget asks for the list.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from aiohttp import web

from handoff.agent import analytics
from handoff.agent.analytics_api import ANALYTICS_FETCH
from handoff.customer.suggestions import choose_article_payload
from handoff.helpcentre.routes import HELP_CENTRE
from handoff.store.errors import STORE_UNAVAILABLE
from handoff.web.request_models import PopularQuery, parse, query_dict
from handoff.web.state import SETTINGS

log = logging.getLogger(__name__)

MAX_QUESTIONS = 3
USAGE_DAYS = 30
MIN_ANSWERS = 5
CACHE_SECONDS = 600.0
LANGUAGES = ("ko", "ja", "en")


class PopularFileError(ValueError):
    """data/popular_questions.yml cannot be used; says where and why."""


def read_designer_list(path: Path) -> dict[str, list[str]]:
    """Article ids per language from the designers' file; {} when there is none."""
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PopularFileError(f"{path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise PopularFileError(f"{path}: expected languages (ko, ja, en) with article ids")
    lists: dict[str, list[str]] = {}
    for language, ids in raw.items():
        if language not in LANGUAGES:
            raise PopularFileError(f"{path}: {language!r} is not one of {', '.join(LANGUAGES)}")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise PopularFileError(f"{path}: {language}: expected a list of article ids")
        lists[language] = list(dict.fromkeys(ids))
    return lists


def pick(
    used: list[tuple[str, int]], designed: list[str], known: set[str], limit: int
) -> list[tuple[str, str]]:
    """(article id, source) best first: usage counted often enough, then the designers'."""
    chosen: list[tuple[str, str]] = []
    for article_id, answered in used:
        if answered >= MIN_ANSWERS and article_id in known:
            chosen.append((article_id, "usage"))
    for article_id in designed:
        if article_id in known and article_id not in {a for a, _ in chosen}:
            chosen.append((article_id, "designer"))
    return chosen[:limit]


@dataclass
class _Cached:
    at: float
    used: list[tuple[str, int]]


class PopularQuestions:
    def __init__(self, designer_path: Path) -> None:
        self._designer_path = designer_path
        self._cache: dict[str, _Cached] = {}
        self._warned: set[str] = set()  # ids of the designers' list not in the KB, told once

    async def usage(self, fetch: analytics.Fetch, language: str) -> list[tuple[str, int]]:
        cached = self._cache.get(language)
        if cached is not None and time.monotonic() - cached.at < CACHE_SECONDS:
            return cached.used
        since = (datetime.now(UTC) - timedelta(days=USAGE_DAYS)).date().isoformat()
        used = await analytics.most_answered(fetch, language, since, 2 * MAX_QUESTIONS)
        self._cache[language] = _Cached(time.monotonic(), used)
        return used

    async def designed(self, language: str, known: set[str]) -> list[str]:
        """The designers' list for `language`, as far as the KB has those articles."""
        try:
            lists = await asyncio.to_thread(read_designer_list, self._designer_path)
        except PopularFileError as exc:
            log.error("popular questions: the designers' list is ignored: %s", exc)
            return []
        ids = lists.get(language, [])
        for article_id in set(ids) - known - self._warned:
            self._warned.add(article_id)
            log.warning(
                "popular questions: %s names %r, which is not in the KB; left out",
                self._designer_path,
                article_id,
            )
        return [i for i in ids if i in known]


POPULAR = web.AppKey("popular_questions", PopularQuestions)
routes = web.RouteTableDef()


@routes.get("/api/popular")
async def popular(request: web.Request) -> web.Response:
    query = parse(PopularQuery, query_dict(request.query))
    source = request.app[POPULAR]
    try:  # on the reports' read connections (or PostgreSQL pool)
        used = await source.usage(request.app[ANALYTICS_FETCH], query.language)
    except STORE_UNAVAILABLE as exc:  # the designers' list still stands
        log.warning("popular questions without usage: the store is unavailable (%s)", exc)
        used = []
    kb = await asyncio.to_thread(request.app[HELP_CENTRE].catalog.current)
    known = set(kb.articles)
    chosen = pick(used, await source.designed(query.language, known), known, MAX_QUESTIONS)
    questions = [
        {
            "article_id": article_id,
            "title": kb.articles[article_id].title_in(query.language),
            "payload": choose_article_payload(article_id, query.language),
            "source": origin,
        }
        for article_id, origin in chosen
    ]
    return web.json_response({"language": query.language, "questions": questions})


async def _popular(app: web.Application) -> AsyncIterator[None]:
    app[POPULAR] = PopularQuestions(app[SETTINGS].popular_questions_path)
    yield


def setup_popular_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(_popular)
    app.add_routes(routes)
