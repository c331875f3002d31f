"""A host site for the browser tests of the embedded widget: a shop's page, on an origin of
its own (another port is another origin), that embeds the chat with /static/embed.js the
way a customer's site would. Each test module says which of the page's query parameters
become attributes of the embed tag, and may give the page a stylesheet of its own."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.e2e.isolated import free_port


class _Shop(ThreadingHTTPServer):
    """The server, holding what every page it serves shares."""

    def __init__(self, attributes: Mapping[str, str], style: str) -> None:
        super().__init__(("127.0.0.1", free_port()), _ShopPage)
        self.attributes = attributes
        self.style = style


class _ShopPage(BaseHTTPRequestHandler):
    """/?gateway=…&…: the shop's page, its embed tag loading the widget from `gateway`."""

    def do_GET(self) -> None:
        shop = self.server
        assert isinstance(shop, _Shop)
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path != "/" or "gateway" not in query:
            self.send_error(404)  # the browser's favicon request, say
            return
        attributes = "".join(
            f' data-{name}="{html.escape(query[key])}"'
            for key, name in shop.attributes.items()
            if key in query
        )
        language = html.escape(query.get("lang", "en"))
        body = (
            f"<!doctype html><html lang='{language}'><head><meta charset='utf-8'>"
            f"<title>A shop</title><style>{shop.style}</style></head>"
            "<body><main><h1>A shop</h1><p>Shoes, bags and more.</p></main>"
            f"<script src='{html.escape(query['gateway'])}/static/embed.js' async{attributes}>"
            "</script></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no request log in the test output


@contextmanager
def shop_site(attributes: Mapping[str, str], style: str = "") -> Iterator[str]:
    """Serve the shop's page until the block ends; yields its origin. `attributes` maps a
    query parameter to the embed tag's attribute it becomes (e.g. "lang" -> "language"
    gives data-language); `style` is the page's own CSS."""
    server = _Shop(attributes, style)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
