"""Conversation search for agents and supervisors (the store's side: handoff/store/search.py).

    GET /api/agent/search?q=TEXT&from=YYYY-MM-DD&to=YYYY-MM-DD&state=STATE
        conversations (and offline tickets) whose messages, customer name/email/id or
        ticket hold TEXT, active in the days, in the state; the most recently active first,
        at most search.MAX_RESULTS, each with a snippet of its newest matching line
    GET /api/agent/conversations/{conversation_id}/transcript
        what a result opens: the conversation's transcript, read-only

Every signed-in agent may search every conversation and read its transcript: finding a
customer's earlier chat or ticket is what search is for. Private notes are not in either
answer (they keep their own access rule, HandoffService._note_access), nor are customer
tokens. Nothing a search holds is logged: it may be an email address.
"""

from __future__ import annotations

from aiohttp import web

from handoff.agent.api import handoffs, signed_in_agent
from handoff.store.search import MAX_RESULTS, SearchFilters, clean_search
from handoff.web.http import json_error
from handoff.web.request_models import SearchQuery, parse, query_dict

routes = web.RouteTableDef()


@routes.get("/api/agent/search")
async def search(request: web.Request) -> web.Response:
    await signed_in_agent(request)
    # 400 naming the parameter: q over 200 characters, a day that is none, an unknown state
    query = parse(SearchQuery, query_dict(request.query))
    text = clean_search(query.q)
    if query.start and query.end and query.start > query.end:
        return json_error(400, "bad_request", "'from' must not be after 'to'")
    if not text and not (query.start or query.end or query.state):
        return json_error(
            400, "bad_request", "'q' is empty: search for some text, or give from, to or state"
        )
    filters = SearchFilters(
        text=text,
        since=query.start,
        until=query.end,
        states=(query.state,) if query.state else (),
        limit=MAX_RESULTS,
    )
    hits = await handoffs(request).store.search(filters)
    return web.json_response(
        {"results": [hit.public() for hit in hits], "count": len(hits), "limit": MAX_RESULTS}
    )


@routes.get("/api/agent/conversations/{conversation_id}/transcript")
async def transcript(request: web.Request) -> web.Response:
    await signed_in_agent(request)
    conversation_id = request.match_info["conversation_id"]
    store = handoffs(request).store
    # ids are printable ASCII; anything else is no conversation of ours
    found = None
    if conversation_id.isascii() and conversation_id.isprintable():
        found = await store.get_conversation(conversation_id)
    if found is None:
        return json_error(404, "not_found", "there is no conversation with this id")
    return web.json_response(
        {
            "conversation_id": found.id,
            "language": found.language,
            "state": found.state,
            "created_at": found.created_at,
            "updated_at": found.updated_at,
            "customer": found.customer,
            "transcript": [message.public() for message in await store.messages(found.id)],
        }
    )


def setup_search_routes(app: web.Application) -> None:
    app.add_routes(routes)
