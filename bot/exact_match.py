"""Rasa NLU component: a message that IS a training example gets that example's intent.

Short replies ("いいえ", "네", "ok", "ㄴㄴ") carry little meaning for a sentence
embedding: "いいえ" (no) and "はい" (yes) sit close together, and a
regularised classifier can then answer "glad that helped" to a "no". Matching
after normalisation (NFKC, case, spaces and punctuation removed, so "배송 언제와요"
matches "배송언제와요") makes every example the designers wrote a guaranteed
hit. Messages that match nothing keep the classifier's prediction.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_TABLE_FILE = "exact_match.json"


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ExactMatchIntentClassifier(GraphComponent):
    def __init__(
        self, model_storage: ModelStorage, resource: Resource, table: Dict[str, str]
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._table = table

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ExactMatchIntentClassifier":
        return cls(model_storage, resource, {})

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "ExactMatchIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                table = json.loads((directory / _TABLE_FILE).read_text(encoding="utf-8"))
        except (ValueError, OSError):
            table = {}
        return cls(model_storage, resource, table)

    def train(self, training_data: TrainingData) -> Resource:
        table: Dict[str, Optional[str]] = {}
        for example in training_data.intent_examples:
            key = normalise(example.get(TEXT) or "")
            intent = example.get(INTENT)
            if not key or not intent:
                continue
            # The same text under two intents is ambiguous: leave it to the classifier.
            table[key] = intent if table.get(key, intent) == intent else None
        self._table = {k: v for k, v in table.items() if v}
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _TABLE_FILE).write_text(
                json.dumps(self._table, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = self._table.get(normalise(message.get(TEXT) or ""))
            if intent is None:
                continue
            ranking: List[Dict[str, Any]] = message.get(INTENT_RANKING_KEY) or []
            others = [r for r in ranking if r.get("name") != intent]
            message.set(INTENT, {"name": intent, "confidence": 1.0}, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY,
                [{"name": intent, "confidence": 1.0}, *others],
                add_to_output=True,
            )
        return messages
