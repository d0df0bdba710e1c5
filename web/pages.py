"""Rendered pages kept in memory, plain and gzipped, for as long as the catalog does not change.

A cached page's HTML depends only on its path (or search query), the language, the catalog
(immutable per version) and the frozen settings, so the home, procedure and welcome pages and recent
searches are rendered and compressed once per catalog version and language, with every header they
are sent with. A new catalog object from the CatalogSource empties the cache; the least recently
used page goes when it is full. web/fastpath.py serves these pages without entering Flask.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request
from werkzeug.http import parse_etags
from werkzeug.wrappers import Response

from web.compress import accepts_gzip, gzip_bytes
from web.headers import SECURITY_HEADERS, Prepared
from web.i18n import current_lang

EXTENSION = "hamletbox.pages"
HTML = "text/html; charset=utf-8"
NOT_MODIFIED_DROPS = frozenset({"Content-Type", "Content-Encoding"})

Headers = tuple[tuple[str, str], ...]
Key = tuple[str, str, str]  # ("path", path, language) or ("search", query, language)
MAX_PAGES = 256  # about 2 MB at most: every catalog page in both languages, and recent searches


@dataclass(frozen=True)
class Variant:
    """One encoding of a page: its body and every header it is sent with."""

    body: bytes
    etag: str
    headers: Headers
    not_modified_headers: Headers

    @classmethod
    def of(cls, body: bytes, etag: str, encoding: str | None) -> Variant:
        headers = (
            ("Content-Type", HTML),
            *((("Content-Encoding", encoding),) if encoding else ()),
            # The language may come from the cookie, so the page is checked again each time.
            ("Vary", "Accept-Encoding, Cookie"),
            ("Cache-Control", "no-cache"),
            ("ETag", f'"{etag}"'),
            *SECURITY_HEADERS,
        )
        kept = tuple((k, v) for k, v in headers if k not in NOT_MODIFIED_DROPS)
        return cls(body, etag, headers, kept)

    def answer(self, if_none_match: str | None) -> tuple[int, Headers, bytes]:
        """Status, headers and body; a phone that already has this version gets a bodiless 304."""
        if if_none_match and parse_etags(if_none_match).contains_weak(self.etag):
            return 304, self.not_modified_headers, b""
        return 200, (*self.headers, ("Content-Length", str(len(self.body)))), self.body


@dataclass(frozen=True)
class Page:
    plain: Variant
    gzipped: Variant

    @classmethod
    def of(cls, html: str) -> Page:
        body = html.encode("utf-8")
        etag = hashlib.sha256(body).hexdigest()[:16]
        return cls(Variant.of(body, etag, None), Variant.of(gzip_bytes(body), f"{etag}-gz", "gzip"))

    def variant(self, accept_encoding: str) -> Variant:
        return self.gzipped if accepts_gzip(accept_encoding) else self.plain


class PageCache:
    """Thread-safe: at worst two threads render the same page once each; both results are equal."""

    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self._lock = threading.Lock()
        self._max = max_pages
        self._version: object = None
        self._pages: OrderedDict[Key, Page] = OrderedDict()

    def get(self, version: object, key: Key, render: Callable[[], str]) -> Page:
        """The page for `key` under this catalog `version` (compared by identity), rendered once."""
        page = self.peek(version, key)
        if page is None:
            page = Page.of(render())
            with self._lock:
                if version is not self._version:
                    self._version, self._pages = version, OrderedDict()
                self._pages[key] = page
                if len(self._pages) > self._max:
                    self._pages.popitem(last=False)
        return page

    def peek(self, version: object, key: Key) -> Page | None:
        """The page if it is cached for this very catalog version; never renders."""
        with self._lock:
            page = self._pages.get(key) if version is self._version else None
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def __len__(self) -> int:
        return len(self._pages)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = PageCache()


def cached_page(
    version: object, render: Callable[[], str], *, search: str | None = None
) -> Response:
    """This request's page from the cache, rendering it if needed; keyed by the path and language,
    or for the search page by the (cleaned) query and language."""
    cache: PageCache = current_app.extensions[EXTENSION]
    lang = current_lang()
    key = ("path", request.path, lang) if search is None else ("search", search, lang)
    page = cache.get(version, key, render)
    env = request.environ
    variant = page.variant(env.get("HTTP_ACCEPT_ENCODING", ""))
    status, headers, body = variant.answer(env.get("HTTP_IF_NONE_MATCH"))
    return Prepared(body, status, headers)
