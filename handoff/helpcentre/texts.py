"""Everything the help centre's pages say around the articles, in ko, ja and en
(data/helpcentre_texts.yml; the articles themselves are the KB's, data/kb/).

The file is read once per process and checked as it is read, as data/gateway_texts.yml is
(handoff/customer/texts.py; both through handoff/texts_file.py, so the gateway's start
reports both the same way): every text the pages use in all three languages, with only the
{placeholders} the pages fill in and the same ones in each language, and every category
name in all three. A broken file stops the gateway at start, not a page in front of a
customer later.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from common.language import DEFAULT_LANGUAGE
from handoff.texts_file import language_problems, read_checked

# Each text the pages use, and the placeholders pages.py fills in.
TEXT_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "site_title": frozenset(),
    "home_heading": frozenset(),
    "search_label": frozenset(),
    "search_placeholder": frozenset(),
    "search_button": frozenset(),
    "language_switcher": frozenset(),
    "categories_heading": frozenset(),
    "results_heading": frozenset({"query", "count"}),
    "no_results": frozenset(),
    "semantic_unavailable": frozenset(),
    "query_shortened": frozenset({"max"}),
    "home_link": frozenset(),
    "category_label": frozenset(),
    "links_heading": frozenset(),
    "more_in_category": frozenset(),
    "helpful_question": frozenset(),
    "helpful_yes": frozenset(),
    "helpful_no": frozenset(),
    "feedback_thanks": frozenset(),
    "ask_assistant": frozenset(),
    "not_found_title": frozenset(),
    "not_found_body": frozenset(),
    "empty_kb": frozenset(),
}
# Said after the problems, so whoever reads the start's error knows the next step.
WHAT_TO_DO = (
    "fix the file (every text needs ko, ja and en, with the same {placeholders}), then "
    "check it with `python -m handoff texts check` and start the gateway again"
)


@dataclass(frozen=True)
class HelpTexts:
    texts: Mapping[str, Mapping[str, str]]
    # A KB file's stem (data/kb/<category>.yml) -> its name per language.
    categories: Mapping[str, Mapping[str, str]]

    def say(self, key: str, language: str, **values: object) -> str:
        """The text `key` in `language` (English for any other), placeholders filled."""
        variants = self.texts[key]
        return variants.get(language, variants[DEFAULT_LANGUAGE]).format(**values)

    def category_name(self, category: str, language: str) -> str:
        """The category's name in `language`; a file not in the list shows its own name."""
        names = self.categories.get(category)
        if names is None:
            return category.replace("_", " ").replace("-", " ").capitalize()
        return names.get(language, names[DEFAULT_LANGUAGE])


def problems(raw: object) -> list[str]:
    """Everything wrong with a parsed texts file, as sentences a designer can act on."""
    if not isinstance(raw, dict):
        return ["the file must be a mapping with `texts:` and `categories:`"]
    found: list[str] = []
    texts = raw.get("texts")
    if not isinstance(texts, dict):
        found.append("`texts:` is missing or not a mapping")
        texts = {}
    for key, allowed in TEXT_PLACEHOLDERS.items():
        variants = texts.get(key)
        if not isinstance(variants, dict):
            found.append(f"texts.{key} is missing (the help centre's pages show it)")
            continue
        found += language_problems(f"texts.{key}", variants, allowed)
    for key in sorted(set(texts) - set(TEXT_PLACEHOLDERS), key=str):
        found.append(f"texts.{key} is not used by the help centre (a typo?)")
    categories = raw.get("categories")
    if not isinstance(categories, dict):
        found.append("`categories:` is missing or not a mapping (a name per KB file)")
        categories = {}
    for category, names in categories.items():
        if not isinstance(names, dict):
            found.append(f"categories.{category} needs a name in each of ko, ja and en")
            continue
        # Category names are shown as they are, never formatted: no placeholders.
        found += language_problems(f"categories.{category}", names, frozenset())
    return found


def load_help_texts(path: Path) -> HelpTexts:
    """The texts of `path`, checked; TextsError naming the file, each key that is wrong
    and what to do. Reads the file each call: the gateway uses `help_texts`."""
    raw = read_checked(path, problems, WHAT_TO_DO)
    return HelpTexts(
        texts={key: dict(raw["texts"][key]) for key in TEXT_PLACEHOLDERS},
        categories={str(key): dict(names) for key, names in raw["categories"].items()},
    )


@functools.cache
def help_texts(path: Path) -> HelpTexts:
    """`load_help_texts(path)`, read once per process (a failed read is not kept)."""
    return load_help_texts(path)
