"""What a notice's topics may name: the knowledge base's tags and categories (a KB file's
name: data/kb/shipping.yml is `shipping`), and which of them an answered article has."""

from __future__ import annotations

from handoff.helpcentre.catalog import KnowledgeBase


def known_topics(kb: KnowledgeBase) -> set[str]:
    topics = {category.id for category in kb.categories}
    for article in kb.articles.values():
        topics.update(article.tags)
    return topics


def article_topics(kb: KnowledgeBase, article_id: str) -> set[str]:
    """The article's tags and its category; empty for an article the KB no longer has."""
    article = kb.articles.get(article_id)
    if article is None:
        return set()
    return {*article.tags, kb.category_of.get(article_id, "")} - {""}
