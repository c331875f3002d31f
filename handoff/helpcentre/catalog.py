"""The help centre's articles, read from the KB's YAML (data/kb/, kb_index/articles.py) and
re-read when a file changes, so that an edit shows on the next page without a restart.

Each KB file is a category (its name without `.yml`: account, orders, ...), its articles in
file order. Checking for an edit is one `stat` per KB file: cheap, but still file system
work, so callers run `HelpCatalog.current` in a thread, never on the event loop. A broken
edit is logged with its file and line and the last good articles keep being shown, as the
bot's index does (kb_index/retriever.py).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from handoff.helpcentre.fulltext import FullTextIndex
from kb_index.articles import Article, KBError, kb_files, load_file

log = logging.getLogger(__name__)

# What identifies a version of the KB: every file's path, modification time and size.
Snapshot = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Category:
    id: str  # the KB file's name without its suffix
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    """One version of the KB, as the pages read it."""

    categories: tuple[Category, ...] = ()
    articles: dict[str, Article] = field(default_factory=dict)
    category_of: dict[str, str] = field(default_factory=dict)  # article id -> category id
    fulltext: FullTextIndex = field(default_factory=lambda: FullTextIndex([]))


def read_kb(files: list[Path]) -> KnowledgeBase:
    """The categories and articles of `files`; KBError (file and line) if one is unusable.
    An id used twice keeps its first article (validation reports duplicates to designers)."""
    categories: list[Category] = []
    articles: dict[str, Article] = {}
    category_of: dict[str, str] = {}
    for path in files:
        found = [a for a in load_file(path) if a.id not in articles]
        for article in found:
            articles[article.id] = article
            category_of[article.id] = path.stem
        if found:
            categories.append(Category(path.stem, tuple(found)))
    return KnowledgeBase(
        tuple(categories), articles, category_of, FullTextIndex(list(articles.values()))
    )


class HelpCatalog:
    """The articles under `kb_dir`, as of the last call to `current`."""

    def __init__(self, kb_dir: Path) -> None:
        self.kb_dir = kb_dir
        self._kb = KnowledgeBase()
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()  # one reload at a time; readers of a version need none

    def current(self) -> KnowledgeBase:
        """The KB as the files are now (re-read when any was added, removed or changed);
        the last good version while the files are broken. Blocking: call it in a thread."""
        with self._lock:
            try:
                files = kb_files(self.kb_dir)
                snapshot = _snapshot(files)
            except (KBError, OSError) as exc:
                if self._snapshot != ():
                    log.error("help centre: cannot list the knowledge base: %s", exc)
                    self._snapshot = ()
                return self._kb
            if snapshot == self._snapshot:
                return self._kb
            self._snapshot = snapshot
            try:
                fresh = read_kb(files)
            except KBError as exc:
                log.error("help centre: kept the previous articles: %s", exc)
                return self._kb
            log.info(
                "help centre: read %d articles in %d categories",
                len(fresh.articles),
                len(fresh.categories),
            )
            self._kb = fresh
            return fresh


def _snapshot(files: list[Path]) -> Snapshot:
    stats = []
    for path in files:
        stat = path.stat()
        stats.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(stats)
