"""Labels on conversations: the designers' list (data/labels.yml) and the agent routes.

    GET /api/agent/labels                                   the list, names in ko, ja and en
    PUT /api/agent/conversations/{id}/labels {"labels": [...]}   replace the chat's labels

Who may set them: whoever may read and add the chat's private notes
(HandoffService.check_desk_access): supervisors, the agent the chat is with or was last
with (a resolved chat they worked included), and any agent who could accept it while it
waits. Labels come with the chat in the agent's views (queue, my conversations, the open
chat) and in analytics; never in a customer route or on the customer's websocket.

The list is checked when the gateway starts: a broken file stops it with every problem
named, rather than an agent meeting a label without a name later.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from handoff.agent.api import handoffs, signed_in_agent
from handoff.conversation.handoff_service import HandoffError, HandoffService, agent_channel
from handoff.conversation.models import Agent
from handoff.texts_file import TextsError, read_checked
from handoff.web.http import json_error, read_model
from handoff.web.request_models import MAX_LABELS, LabelsChange
from handoff.web.state import SETTINGS

log = logging.getLogger(__name__)

LANGUAGES = ("ko", "ja", "en")
# What the store, the API and analytics call a label: a slug, never shown to people.
LABEL_ID = re.compile(r"[a-z0-9_]{1,40}")


class LabelsError(TextsError):
    """The labels file is missing or broken; the message lists every problem. A TextsError,
    so the gateway's start reports it as it does a broken texts file, without a traceback."""


WHAT_TO_DO = "fix data/labels.yml (every label needs an id and a name in ko, ja and en), then start the gateway again"


@dataclass(frozen=True)
class Label:
    id: str
    names: dict[str, str]  # ko, ja, en

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "names": dict(self.names)}


@dataclass(frozen=True)
class LabelCatalog:
    labels: tuple[Label, ...]

    def ids(self) -> frozenset[str]:
        return frozenset(label.id for label in self.labels)

    def unknown(self, wanted: list[str]) -> list[str]:
        """The ids in `wanted` that are not on the list, in the order given."""
        known = self.ids()
        return [label for label in wanted if label not in known]


def problems(raw: object) -> list[str]:
    """Everything wrong with a parsed labels file, as sentences a designer can act on."""
    if not isinstance(raw, dict) or not isinstance(raw.get("labels"), list):
        return ["the file must be a mapping with a `labels:` list"]
    found: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw["labels"]):
        where = f"labels[{index}]"
        if not isinstance(entry, dict):
            found.append(f"{where} must be a mapping with `id` and `name`")
            continue
        label_id = entry.get("id")
        if not isinstance(label_id, str) or not LABEL_ID.fullmatch(label_id):
            found.append(f"{where}.id must be a slug (a-z, 0-9 and _, up to 40): {label_id!r}")
        elif label_id in seen:
            found.append(f"{where}.id {label_id!r} is listed twice")
        else:
            seen.add(label_id)
            where = f"label {label_id}"
        names = entry.get("name")
        if not isinstance(names, dict):
            found.append(f"{where} needs `name:` with ko, ja and en")
            continue
        for language in LANGUAGES:
            name = names.get(language)
            if not isinstance(name, str) or not name.strip():
                found.append(f"{where}: name.{language} is missing or empty")
    if not raw["labels"]:
        found.append("`labels:` is empty")
    return found


def load_labels(path: Path) -> LabelCatalog:
    """The designers' list, or LabelsError naming every problem (the gateway then refuses
    to start)."""
    raw = read_checked(path, problems, WHAT_TO_DO, LabelsError)
    return LabelCatalog(
        tuple(
            Label(entry["id"], {lang: entry["name"][lang].strip() for lang in LANGUAGES})
            for entry in raw["labels"]
        )
    )


LABELS = web.AppKey("labels", LabelCatalog)
routes = web.RouteTableDef()


async def set_labels(
    service: HandoffService, agent: Agent, conversation_id: str, labels: list[str]
) -> list[str]:
    """Replace the chat's labels (already checked against the list); returns them now.
    Consoles with the chat open (the setter's, the agent's it is or was last with) get a
    `labels` frame on their agent channels; a queued chat's queue frames are sent again,
    as they carry labels. Never the conversation's own channel: that is the customer's."""
    await service.check_desk_access(agent, conversation_id)
    try:
        added, removed = await service.handoffs.set_labels(conversation_id, labels, agent.username)
    except KeyError as exc:
        raise HandoffError("not_found", "there is no conversation with this id") from exc
    now = await service.handoffs.labels(conversation_id)
    if not added and not removed:
        return now
    log.info("%s changed labels: +%s -%s", agent.username, added, removed)
    holder = await service.handoffs.latest_handoff(conversation_id)
    readers = {agent.username}
    if holder is not None and holder.agent:
        readers.add(holder.agent)
    frame = {"type": "labels", "conversation_id": conversation_id, "labels": now}
    for username in sorted(readers):
        service.hub.publish(agent_channel(username), frame)
    if holder is not None and holder.status == "queued":
        await service.broadcast_queue()
    return now


@routes.get("/api/agent/labels")
async def label_list(request: web.Request) -> web.Response:
    await signed_in_agent(request)
    return web.json_response([label.public() for label in request.app[LABELS].labels])


@routes.put("/api/agent/conversations/{conversation_id}/labels")
async def put_labels(request: web.Request) -> web.Response:
    agent = await signed_in_agent(request)
    # 400 for broken JSON, a wrong type, more than MAX_LABELS or a malformed id; 413 if large
    body = await read_model(request, LabelsChange)
    wanted = sorted(set(body.labels))
    if unknown := request.app[LABELS].unknown(wanted):
        return json_error(
            400, "unknown_label", f"not a label of data/labels.yml: {', '.join(unknown)}"
        )
    conversation_id = request.match_info["conversation_id"]
    if not (conversation_id.isascii() and conversation_id.isprintable()):
        return json_error(404, "not_found", "there is no conversation with this id")
    labels = await set_labels(handoffs(request), agent, conversation_id, wanted)
    return web.json_response({"conversation_id": conversation_id, "labels": labels})


def setup_label_routes(app: web.Application) -> None:
    """The list is loaded here, when the app is built: LabelsError stops the start."""
    app[LABELS] = load_labels(app[SETTINGS].labels_path)
    app.add_routes(routes)


__all__ = ["LABELS", "MAX_LABELS", "LabelCatalog", "LabelsError", "load_labels", "set_labels"]
