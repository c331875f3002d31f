"""A waiting customer who left is marked abandoned and the chat goes back to the bot."""

from pathlib import Path
from typing import Any

from handoff.conversation.bot_relay import BotRelay
from handoff.conversation.handoff_service import ABANDON_AFTER_SECONDS, HandoffService
from handoff.conversation.models import Reply
from handoff.customer.texts import load_texts
from handoff.realtime.hub import Hub
from handoff.store.sqlite import SQLiteStore
from handoff.store.sqlite_handoffs import HandoffStore
from stack.settings import Settings


class FakeRasa:
    """Records what the service asks of Rasa (a unit-test stand-in for RasaClient)."""

    def __init__(self) -> None:
        self.resumed: list[str] = []

    async def resume(self, sender: str) -> None:
        self.resumed.append(sender)

    async def trigger_intent(self, sender: str, intent: str, language: str) -> list[Reply]:
        return []

    async def tracker_events(self, sender: str) -> list[dict[str, Any]]:
        return []


async def test_stale_waiting_chat_without_a_connection_is_abandoned(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    handoffs = HandoffStore(store.connection)
    hub, rasa = Hub(), FakeRasa()
    texts = load_texts(Settings().gateway_texts_path)
    relay = BotRelay(store, rasa, hub, texts, max_attempts=5)  # type: ignore[arg-type]
    service = HandoffService(store, handoffs, rasa, relay, hub, texts, {})  # type: ignore[arg-type]
    gone, _ = await store.create_conversation("en", {})
    watching, _ = await store.create_conversation("en", {})
    for conversation in (gone, watching):
        await store.add_message(conversation.id, "customer", "talk to a human")
        await service.escalate(conversation, {"reason": "requested"})
    hub.subscribe(watching.id)  # this customer still has the chat open

    assert await service.abandon_stale() == []  # nobody has waited long enough yet
    later = __import__("time").time() + ABANDON_AFTER_SECONDS + 1
    assert await service.abandon_stale(now=later) == [gone.id]

    assert (await store.get_conversation(gone.id)).state == "bot"  # type: ignore[union-attr]
    assert (await store.get_conversation(watching.id)).state == "queued"  # type: ignore[union-attr]
    names = [e.name for e in await store.events(gone.id)]
    assert names == ["escalate", "abandon", "return_to_bot"]
    assert rasa.resumed == [gone.id]
    assert [h.conversation_id for h in await handoffs.queued()] == [watching.id]
    await store.close()
