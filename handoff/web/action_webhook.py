"""The gateway asking the action server to run one of its actions.

The action server holds the embedding model and the live KB index; the gateway never
loads a second copy. Agent suggestions (agent/assist.py), the help centre's search by
meaning (helpcentre/semantic.py) and the supervisors' unanswered topics
(agent/topics_api.py) each ask it for one action over rasa-sdk's webhook protocol, as
Rasa itself does, and read what the action put in its messages' `custom` payloads.
"""

from __future__ import annotations

from typing import Any

import aiohttp


class ActionServerUnavailable(Exception):
    """The action server could not be asked, or did not answer with JSON; says why.
    `status`: the HTTP status it answered with, if it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ActionWebhook:
    def __init__(
        self, session: aiohttp.ClientSession, action_url: str, auth_token: str, timeout: float
    ) -> None:
        self._session = session
        self._url = f"{action_url}/webhook"
        # The action server answers only requests carrying its secret (stack/action_server.py).
        self._headers = {"Authorization": f"Bearer {auth_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def custom_payloads(
        self,
        action: str,
        sender_id: str,
        *,
        text: str = "",
        slots: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The `custom` payloads of what `action` said, in order (a tracker of one message,
        `text` with `metadata`, and `slots`)."""
        latest: dict[str, Any] = {"text": text}
        if metadata is not None:
            latest["metadata"] = metadata
        body = {
            "next_action": action,
            "tracker": {
                "sender_id": sender_id,
                "slots": slots or {},
                "latest_message": latest,
                "events": [],
            },
            "domain": {},
        }
        try:
            async with self._session.post(
                self._url, json=body, headers=self._headers, timeout=self._timeout
            ) as response:
                if response.status != 200:
                    raise ActionServerUnavailable(
                        f"the action server answered HTTP {response.status}", response.status
                    )
                result = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ActionServerUnavailable(f"the action server is unreachable: {exc!r}") from exc
        replies = result.get("responses") if isinstance(result, dict) else None
        payloads = []
        for item in replies if isinstance(replies, list) else []:
            custom = item.get("custom") if isinstance(item, dict) else None
            if isinstance(custom, dict):
                payloads.append(custom)
        return payloads
