"""The help centre's routes:

    GET  /help                                home: every category with its articles
    GET  /help?q=...                          search results (trimmed to MAX_QUERY_CHARS)
    GET  /help/articles/{article_id}          one article; 404 page when there is none
    POST /help/articles/{article_id}/feedback "was this helpful?" (a form: token, verdict,
                                              lang); 303 back to the article

Every page takes `?lang=ko|ja|en`, else the best of Accept-Language, else English. Pages
are HTML (pages.py); a refused vote is a JSON error like the rest of the gateway's API.
File and CPU work (the KB's mtime check and reload, full-text matching) runs in a thread;
the semantic half of a search is an HTTP call to the action server, made side by side.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import hdrs, web

from common.language import SUPPORTED_LANGUAGES
from handoff.helpcentre import pages
from handoff.helpcentre.catalog import HelpCatalog, KnowledgeBase
from handoff.helpcentre.feedback import VERDICTS, FeedbackTokens, InvalidToken, token_key
from handoff.helpcentre.language import page_language
from handoff.helpcentre.search import MAX_RESULTS, merge
from handoff.helpcentre.semantic import SemanticResults, SemanticSearch, SemanticUnavailable
from handoff.helpcentre.texts import HelpTexts, help_texts
from handoff.web.guard import WEB_GUARD
from handoff.web.http import client_address, json_error, too_many_requests, wait_per_address
from handoff.web.request_models import MAX_SEARCH_CHARS
from handoff.web.state import LIMITS, METRICS, SERVICE, SETTINGS

log = logging.getLogger(__name__)

# Longer searches are trimmed to this many characters (the page says so), not refused:
# someone pasting a whole message still gets results for its start.
MAX_QUERY_CHARS = MAX_SEARCH_CHARS
# How long a results page waits for the action server before showing full-text results
# alone (at most the gateway's wait for Rasa).
SEMANTIC_TIMEOUT_SECONDS = 8.0
FORM_FIELDS = frozenset({"token", "verdict", "lang"})
# Lone surrogates and control characters (NUL included) are no text a reader typed.
_NOT_TEXT = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class HelpCentre:
    catalog: HelpCatalog
    semantic: SemanticSearch
    tokens: FeedbackTokens


HELP_CENTRE = web.AppKey("help_centre", HelpCentre)
HELP_TEXTS = web.AppKey("help_texts", HelpTexts)
routes = web.RouteTableDef()


def clean_query(raw: str) -> tuple[str, bool]:
    """The search as text (no surrogates or control characters, spaces collapsed), and
    whether it was trimmed to MAX_QUERY_CHARS."""
    text = " ".join(_NOT_TEXT.sub(" ", raw).split())
    if len(text) > MAX_QUERY_CHARS:
        return text[:MAX_QUERY_CHARS].rstrip(), True
    return text, False


def _language(request: web.Request) -> str:
    return page_language(request.query, request.headers.get(hdrs.ACCEPT_LANGUAGE))


def _html(body: str, language: str, *, status: int = 200, private: bool = False) -> web.Response:
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    response.headers[hdrs.CONTENT_LANGUAGE] = language
    # The language may come from Accept-Language; an article page holds a vote token of
    # its own, which no cache may hand to a second reader.
    response.headers[hdrs.VARY] = "Accept-Language"
    response.headers[hdrs.CACHE_CONTROL] = "private, no-store" if private else "no-cache"
    return response


async def _kb(request: web.Request) -> KnowledgeBase:
    return await asyncio.to_thread(request.app[HELP_CENTRE].catalog.current)


@routes.get("/help")
async def home_or_search(request: web.Request) -> web.Response:
    language = _language(request)
    kb = await _kb(request)
    query, shortened = clean_query(request.query.get("q", ""))
    if not query:
        return _html(pages.home_page(kb, request.app[HELP_TEXTS], language), language)
    semantic, fulltext = await asyncio.gather(
        _semantic(request, query), asyncio.to_thread(kb.fulltext.search, query, MAX_RESULTS)
    )
    results = merge(semantic, fulltext, set(kb.articles))
    body = pages.results_page(
        kb,
        request.app[HELP_TEXTS],
        language,
        query,
        results,
        semantic_available=semantic is not None,
        shortened_to=MAX_QUERY_CHARS if shortened else None,
    )
    return _html(body, language)


async def _semantic(request: web.Request, query: str) -> SemanticResults | None:
    """The action server's ranking, or None (the page then says search by meaning is
    unavailable): it is down or slow, or this address searches faster than a person.
    Each search costs the action server an embedding, time the bot's customers share, so
    they count against the per-address limit of searches."""
    key = f"help-search:{client_address(request)}"
    if await wait_per_address(request, request.app[LIMITS].searches, key):
        return None
    try:
        return await request.app[HELP_CENTRE].semantic.search(query, MAX_RESULTS)
    except SemanticUnavailable as exc:
        log.warning("help centre: full-text results only: %s", exc)
        request.app[METRICS].errors.labels("help_search_unavailable").inc()
        return None


@routes.get("/help/")
async def home_with_slash(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently(
        location="/help" + (f"?{request.query_string}" if request.query_string else "")
    )


@routes.get("/help/articles/{article_id}")
async def article(request: web.Request) -> web.Response:
    language = _language(request)
    kb = await _kb(request)
    found = kb.articles.get(request.match_info["article_id"])
    if found is None:
        return _html(pages.not_found_page(request.app[HELP_TEXTS], language), language, status=404)
    token = request.app[HELP_CENTRE].tokens.issue(found.id)
    voted = request.query.get("voted") == "1"
    return _html(
        pages.article_page(kb, request.app[HELP_TEXTS], found, language, token=token, voted=voted),
        language,
        private=True,
    )


@routes.post("/help/articles/{article_id}/feedback")
async def feedback(request: web.Request) -> web.StreamResponse:
    """One vote: recorded once per page (its token), then back to the article."""
    if _foreign_origin(request):
        return json_error(403, "forbidden_origin", "votes come from the help centre's own pages")
    form = await _read_form(request)
    if isinstance(form, web.Response):
        return form
    kb = await _kb(request)
    found = kb.articles.get(request.match_info["article_id"])
    if found is None:
        return json_error(404, "not_found", "there is no such article")
    verdict = form.get("verdict", "")
    if verdict not in VERDICTS:
        return json_error(400, "bad_request", f"'verdict' must be one of {', '.join(VERDICTS)}")
    language = form.get("lang", "")
    if language not in SUPPORTED_LANGUAGES:
        return json_error(
            400, "bad_request", f"'lang' must be one of {', '.join(SUPPORTED_LANGUAGES)}"
        )
    try:
        key = request.app[HELP_CENTRE].tokens.check(form.get("token", ""), found.id)
    except InvalidToken as exc:
        return json_error(400, "bad_token", str(exc))
    limiter = request.app[LIMITS].conversations
    if wait := await wait_per_address(request, limiter, f"help-feedback:{client_address(request)}"):
        return too_many_requests(wait, "too many votes from this address: slow down")
    await request.app[SERVICE].store.add_article_feedback(key, found.id, verdict, language)
    location = f"{pages.article_path(found.id)}?lang={language}&voted=1#feedback"
    raise web.HTTPSeeOther(location=location)


def _foreign_origin(request: web.Request) -> bool:
    """A browser page of another site posting. Not an own page: a form from a page with
    Referrer-Policy no-referrer (all of ours) says `Origin: null`, so null passes; the
    page's token is what proves where a vote came from."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None or origin == "null":
        return False
    return not request.app[WEB_GUARD].origin_allowed(request)


