from handoff.conversation.rasa_client import replies_from_rasa


def test_custom_payload_folds_into_the_text_before_it() -> None:
    replies = replies_from_rasa(
        [
            {"recipient_id": "c", "text": "Orders ship in 1 day."},
            {
                "recipient_id": "c",
                "custom": {
                    "links": [{"title": "Shipping", "url": "https://x.example/s"}],
                    "kb": {"decision": "answer", "article_id": "shipping_time"},
                },
            },
            {
                "recipient_id": "c",
                "text": "Did that help?",
                "buttons": [{"title": "Yes", "payload": "/affirm"}],
            },
        ]
    )
    assert [r.text for r in replies] == ["Orders ship in 1 day.", "Did that help?"]
    assert replies[0].links == [{"title": "Shipping", "url": "https://x.example/s"}]
    assert replies[0].meta["kb"]["article_id"] == "shipping_time"
    assert replies[1].buttons == [{"title": "Yes", "payload": "/affirm"}]


def test_nothing_from_rasa_is_no_replies() -> None:
    assert replies_from_rasa([]) == []
    # a custom payload with no text before it is not shown to anyone
    assert replies_from_rasa([{"custom": {"kb": {}}}]) == []
