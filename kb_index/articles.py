"""Knowledge-base articles: the YAML that designers edit under data/kb/.

Shape of a file::

    articles:
      - id: shipping_time
        tags: [shipping]
        questions: {en: [...], ko: [...], ja: [...]}
        answer: {en: "...", ko: "...", ja: "..."}
        links: [{url: "https://...", title: {en: "...", ko: "...", ja: "..."}}]
    shop_names: [...]   # optional, in any file: what customers call the shop
    not_covered: {en: [...], ko: [...], ja: [...]}   # optional, in any file: questions
                        # customers ask that the KB does not answer, on purpose

A file may hold only `shop_names` and `not_covered`, without articles.

Loading never crashes on a bad file: it raises `KBError` naming the file and
line, so the running service can keep its last good index.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("ko", "ja", "en")
FALLBACK_LANGUAGE = "en"
# Top-level keys a file may hold instead of, or beside, `articles`.
_FILE_SETTINGS = ("shop_names", "not_covered")


class KBError(Exception):
    """A knowledge-base file that cannot be used, with where and why."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Link:
    url: str
    titles: dict[str, str] = field(default_factory=dict)

    def title_in(self, language: str) -> str:
        return pick_language(self.titles, language) or self.url


@dataclass(frozen=True)
class Article:
    id: str
    tags: tuple[str, ...]
    questions: dict[str, tuple[str, ...]]
    answers: dict[str, str]
    links: tuple[Link, ...] = ()
    source: str = ""
    line: int = 0

    def answer_in(self, language: str) -> str:
        """The answer in `language`, else English, else any language it has."""
        return pick_language(self.answers, language)

    def title_in(self, language: str) -> str:
        """A short title for buttons: the article's first question in `language`."""
        for lang in (language, FALLBACK_LANGUAGE, *self.questions):
            if self.questions.get(lang):
                return self.questions[lang][0]
        return self.id

    def variants(self) -> list[tuple[str, str]]:
        """Every (language, question variant) pair, in file order."""
        return [(lang, q) for lang, qs in self.questions.items() for q in qs]


def pick_language(texts: dict[str, str], language: str) -> str:
    for lang in (language, FALLBACK_LANGUAGE, *texts):
        text = texts.get(lang, "")
        if text and text.strip():
            return text
    return ""


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line each mapping starts on."""


def _construct_mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_with_line
)


def kb_files(kb_dir: Path) -> list[Path]:
    """Every `*.yml` / `*.yaml` below `kb_dir`, in a stable order."""
    if not kb_dir.is_dir():
        raise KBError(kb_dir, None, "knowledge-base folder not found")
    return sorted(p for p in kb_dir.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())


def load_file(path: Path) -> list[Article]:
    """Parse one KB file; raise KBError with file and line when it is unusable."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise KBError(path, line, f"broken YAML: {exc.problem or exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        raise KBError(path, None, f"cannot read: {exc}") from exc
    if data is None:
        return []
    if isinstance(data, dict) and "articles" not in data and any(k in data for k in _FILE_SETTINGS):
        return []
    if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
        raise KBError(path, 1, "expected a top-level 'articles:' list")
    return [_parse_article(path, raw) for raw in data["articles"]]


def load_kb(kb_dir: Path) -> list[Article]:
    """All articles under `kb_dir`. Raises KBError on the first unusable file."""
    articles: list[Article] = []
    for path in kb_files(kb_dir):
        articles.extend(load_file(path))
    return articles


def load_shop_names(kb_dir: Path) -> tuple[str, ...]:
    """Every file's optional `shop_names` list: the names customers call the shop by
    (masking.ShopNames). Raises KBError when one is not a list of texts."""
    names: list[str] = []
    for path, raw in _file_settings(kb_dir, "shop_names"):
        if not isinstance(raw, list) or not all(isinstance(n, str) and n.strip() for n in raw):
            raise KBError(path, 1, "'shop_names' must be a list of texts")
        names += raw
    return tuple(names)


def load_not_covered(kb_dir: Path) -> tuple[tuple[str, str], ...]:
    """Every file's optional `not_covered` questions, as (language, text): what this
    shop's customers ask that the KB does not answer on purpose (a delivery time slot,
    deleting a review): the bot tells a customer asking one of them that it is not
    covered rather than offer the nearest article (not_covered.py). Raises KBError when
    one is not a language -> list of texts."""
    found: list[tuple[str, str]] = []
    for path, raw in _file_settings(kb_dir, "not_covered"):
        if not isinstance(raw, dict):
            raise KBError(path, 1, "'not_covered' must map language -> list of questions")
        for lang, texts in raw.items():
            if lang == "__line__":
                continue
            if lang not in LANGUAGES:
                raise KBError(path, 1, f"'not_covered': unknown language '{lang}'")
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise KBError(path, 1, f"'not_covered.{lang}' must be a list of texts")
            found += [(str(lang), t.strip()) for t in texts if t.strip()]
    return tuple(found)


def _file_settings(kb_dir: Path, key: str) -> Iterator[tuple[Path, Any]]:
    """(file, value) for each KB file that sets the top-level `key`."""
    for path in kb_files(kb_dir):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
        except (yaml.YAMLError, UnicodeDecodeError, OSError):
            continue  # load_file reports it, with the line
        if isinstance(data, dict) and data.get(key) is not None:
            yield path, data[key]


def _parse_article(path: Path, raw: Any) -> Article:
    if not isinstance(raw, dict):
        raise KBError(path, None, "each article must be a mapping with id, questions, answer")
    line = int(raw.get("__line__", 0))
    article_id = raw.get("id")
    if not isinstance(article_id, str) or not article_id.strip():
        raise KBError(path, line, "article without an 'id'")
    questions_raw = raw.get("questions")
    if not isinstance(questions_raw, dict):
        raise KBError(path, line, f"article '{article_id}': 'questions' must map language -> list")
    questions: dict[str, tuple[str, ...]] = {}
    for lang, variants in questions_raw.items():
        if lang == "__line__":
            continue
        if not isinstance(variants, list) or not all(
            isinstance(v, (str, int, float)) for v in variants
        ):
            raise KBError(
                path, line, f"article '{article_id}': questions.{lang} must be a list of texts"
            )
        questions[str(lang)] = tuple(str(v).strip() for v in variants if str(v).strip())
    answer_raw = raw.get("answer")
    if isinstance(answer_raw, str):
        answers = {FALLBACK_LANGUAGE: answer_raw}
    elif isinstance(answer_raw, dict):
        answers = {str(k): str(v or "").strip() for k, v in answer_raw.items() if k != "__line__"}
    else:
        raise KBError(path, line, f"article '{article_id}': 'answer' must map language -> text")
    tags = raw.get("tags") or []
    if not isinstance(tags, list):
        raise KBError(path, line, f"article '{article_id}': 'tags' must be a list")
    return Article(
        id=article_id.strip(),
        tags=tuple(str(t) for t in tags),
        questions=questions,
        answers=answers,
        links=tuple(_parse_link(path, line, article_id, link) for link in raw.get("links") or []),
        source=str(path),
        line=line,
    )


def _parse_link(path: Path, line: int, article_id: str, raw: Any) -> Link:
    if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
        raise KBError(path, line, f"article '{article_id}': each link needs a 'url'")
    title = raw.get("title")
    if isinstance(title, dict):
        titles = {str(k): str(v) for k, v in title.items() if k != "__line__"}
    elif isinstance(title, str):
        titles = {FALLBACK_LANGUAGE: title}
    else:
        titles = {}
    return Link(url=raw["url"], titles=titles)
