"""Rasa NLU component: tags each message with its language for the `language` slot.

The language is emitted as an entity spanning the whole message, so the slot is
filled by an ordinary `from_entity` mapping and responses pick their variation
with a slot condition. Messages whose script is ambiguous emit nothing, which
leaves the slot as it was.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from common.language import detect_language

LANGUAGE_ENTITY = "language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Detects ko / ja / en from the script of each message."""

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
    ) -> "LanguageDetector":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples carry no language entity; nothing to learn or add.
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text: Optional[str] = message.get(TEXT)
            language = detect_language(text) if text else None
            if language is None:
                continue
            entity = {
                "entity": LANGUAGE_ENTITY,
                "value": language,
                "start": 0,
                "end": len(text or ""),
                "confidence": 1.0,
                "extractor": self.__class__.__name__,
            }
            message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
        return messages
