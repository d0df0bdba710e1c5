"""Serve already-rendered pages straight from the page cache, without entering Flask.

On a Pi, Flask's per-request machinery costs more than sending a cached page. A plain GET for a
page in the cache, for the box's own host name, without a session cookie and with no query other
than `lang=`, gets exactly the answer the Flask view would give (tests/web/test_fastpath.py checks
that); every other request goes to Flask untouched. The cache is only filled by Flask views, so a
page is first rendered there.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.http import parse_cookie

from web.context import EXTENSION as SERVICES
from web.i18n import COOKIE, pick_lang
from web.pages import EXTENSION as PAGES
from web.pages import PageCache, Variant
from web.portal import EXTENSION as PORTAL
from web.portal import Portal

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from appliance.services import Services

LANG_QUERIES = {"": None, "lang=vi": "vi", "lang=en": "en"}


class FastPages:
    """WSGI middleware in front of the Flask app (`app.wsgi_app = FastPages(app, app.wsgi_app)`)."""

    def __init__(self, app: Flask, wsgi: WSGIApplication) -> None:
        self.wsgi = wsgi
        self._cache: PageCache = app.extensions[PAGES]
        self._services: Services = app.extensions[SERVICES]
        self._portal: Portal = app.extensions[PORTAL]
        self._session_cookie: str = app.config["SESSION_COOKIE_NAME"]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        variant = self._variant(environ)
        if variant is None:
            return self.wsgi(environ, start_response)
        status, headers, body = variant.answer(environ.get("HTTP_IF_NONE_MATCH"))
        start_response(f"{status} {HTTPStatus(status).phrase}", list(headers))
        return [body]

    def _variant(self, environ: WSGIEnvironment) -> Variant | None:
        """The cached answer for this request, or None when Flask must handle it."""
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        query = environ.get("QUERY_STRING", "")
        if query not in LANG_QUERIES:
            return None
        cookies = _cookies(environ)
        if self._session_cookie in cookies:
            return None
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        if not self._portal.is_box(host, environ.get("SERVER_NAME", "")):
            return None
        lang = pick_lang(LANG_QUERIES[query], cookies.get(COOKIE))
        key = ("path", environ.get("PATH_INFO", ""), lang)
        page = self._cache.peek(self._services.catalog.current(), key)
        return None if page is None else page.variant(environ.get("HTTP_ACCEPT_ENCODING", ""))


def _cookies(environ: WSGIEnvironment) -> dict[str, str]:
    raw = environ.get("HTTP_COOKIE")
    return dict(parse_cookie(raw)) if raw else {}


def install(app: Flask) -> None:
    app.wsgi_app = FastPages(app, app.wsgi_app)  # type: ignore[method-assign]
