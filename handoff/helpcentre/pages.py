"""The help centre's HTML, rendered on the server.

Every string from the KB, the query or the URL reaches the page through `esc` (text and
attribute values alike) or through `url` (which escapes what it builds); the markup around
them is constant. No script runs on these pages and nothing loads from elsewhere: one
stylesheet of ours (/static/help.css), as the gateway's Content-Security-Policy allows.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from common.language import SUPPORTED_LANGUAGES
from handoff.helpcentre.catalog import KnowledgeBase
from handoff.helpcentre.search import Result
from handoff.helpcentre.texts import LANGUAGE_NAMES, category_name, say
from kb_index.articles import Article

SNIPPET_CHARS = 160
# Links in the KB that may be followed from a page: the web, mail, or our own paths.
_LINK_SCHEMES = ("https://", "http://", "mailto:")


def esc(text: object) -> str:
    """`text` safe inside an element or a quoted attribute."""
    return html.escape(str(text), quote=True)


def url(path: str, **query: str) -> str:
    """A path of ours with its query, escaped for an attribute (empty values left out)."""
    kept = {name: value for name, value in query.items() if value}
    return esc(f"{path}?{urlencode(kept)}" if kept else path)


def article_path(article_id: str) -> str:
    return "/help/articles/" + quote(article_id, safe="")


def title_of(article: Article, language: str) -> str:
    """The article's first question in `language`, as a heading (first letter capital)."""
    title = article.title_in(language)
    return title[:1].upper() + title[1:]


@dataclass(frozen=True)
class Page:
    """What every help-centre page has around its content."""

    language: str
    title: str
    path: str  # this page's path, for the language switcher
    query: str = ""  # the search, kept when the language changes

    def render(self, main: str) -> str:
        lang = self.language
        return (
            "<!doctype html>\n"
            f'<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(self.title)} · {esc(say('site_title', lang))}</title>\n"
            '<link rel="stylesheet" href="/static/help.css">\n'
            "</head>\n<body>\n"
            '<header class="top">\n'
            f'<a class="brand" href="{url("/help", lang=lang)}">'
            f"{esc(say('site_title', lang))}</a>\n"
            f"{self._switcher()}"
            "</header>\n"
            f'<main id="main">\n{self._search_form()}{main}</main>\n'
            '<footer class="bottom">'
            f'<a href="/">{esc(say("ask_assistant", lang))}</a>'
            "</footer>\n</body>\n</html>\n"
        )

    def _switcher(self) -> str:
        items = []
        for lang in SUPPORTED_LANGUAGES:
            current = ' aria-current="page"' if lang == self.language else ""
            href = url(self.path, q=self.query, lang=lang)
            items.append(
                f'<li><a href="{href}" lang="{lang}" hreflang="{lang}"{current}>'
                f"{esc(LANGUAGE_NAMES[lang])}</a></li>"
            )
        label = esc(say("language_switcher", self.language))
        return f'<nav class="languages" aria-label="{label}"><ul>{"".join(items)}</ul></nav>\n'

    def _search_form(self) -> str:
        lang = self.language
        return (
            '<form class="search" role="search" action="/help" method="get">'
            f'<label for="q">{esc(say("search_label", lang))}</label>'
            '<span class="search-row">'
            f'<input id="q" name="q" type="search" value="{esc(self.query)}" maxlength="200"'
            f' placeholder="{esc(say("search_placeholder", lang))}" autocomplete="off">'
            f'<input type="hidden" name="lang" value="{esc(lang)}">'
            f'<button type="submit">{esc(say("search_button", lang))}</button>'
            "</span></form>\n"
        )


def home_page(kb: KnowledgeBase, language: str) -> str:
    """Every category with its articles."""
    page = Page(language, say("home_heading", language), "/help")
    sections = []
    for category in kb.categories:
        links = "".join(
            f'<li><a href="{url(article_path(a.id), lang=language)}">'
            f"{esc(title_of(a, language))}</a></li>"
            for a in category.articles
        )
        anchor = esc(f"category-{category.id}")
        sections.append(
            f'<section class="category" aria-labelledby="{anchor}">'
            f'<h3 id="{anchor}">{esc(category_name(category.id, language))}</h3>'
            f"<ul>{links}</ul></section>\n"
        )
    body = (
        "".join(sections)
        if sections
        else f'<p class="notice">{esc(say("empty_kb", language))}</p>\n'
    )
    return page.render(
        f"<h1>{esc(say('home_heading', language))}</h1>\n"
        f"<h2>{esc(say('categories_heading', language))}</h2>\n"
        f'<div class="categories">{body}</div>\n'
    )


