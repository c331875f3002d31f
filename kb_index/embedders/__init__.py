"""Sentence embedders behind one small interface (base.py) and one registry."""

from kb_index.embedders.base import BACKENDS, Embedder, EmbedderError, make_embedder

__all__ = ["BACKENDS", "Embedder", "EmbedderError", "make_embedder"]
