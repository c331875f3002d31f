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
from handoff.helpcentre.language import LANGUAGE_NAMES
from handoff.helpcentre.search import Result
from handoff.helpcentre.texts import HelpTexts
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

    texts: HelpTexts
    language: str
    title: str
    path: str  # this page's path, for the language switcher
    query: str = ""  # the search, kept when the language changes

    def say(self, key: str, **values: object) -> str:
        """The text `key` in this page's language."""
        return self.texts.say(key, self.language, **values)

    def category_name(self, category: str) -> str:
        """The name of a KB file's category in this page's language."""
        return self.texts.category_name(category, self.language)

    def render(self, main: str) -> str:
        lang = self.language
        return (
            "<!doctype html>\n"
            f'<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(self.title)} · {esc(self.say('site_title'))}</title>\n"
            '<link rel="stylesheet" href="/static/help.css">\n'
            "</head>\n<body>\n"
            '<header class="top">\n'
            f'<a class="brand" href="{url("/help", lang=lang)}">'
            f"{esc(self.say('site_title'))}</a>\n"
            f"{self._switcher()}"
            "</header>\n"
            f'<main id="main">\n{self._search_form()}{main}</main>\n'
            '<footer class="bottom">'
            f'<a href="/">{esc(self.say("ask_assistant"))}</a>'
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
        label = esc(self.say("language_switcher"))
        return f'<nav class="languages" aria-label="{label}"><ul>{"".join(items)}</ul></nav>\n'

    def _search_form(self) -> str:
        lang = self.language
        return (
            '<form class="search" role="search" action="/help" method="get">'
            f'<label for="q">{esc(self.say("search_label"))}</label>'
            '<span class="search-row">'
            f'<input id="q" name="q" type="search" value="{esc(self.query)}" maxlength="200"'
            f' placeholder="{esc(self.say("search_placeholder"))}" autocomplete="off">'
            f'<input type="hidden" name="lang" value="{esc(lang)}">'
            f'<button type="submit">{esc(self.say("search_button"))}</button>'
            "</span></form>\n"
        )


def home_page(kb: KnowledgeBase, texts: HelpTexts, language: str) -> str:
    """Every category with its articles."""
    page = Page(texts, language, texts.say("home_heading", language), "/help")
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
            f'<h3 id="{anchor}">{esc(page.category_name(category.id))}</h3>'
            f"<ul>{links}</ul></section>\n"
        )
    body = "".join(sections) if sections else f'<p class="notice">{esc(page.say("empty_kb"))}</p>\n'
    return page.render(
        f"<h1>{esc(page.say('home_heading'))}</h1>\n"
        f"<h2>{esc(page.say('categories_heading'))}</h2>\n"
        f'<div class="categories">{body}</div>\n'
    )


def results_page(
    kb: KnowledgeBase,
    texts: HelpTexts,
    language: str,
    query: str,
    results: list[Result],
    *,
    semantic_available: bool,
    shortened_to: int | None,
) -> str:
    """The results of `query`, best first, with what the reader should know about them."""
    page = Page(texts, language, query, "/help", query)
    notices = []
    if shortened_to is not None:
        notices.append(page.say("query_shortened", max=shortened_to))
    if not semantic_available:
        notices.append(page.say("semantic_unavailable"))
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
            f'<p class="category-name">{esc(page.category_name(category))}</p>'
            "</li>"
        )
    listing = (
        f'<ol class="results">{"".join(items)}</ol>\n'
        if items
        else f'<p class="empty">{esc(page.say("no_results"))}</p>\n'
    )
    heading = page.say("results_heading", query=query, count=len(results))
    return page.render(
        f"<h1>{esc(heading)}</h1>\n"
        + "".join(f'<p class="notice" role="status">{esc(n)}</p>\n' for n in notices)
        + listing
    )


def article_page(
    kb: KnowledgeBase,
    texts: HelpTexts,
    article: Article,
    language: str,
    *,
    token: str,
    voted: bool,
) -> str:
    """One article: its answer in `language`, its links, its category, "was this helpful?"."""
    path = article_path(article.id)
    title = title_of(article, language)
    page = Page(texts, language, title, path)
    category = kb.category_of[article.id]
    category_link = url("/help", lang=language) + esc(f"#category-{category}")
    paragraphs = "".join(
        f"<p>{esc(line)}</p>" for line in article.answer_in(language).splitlines() if line.strip()
    )
    links = _links(page, article)
    others = [
        a for c in kb.categories if c.id == category for a in c.articles if a.id != article.id
    ]
    more = "".join(
        f'<li><a href="{url(article_path(a.id), lang=language)}">{esc(title_of(a, language))}</a></li>'
        for a in others
    )
    return page.render(
        f'<nav class="crumbs" aria-label="{esc(page.say("category_label"))}">'
        f'<a href="{url("/help", lang=language)}">{esc(page.say("home_link"))}</a>'
        f' › <a href="{category_link}">{esc(page.category_name(category))}</a></nav>\n'
        f'<article class="article"><h1>{esc(title)}</h1>\n'
        f'<div class="answer">{paragraphs}</div>\n{links}</article>\n'
        f"{_feedback(page, article, token, voted)}"
        + (
            f'<section class="more"><h2>{esc(page.say("more_in_category"))}</h2>'
            f"<ul>{more}</ul></section>\n"
            if more
            else ""
        )
    )


def not_found_page(texts: HelpTexts, language: str) -> str:
    page = Page(texts, language, texts.say("not_found_title", language), "/help")
    return page.render(
        f"<h1>{esc(page.say('not_found_title'))}</h1>\n"
        f"<p>{esc(page.say('not_found_body'))}</p>\n"
        f'<p><a href="{url("/help", lang=language)}">{esc(page.say("home_link"))}</a></p>\n'
    )


def _links(page: Page, article: Article) -> str:
    items = []
    for link in article.links:
        title = esc(link.title_in(page.language))
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
        f'<section class="links"><h2>{esc(page.say("links_heading"))}</h2>'
        f"<ul>{''.join(items)}</ul></section>\n"
    )


def _feedback(page: Page, article: Article, token: str, voted: bool) -> str:
    heading = esc(page.say("helpful_question"))
    if voted:
        body = f'<p class="thanks" role="status">{esc(page.say("feedback_thanks"))}</p>'
    else:
        body = (
            f'<form method="post" action="{esc(article_path(article.id))}/feedback">'
            f'<input type="hidden" name="token" value="{esc(token)}">'
            f'<input type="hidden" name="lang" value="{esc(page.language)}">'
            f'<button type="submit" name="verdict" value="helpful">'
            f"{esc(page.say('helpful_yes'))}</button>"
            f'<button type="submit" name="verdict" value="not_helpful">'
            f"{esc(page.say('helpful_no'))}</button>"
            "</form>"
        )
    return (
        f'<section class="feedback" id="feedback" aria-labelledby="feedback-heading">'
        f'<h2 id="feedback-heading">{heading}</h2>{body}</section>\n'
    )
