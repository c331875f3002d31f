"""Unanswered topics on the supervisor analytics page.

    GET /api/agent/analytics/topics?from=YYYY-MM-DD&to=YYYY-MM-DD&language=ko|ja|en
        the questions the KB could not answer in that range, grouped into topics, each
        with a KB-article draft (JSON); `&format=csv` the topics table, `&format=yaml`
        every listed draft as one KB file

The grouping needs the KB's embedding model, which only the action server holds: the
gateway asks it (the `action_kb_topics` action, actions/topics.py, through
web/action_webhook.py) and answers 503 while it is down.
Supervisors only, with the same filters as the report (analytics_api.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from handoff.agent import analytics
from handoff.agent.analytics_api import filters_for
from handoff.agent.api import signed_in_agent
from handoff.web.action_webhook import ActionServerUnavailable, ActionWebhook
from handoff.web.http import json_error
from handoff.web.request_models import InvalidRequest, TopicsQuery, parse, query_dict
from handoff.web.state import METRICS, SETTINGS

log = logging.getLogger(__name__)

ACTION = "action_kb_topics"
# The first load of a busy range embeds thousands of questions (~15 s for 10 000);
# rasa-sdk's server (Sanic) gives up on a request after 60 s anyway.
TIMEOUT_SECONDS = 65.0
# Spreadsheets run a cell that starts with one of these as a formula; customers wrote them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TopicsUnavailable(Exception):
    """The action server could not build the topics; the message says why."""


class TopicsClient:
    def __init__(
        self, session: aiohttp.ClientSession, action_url: str, auth_token: str, timeout: float
    ) -> None:
        self._webhook = ActionWebhook(session, action_url, auth_token, timeout)

    async def topics(self, filters: analytics.Filters) -> dict[str, Any]:
        """The action's report (kb_index/topics.py) for `filters`."""
        metadata = {
            "from": filters.start.isoformat(),
            "to": filters.end.isoformat(),
            "language": filters.language,
        }
        try:
            payloads = await self._webhook.custom_payloads(
                ACTION, "analytics-topics", metadata=metadata
            )
        except ActionServerUnavailable as exc:
            log.warning("topics: %s", exc)
            if exc.status is not None:
                raise TopicsUnavailable(str(exc)) from exc
            raise TopicsUnavailable(
                "the action server, which holds the KB's model, is not reachable; try again shortly"
            ) from exc
        for custom in payloads:
            report = custom.get("topics")
            if isinstance(report, dict):
                return report
            if custom.get("topics_error"):
                raise TopicsUnavailable(f"the topics could not be built: {custom['topics_error']}")
        raise TopicsUnavailable("the action server sent no topics")


TOPICS = web.AppKey("topics_client", TopicsClient)
routes = web.RouteTableDef()


@routes.get("/api/agent/analytics/topics")
async def unanswered_topics(request: web.Request) -> web.StreamResponse:
    agent = await signed_in_agent(request)
    if not agent.is_supervisor:
        return json_error(403, "supervisors_only", "analytics are for supervisors")
    try:
        filters, output = parse_query(request.query)
    except analytics.InvalidRange as exc:
        return json_error(400, "bad_request", str(exc))
    try:
        report = await request.app[TOPICS].topics(filters)
    except TopicsUnavailable as exc:
        request.app[METRICS].errors.labels("topics_unavailable").inc()
        response = json_error(503, "topics_unavailable", str(exc))
        response.headers["Retry-After"] = "10"
        return response
    stem = f"{filters.start}_{filters.end}_{filters.language or 'all'}"
    if output == "csv":
        return web.Response(
            text=analytics.to_csv(csv_rows(report)),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="topics_{stem}.csv"'},
        )
    if output == "yaml":
        return web.Response(
            text=str(report.get("drafts") or ""),
            content_type="application/yaml",
            headers={"Content-Disposition": f'attachment; filename="drafts_{stem}.yml"'},
        )
    return web.json_response(report)


def parse_query(query: Mapping[str, str]) -> tuple[analytics.Filters, str]:
    """The report's filters (UTC days, as analytics_api's default) and the output format,
    from the query (TopicsQuery); InvalidRange says what is wrong."""
    try:
        parsed = parse(TopicsQuery, query_dict(query))
    except InvalidRequest as exc:
        raise analytics.InvalidRange(str(exc)) from None
    return filters_for(parsed, analytics.DEFAULT_TZ), parsed.format


def csv_rows(report: Mapping[str, Any]) -> list[analytics.Row]:
    """The page's topics table as CSV rows, biggest topic first."""
    rows: list[analytics.Row] = []
    for topic in report.get("topics") or []:
        nearest = topic.get("nearest") or []
        rows.append(
            {
                "rank": topic["rank"],
                "draft_id": topic["id"],
                "size": topic["size"],
                "languages": _counts(topic.get("languages")),
                "kinds": _counts(topic.get("kinds")),
                "nearest_article": nearest[0]["article_id"] if nearest else "",
                "nearest_title": _cell(nearest[0]["title"]) if nearest else "",
                "examples": _cell(" | ".join(topic.get("examples") or [])),
            }
        )
    return rows


def _counts(counts: Mapping[str, int] | None) -> str:
    return " ".join(f"{key} {n}" for key, n in (counts or {}).items())


def _cell(text: str) -> str:
    """Customer wording as inert text in a spreadsheet."""
    return "'" + text if text.startswith(_FORMULA_START) else text


async def _client(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with aiohttp.ClientSession() as session:
        app[TOPICS] = TopicsClient(
            session, settings.action_url, settings.action_auth_token, TIMEOUT_SECONDS
        )
        yield


def setup_topics_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(_client)
    app.add_routes(routes)
