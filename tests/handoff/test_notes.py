"""Private notes through HandoffService: who may read and add them (the agent the chat is
or was last with, an agent who could accept it while it waits, supervisors), where a new
note is pushed (the consoles' agent channels, never the customer's), and that the agent
who takes a chat over reads them in its view."""

from __future__ import annotations

import pytest

from handoff.conversation.handoff_service import HandoffError, agent_channel
from tests.handoff.test_reassign import Desk, desk, drained  # noqa: F401 - shared fixture


async def _refused(desk: Desk, who: str, conversation_id: str) -> str:  # noqa: F811
    agent = getattr(desk, who)
    codes = []
    for attempt in (
        desk.service.notes(agent, conversation_id),
        desk.service.add_note(agent, conversation_id, f"{who} was here"),
    ):
        with pytest.raises(HandoffError) as refused:
            await attempt
        codes.append(refused.value.code)
    assert codes[0] == codes[1]
    return codes[0]


async def test_who_may_read_and_add_notes(desk: Desk) -> None:  # noqa: F811
    service = desk.service
    # never handed to people: supervisors only
    conversation, _ = await desk.store.create_conversation("en", {})
    assert await _refused(desk, "alice", conversation.id) == "not_yours"
    note = await service.add_note(desk.lead, conversation.id, "watch this one")
    assert [n.text for n in await service.notes(desk.lead, conversation.id)] == ["watch this one"]
    assert note.author == "lead"

    # waiting in the queue: agents who could accept it (en), not kenji (ja only)
    waiting = await desk.waiting("en")
    assert await service.notes(desk.bob, waiting.id) == []
    await service.add_note(desk.bob, waiting.id, "asked twice already")
    assert await _refused(desk, "kenji", waiting.id) == "not_yours"

    # assigned to alice: alice and supervisors; bob, who could have taken it, no longer
    await service.accept(desk.alice, waiting.id)
    await service.add_note(desk.alice, waiting.id, "VIP, refund approved by finance")
    assert await _refused(desk, "bob", waiting.id) == "not_yours"
    texts = [n.text for n in await service.notes(desk.lead, waiting.id)]
    assert texts == ["asked twice already", "VIP, refund approved by finance"]
    assert [n.author for n in await service.notes(desk.alice, waiting.id)] == ["bob", "alice"]

    # resolved: still alice's (the last to have it, as her view of it); nobody else's
    await service.resolve(desk.alice, waiting.id)
    await service.add_note(desk.alice, waiting.id, "follow up next week")
    assert await _refused(desk, "bob", waiting.id) == "not_yours"

    # an unknown conversation, for anyone
    for who in ("alice", "lead"):
        assert await _refused(desk, who, "no-such-conversation") == "not_found"


async def test_a_note_goes_to_the_agents_consoles_never_to_the_customer(
    desk: Desk,  # noqa: F811
) -> None:
    conversation = await desk.with_alice()
    customer = desk.listen(conversation.id)
    alice, lead, bob = (desk.listen(agent_channel(n)) for n in ("alice", "lead", "bob"))

    note = await desk.service.add_note(desk.alice, conversation.id, "card 4111 1111 1111 1111")
    assert note.text == "card ****-****-****-1111"
    mine = [f for f in drained(alice) if f["type"] == "note"]
    assert mine == [{"type": "note", **note.public()}]
    # a supervisor's note: to the supervisor's console and to alice's, who has the chat
    by_lead = await desk.service.add_note(desk.lead, conversation.id, "approved")
    assert [f["id"] for f in drained(alice) if f["type"] == "note"] == [by_lead.id]
    assert [f["id"] for f in drained(lead) if f["type"] == "note"] == [by_lead.id]
    assert [f for f in drained(bob) if f["type"] == "note"] == []
    assert drained(customer) == []  # nothing at all on the customer's channel

    # bob takes it over: his console gets the chat with both notes in its view
    await desk.service.reassign(desk.lead, conversation.id, "bob")
    [given] = [f for f in drained(bob) if f["type"] == "assigned"]
    assert given["view"]["notes"] == [note.public(), by_lead.public()]
    assert all(f.get("type") != "note" for f in drained(customer))
    # and the transcript the customer reads has none of them
    texts = [m.text for m in await desk.store.messages(conversation.id)]
    assert not {"card ****-****-****-1111", "approved"} & set(texts)