def results_page(
    kb: KnowledgeBase,
    language: str,
    query: str,
    results: list[Result],
    *,
    semantic_available: bool,
    shortened_to: int | None,
) -> str:
    """The results of `query`, best first, with what the reader should know about them."""
    page = Page(language, query, "/help", query)
    notices = []
    if shortened_to is not None:
        notices.append(say("query_shortened", language, max=shortened_to))
    if not semantic_available:
        notices.append(say("semantic_unavailable", language))
    items = []
    for result in results:
        article = kb.articles[result.article_id]
        answer = article.answer_in(language)
        snippet = answer if len(answer) <= SNIPPET_CHARS else answer[:SNIPPET_CHARS] + "…"
        category = kb.category_of[article.id]
        items.append(
            "<li>"
            f'<a href="{url(article_path(article.id), lang=language)}">'
            f"{esc(title_of(article, language))}</a>"
            f'<p class="snippet">{esc(snippet)}</p>'
            f'<p class="category-name">{esc(category_name(category, language))}</p>'
            "</li>"
        )
    listing = (
        f'<ol class="results">{"".join(items)}</ol>\n'
        if items
        else f'<p class="empty">{esc(say("no_results", language))}</p>\n'
    )
    heading = say("results_heading", language, query=query, count=len(results))
    return page.render(
        f"<h1>{esc(heading)}</h1>\n"
        + "".join(f'<p class="notice" role="status">{esc(n)}</p>\n' for n in notices)
        + listing
    )


def article_page(
    kb: KnowledgeBase, article: Article, language: str, *, token: str, voted: bool
) -> str:
    """One article: its answer in `language`, its links, its category, "was this helpful?"."""
    path = article_path(article.id)
    title = title_of(article, language)
    page = Page(language, title, path)
    category = kb.category_of[article.id]
    category_link = url("/help", lang=language) + esc(f"#category-{category}")
    paragraphs = "".join(
        f"<p>{esc(line)}</p>" for line in article.answer_in(language).splitlines() if line.strip()
    )
    links = _links(article, language)
    others = [
        a for c in kb.categories if c.id == category for a in c.articles if a.id != article.id
    ]
    more = "".join(
        f'<li><a href="{url(article_path(a.id), lang=language)}">{esc(title_of(a, language))}</a></li>'
        for a in others
    )
    return page.render(
        f'<nav class="crumbs" aria-label="{esc(say("category_label", language))}">'
        f'<a href="{url("/help", lang=language)}">{esc(say("home_link", language))}</a>'
        f' › <a href="{category_link}">{esc(category_name(category, language))}</a></nav>\n'
        f'<article class="article"><h1>{esc(title)}</h1>\n'
        f'<div class="answer">{paragraphs}</div>\n{links}</article>\n'
        f"{_feedback(article, language, token, voted)}"
        + (
            f'<section class="more"><h2>{esc(say("more_in_category", language))}</h2>'
            f"<ul>{more}</ul></section>\n"
            if more
            else ""
        )
    )


def not_found_page(language: str) -> str:
    page = Page(language, say("not_found_title", language), "/help")
    return page.render(
        f"<h1>{esc(say('not_found_title', language))}</h1>\n"
        f"<p>{esc(say('not_found_body', language))}</p>\n"
        f'<p><a href="{url("/help", lang=language)}">{esc(say("home_link", language))}</a></p>\n'
    )


def _links(article: Article, language: str) -> str:
    items = []
    for link in article.links:
        title = esc(link.title_in(language))
        target = link.url.strip()
        if target.startswith(_LINK_SCHEMES) or (
            target.startswith("/") and not target.startswith("//")
        ):
            items.append(f'<li><a href="{esc(target)}" rel="noopener noreferrer">{title}</a></li>')
        else:  # javascript:, data: and the like are never made into links
            items.append(f"<li>{title}</li>")
    if not items:
        return ""
    return (
        f'<section class="links"><h2>{esc(say("links_heading", language))}</h2>'
        f"<ul>{''.join(items)}</ul></section>\n"
    )


def _feedback(article: Article, language: str, token: str, voted: bool) -> str:
    heading = esc(say("helpful_question", language))
    if voted:
        body = f'<p class="thanks" role="status">{esc(say("feedback_thanks", language))}</p>'
    else:
        body = (
            f'<form method="post" action="{esc(article_path(article.id))}/feedback">'
            f'<input type="hidden" name="token" value="{esc(token)}">'
            f'<input type="hidden" name="lang" value="{esc(language)}">'
            f'<button type="submit" name="verdict" value="helpful">'
            f"{esc(say('helpful_yes', language))}</button>"
            f'<button type="submit" name="verdict" value="not_helpful">'
            f"{esc(say('helpful_no', language))}</button>"
            "</form>"
        )
    return (
        f'<section class="feedback" id="feedback" aria-labelledby="feedback-heading">'
        f'<h2 id="feedback-heading">{heading}</h2>{body}</section>\n'
    )
