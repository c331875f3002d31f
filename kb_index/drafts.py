"""Knowledge-base article drafts from what customers asked that the KB could not answer.

`python -m kb_index unanswered --drafts OUT.yml` writes one draft per group of similar
questions (abstains, clarifications, "that didn't help", "none of these"; grouped by the
KB's own embedder in unanswered.py): the customers' wordings become the question
variants in their languages, the answer is left for the designer to write. The file is
in the KB's format (articles.py); drafts are meant to be edited, then moved under
data/kb/ — `kb_index validate` refuses them until every answer is written.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from common.language import detect_language
from kb_index.unanswered import Group

LANGUAGES = ("ko", "ja", "en")
TODO = ""  # an empty answer: validation reports it until the designer writes one


def draft_id(rank: int, group: Group) -> str:
    """A readable, unique id: the rank and the representative's Latin words, if any."""
    words = re.findall(r"[a-z0-9]+", group.representative.lower())[:4]
    return f"draft_{rank:02d}" + ("_" + "_".join(words) if words else "")


def draft(rank: int, group: Group) -> dict[str, Any]:
    """One article draft for a group: its wordings per language, no answer yet."""
    fallback = group.languages.most_common(1)[0][0] if group.languages else "en"
    questions: dict[str, list[str]] = {}
    for example in group.examples:
        language = detect_language(example) or fallback
        if language in LANGUAGES:
            questions.setdefault(language, []).append(example)
    return {
        "id": draft_id(rank, group),
        "tags": ["draft"],
        "questions": questions,
        "answer": {language: TODO for language in questions},
    }


def drafts_yaml(groups: list[Group], first_rank: int = 1) -> str:
    """The drafts as a KB file, biggest group first, with why each is there. `first_rank`
    numbers a slice of a longer list (one topic's draft keeps its id from the page)."""
    lines = [
        "# Article drafts from unanswered questions (kb_index unanswered, analytics page).",
        "# Write each answer, merge variants into existing articles where they belong, then",
        "# move the file under data/kb/. Groups, biggest first:",
    ]
    articles = []
    for rank, group in enumerate(groups, start=first_rank):
        kinds = ", ".join(f"{kind} {n}" for kind, n in group.kinds.most_common())
        near = ", ".join(a for a, _ in group.top_articles.most_common(2)) or "-"
        lines.append(f"#   {draft_id(rank, group)}: x{group.count} ({kinds}; nearest: {near})")
        articles.append(draft(rank, group))
    body = yaml.safe_dump(
        {"articles": articles}, allow_unicode=True, sort_keys=False, default_flow_style=False
    )
    return "\n".join(lines) + "\n" + body
