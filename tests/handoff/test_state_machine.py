from pathlib import Path

import pytest

from handoff.conversation.state_machine import TRANSITIONS, InvalidTransition, target
from handoff.store.sqlite import SQLiteStore


@pytest.mark.parametrize(
    ("name", "current", "expected"),
    [
        ("escalate", "bot", "queued"),
        ("assign", "queued", "assigned"),
        ("reassign", "assigned", "assigned"),  # to another agent
        ("resolve", "assigned", "resolved"),
        ("return_to_bot", "resolved", "bot"),
        ("cancel", "queued", "cancelled"),
        ("take_ticket", "queued", "offline_ticket"),
        ("abandon", "queued", "abandoned"),
        ("return_to_bot", "offline_ticket", "bot"),
    ],
)
def test_allowed_transitions(name: str, current: str, expected: str) -> None:
    assert target(name, current) == expected


@pytest.mark.parametrize(
    ("name", "current"),
    [
        ("assign", "bot"),
        ("resolve", "queued"),
        ("escalate", "assigned"),
        ("cancel", "assigned"),
        ("reassign", "queued"),  # a waiting chat is assigned, not reassigned
        ("reassign", "resolved"),
        ("fly", "bot"),
    ],
)
def test_forbidden_transitions_say_why(name: str, current: str) -> None:
    with pytest.raises(InvalidTransition, match=f"cannot {name} a conversation that is {current}"):
        target(name, current)


def test_every_state_can_get_back_to_the_bot() -> None:
    reachable = {"bot"}
    frontier = ["bot"]
    while frontier:
        state = frontier.pop()
        for sources, destination in TRANSITIONS.values():
            if state in sources and destination not in reachable:
                reachable.add(destination)
                frontier.append(destination)
    for state in reachable - {"abandoned"}:
        path_home = {state}
        changed = True
        while changed:
            changed = False
            for sources, destination in TRANSITIONS.values():
                if path_home & set(sources) and destination not in path_home:
                    path_home.add(destination)
                    changed = True
        assert "bot" in path_home, state


async def test_transitions_are_persisted_as_events_and_race_safe(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite3")
    conversation, _ = await store.create_conversation("ko", {})
    await store.transition(conversation.id, "escalate", {"reason": "requested"})
    await store.transition(conversation.id, "assign", {"agent": "alice"})
    with pytest.raises(InvalidTransition):  # a second agent loses
        await store.transition(conversation.id, "assign", {"agent": "bob"})
    events = await store.events(conversation.id)
    assert [(e.name, e.from_state, e.to_state) for e in events] == [
        ("escalate", "bot", "queued"),
        ("assign", "queued", "assigned"),
    ]
    assert events[1].data == {"agent": "alice"}
    assert (await store.get_conversation(conversation.id)).state == "assigned"  # type: ignore[union-attr]
    await store.close()