async def _read_form(request: web.Request) -> dict[str, str] | web.Response:
    """The vote's fields, or the 400 that says what is wrong with them. A body over the
    gateway's limit is refused by aiohttp (413, handoff/web/http.py)."""
    if request.content_type != "application/x-www-form-urlencoded":
        return json_error(
            400, "bad_request", "send the vote as a form (application/x-www-form-urlencoded)"
        )
    raw = await request.read()
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=2 * len(FORM_FIELDS),  # bounded work; extras get their own message
        )
    except (UnicodeDecodeError, ValueError):
        return json_error(
            400, "bad_request", f"the form must be UTF-8 with only {', '.join(sorted(FORM_FIELDS))}"
        )
    form = dict(pairs)
    unknown = {name for name, _ in pairs} - FORM_FIELDS
    if unknown or len(form) != len(pairs):
        return json_error(
            400, "bad_request", f"the form has only {', '.join(sorted(FORM_FIELDS))}, each once"
        )
    return form


async def _help_centre(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with aiohttp.ClientSession() as session:
        app[HELP_CENTRE] = HelpCentre(
            catalog=HelpCatalog(settings.kb_dir),
            semantic=SemanticSearch(
                session,
                settings.action_url,
                settings.action_auth_token,
                min(SEMANTIC_TIMEOUT_SECONDS, settings.rasa_timeout_seconds),
            ),
            # Every replica of one deployment shares the action server's secret.
            tokens=FeedbackTokens(token_key(settings.action_auth_token)),
        )
        yield


def setup_helpcentre_routes(app: web.Application) -> None:
    """The /help routes. Raises TextsError if data/helpcentre_texts.yml is broken: the
    gateway does not start (handoff/__main__.py says why)."""
    app[HELP_TEXTS] = help_texts(app[SETTINGS].helpcentre_texts_path)
    app.cleanup_ctx.append(_help_centre)
    app.add_routes(routes)
