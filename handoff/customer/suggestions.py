"""Suggestions while a customer types (issue 14): up to three help-centre articles that
match the words in the widget's box, under it, before anything is sent.

    GET /api/suggestions?q=배송비&language=ko
        {"suggestions": [{"article_id": "shipping_cost", "title": "배송비 얼마예요?",
                          "payload": "/choose_article{\"kb_article\": \"shipping_cost\",
                                      \"language\": \"ko\"}"}]}

Only the full-text half of the help centre's search (handoff/helpcentre/fulltext.py):
it runs in this process in well under a millisecond, where a search by meaning would
cost the action server an embedding per keystroke. The widget asks from the second
character, debounced; picking a suggestion sends the bot the article's choice (the
`/choose_article` payload of a clarify button), so the answer comes from the bot and
counts as self-service like any other (the widget sends `payload` with the title as text).

Public, as the help centre is (the KB is no secret); limited per client address
(`searches_per_address_per_minute`, shared with the help centre's search by meaning).
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from handoff.helpcentre.catalog import HelpCatalog, KnowledgeBase
from handoff.helpcentre.fulltext import Match, pieces
from handoff.helpcentre.routes import HELP_CENTRE, clean_query
from handoff.web.http import client_address, too_many_requests, wait_per_address
from handoff.web.request_models import SuggestionsQuery, parse, query_dict
from handoff.web.state import LIMITS

MAX_SUGGESTIONS = 3
# The bot's "this article" message, as its clarify buttons send it (actions/faq.py: the
# choose_article intent with the kb_article entity), with the language entity too: a
# payload skips the bot's language detection, and a suggestion may be the first message.
CHOOSE_ARTICLE = '/choose_article{{"kb_article": {}, "language": {}}}'
# Fewer characters than this suggest nothing (one character matches half the KB).
MIN_CHARS = 2

routes = web.RouteTableDef()


def choose_article_payload(article_id: str, language: str) -> str:
    """What the widget sends the bot when the customer picks `article_id`."""
    return CHOOSE_ARTICLE.format(json.dumps(article_id, ensure_ascii=False), json.dumps(language))


def _search(catalog: HelpCatalog, text: str) -> tuple[KnowledgeBase, list[Match]]:
    kb = catalog.current()
    return kb, kb.fulltext.search(text, MAX_SUGGESTIONS)


@routes.get("/api/suggestions")
async def suggestions(request: web.Request) -> web.Response:
    key = f"suggest:{client_address(request)}"
    if wait := await wait_per_address(request, request.app[LIMITS].searches, key):
        return too_many_requests(wait, "too many searches from this address")
    query = parse(SuggestionsQuery, query_dict(request.query))
    text, _ = clean_query(query.q)
    if len(text) < MIN_CHARS or not pieces(text):
        return web.json_response({"suggestions": []})
    # One hop to a thread for both: the catalog stats the KB's files, the search is CPU.
    kb, matches = await asyncio.to_thread(_search, request.app[HELP_CENTRE].catalog, text)
    found = [
        {
            "article_id": m.article_id,
            "title": kb.articles[m.article_id].title_in(query.language),
            "payload": choose_article_payload(m.article_id, query.language),
        }
        for m in matches
        if m.article_id in kb.articles
    ]
    return web.json_response({"suggestions": found})


def setup_suggestion_routes(app: web.Application) -> None:
    app.add_routes(routes)
