"""The Rasa input channel the gateway talks to (runs inside Rasa's environment).

Rasa's built-in REST channel has no authentication at all: any local process, or a web
page open in a local browser, could post into any conversation. This channel is the
REST protocol with three differences:

- it answers only requests carrying the gateway's token (`Authorization: Bearer ...`,
  the same secret as Rasa's HTTP API);
- it takes the gateway's `message_id` (conversation id and message seq), which Rasa
  stores with the user event, so the gateway can tell whether a message it could not
  confirm was in fact processed (exactly-once delivery after a crash);
- a failure while handling the message is a 500, not a 200 with whatever was said.

credentials.yml names it by module path: `bot.gateway_channel.GatewayInput`.
Webhook: POST /webhooks/gateway/webhook {"sender", "message", "metadata"?, "message_id"?}
"""

import hmac
import logging
import os
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common.jsonlog import conversation_context

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "ASSISTANT_RASA_AUTH_TOKEN"


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class GatewayInput(InputChannel):
    """REST for the gateway only: token-checked, with the gateway's message ids."""

    @classmethod
    def name(cls) -> Text:
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "GatewayInput":
        return cls(os.environ.get(TOKEN_VARIABLE, ""))

    def __init__(self, token: Text) -> None:
        if not token:
            raise ValueError(f"{TOKEN_VARIABLE} is not set: the gateway channel needs its token")
        self._expected = f"Bearer {token}".encode()

    def _authorized(self, request: Request) -> bool:
        given = request.headers.get("Authorization", "").encode("utf-8", "replace")
        return hmac.compare_digest(given, self._expected)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("gateway_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorized(request):
                return _error(401, "this channel is for the gateway only")
            try:
                body = request.json
            except Exception:
                return _error(400, "body is not JSON")
            if not isinstance(body, dict):
                return _error(400, "body must be a JSON object")
            sender, text = body.get("sender"), body.get("message")
            metadata, message_id = body.get("metadata"), body.get("message_id")
            if not isinstance(sender, str) or not sender or not isinstance(text, str):
                return _error(400, "send {'sender': '...', 'message': '...'}")
            if metadata is not None and not isinstance(metadata, dict):
                return _error(400, "'metadata' must be an object")
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender,
                input_channel=self.name(),
                metadata=metadata,
                message_id=str(message_id) if message_id else None,
            )
            # The sender is the gateway's conversation id: Rasa's records while it
            # handles the message (the processor's, the action calls') carry it
            # (common/jsonlog.py); the tasks Rasa starts for it inherit it.
            with conversation_context(sender):
                try:
                    await on_new_message(message)
                except Exception:
                    logger.exception("could not handle message %s", message.message_id)
                    return _error(500, "the message could not be handled")
                logger.info(
                    "handled message %s: %d replies", message.message_id, len(collector.messages)
                )
            return response.json(collector.messages)

        return webhook
