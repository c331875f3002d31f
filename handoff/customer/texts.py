"""What the gateway itself says to customers, in their language (data/gateway_texts.yml).

The file is checked when it is loaded (handoff/texts_file.py, as the help centre's texts
are): every text the gateway uses must exist in ko, ja and en, with only the {placeholders}
the gateway fills in. The gateway refuses to start with a broken file rather than fail in
front of a customer later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.language import SUPPORTED_LANGUAGES

# TextsError is imported from here by the gateway's start and the designers' check:
# `as` re-exports it (mypy's strict mode exports no plain import).
from handoff.texts_file import TextsError as TextsError
from handoff.texts_file import language_problems, read_checked

LANGUAGES = SUPPORTED_LANGUAGES

# Each text the gateway uses, and the placeholders it fills in.
TEXT_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "bot_down": frozenset(),
    "bot_down_person_button": frozenset(),
    "message_failed": frozenset(),
    "queued": frozenset({"position", "minutes"}),
    "cancel_button": frozenset(),
    "cancelled": frozenset(),
    "agent_joined": frozenset({"name"}),
    "agent_transferred": frozenset({"name"}),
    "transferred_to_team": frozenset({"position", "minutes"}),
    "closed": frozenset({"reopening"}),
    "nobody": frozenset(),
    "ask_contact": frozenset(),
    "ticket_created": frozenset({"ticket", "contact"}),
    "ticket_answered": frozenset({"ticket"}),
    # Ticket replies by email (handoff/email/compose.py), and the agents' note when one
    # could not be delivered (handoff/email/outbox.py).
    "email_subject": frozenset({"ticket"}),
    "email_greeting": frozenset(),
    "email_footer": frozenset(),
    "email_not_delivered": frozenset({"ticket"}),
    # A bot answer the customer asked to have mailed (handoff/email/answers.py): subject,
    # first line, and the line before the answer's article links.
    "email_answer_subject": frozenset(),
    "email_answer_lead": frozenset(),
    "email_answer_links": frozenset(),
}
WORD_LISTS = ("cancel", "ask_for_person")
# Said after the problems, so whoever reads the start's error knows the next step.
WHAT_TO_DO = (
    "fix the file (every text needs ko, ja and en, every word list a word in each), then "
    "check it with `python -m handoff texts check` and start the gateway again"
)


@dataclass(frozen=True)
class GatewayTexts:
    texts: dict[str, dict[str, str]]
    words: dict[str, dict[str, tuple[str, ...]]]

    def say(self, key: str, language: str, **values: object) -> str:
        """The text `key` in `language` (English for any other), placeholders filled."""
        variants = self.texts[key]
        return variants.get(language, variants["en"]).format(**values)

    def is_word(self, key: str, text: str) -> bool:
        """Whether the whole message is one of the `key` words, in any language."""
        said = text.strip().casefold()
        return any(said == word.casefold() for words in self.words[key].values() for word in words)

    def mentions(self, key: str, text: str) -> bool:
        """Whether the message contains one of the `key` words, in any language."""
        said = text.casefold()
        return any(word.casefold() in said for words in self.words[key].values() for word in words)


def problems(raw: object) -> list[str]:
    """Everything wrong with a parsed texts file, as sentences a designer can act on."""
    if not isinstance(raw, dict):
        return ["the file must be a mapping with `texts:` and `words:`"]
    found: list[str] = []
    texts: dict[str, object] = raw["texts"] if isinstance(raw.get("texts"), dict) else {}
    if not texts:
        found.append("`texts:` is missing or not a mapping")
    for key, allowed in TEXT_PLACEHOLDERS.items():
        variants = texts.get(key)
        if not isinstance(variants, dict):
            found.append(f"texts.{key} is missing (the gateway says it)")
            continue
        # Unlike the help centre's, the gateway's texts have never had to use the same
        # placeholders in each language; a language may leave one out.
        found += language_problems(f"texts.{key}", variants, allowed, same_in_every_language=False)
    for key in sorted(set(texts) - set(TEXT_PLACEHOLDERS)):
        found.append(f"texts.{key} is not used by the gateway (a typo?)")
    words: dict[str, object] = raw["words"] if isinstance(raw.get("words"), dict) else {}
    for key in WORD_LISTS:
        lists = words.get(key)
        if not isinstance(lists, dict):
            found.append(f"words.{key} is missing")
            continue
        for language in LANGUAGES:
            entries = lists.get(language)
            if not isinstance(entries, list) or not entries:
                found.append(f"words.{key}.{language} needs a list of words")
            elif not all(isinstance(e, str) and e.strip() for e in entries):
                found.append(f"words.{key}.{language} has an empty or non-text entry")
    return found


def load_texts(path: Path) -> GatewayTexts:
    """The texts of `path`, checked; TextsError naming the file, each key that is wrong
    and what to do."""
    raw = read_checked(path, problems, WHAT_TO_DO)
    return GatewayTexts(
        texts={key: dict(raw["texts"][key]) for key in TEXT_PLACEHOLDERS},
        words={
            key: {lang: tuple(raw["words"][key][lang]) for lang in LANGUAGES} for key in WORD_LISTS
        },
    )
