"""CSRF tokens: every POST, PUT, PATCH or DELETE must carry this session's token.

A page on another site (or a link in a chat) cannot make a phone or the station act on the box:
it cannot read the token. The token lives in the session, so a page showing it is never a cached
page (web/pages.py serves one copy to everybody); a tripwire below fails loudly if one tries, and
makes every page with a token `Cache-Control: no-store`.
Reading pages needs no token, so residents browsing the catalog still get no session cookie.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, g, render_template, request, session
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

from web.headers import no_store
from web.i18n import safe_next

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"  # for fetch() calls, which send no form
SESSION_KEY = "csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ISSUED = "csrf_issued"


def token() -> str:
    """This session's token, made on first use (which starts the session cookie)."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, str) or not value:
        value = secrets.token_urlsafe(32)
        session[SESSION_KEY] = value
    setattr(g, ISSUED, True)
    return value


def csrf_field() -> Markup:
    """The hidden input every form on the box carries: `{{ csrf_field() }}` inside <form>."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, token())


def valid(sent: str) -> bool:
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not expected or not sent:
        return False
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


def check_request() -> Response | None:
    """A before_request hook: a state-changing request without this session's token is refused.

    The header is looked at first, so a fetch() upload is not parsed as a form just for this.
    """
    if request.method not in UNSAFE_METHODS:
        return None
    if valid(request.headers.get(HEADER, "") or request.form.get(FIELD, "")):
        return None
    current_app.logger.info("CSRF token missing or wrong: %s %s", request.method, request.path)
    return expired_page()


def expired_page() -> Response:
    """Most often the session ran out while a form stayed open: say so, and offer a fresh copy."""
    html = render_template("csrf_expired.html", back=_form_page())
    response = Response(html, status=400, mimetype="text/html")
    return no_store(response)


def _form_page() -> str:
    """Where the form probably came from: the nearest path at or above this one that answers GET
    (`/portal/accept` -> `/portal`), with its query when it is this very path (keeps `?next=`)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    path = request.path
    while path not in ("", "/"):
        try:
            adapter.match(path, method="GET")
        except RequestRedirect:
            pass
        except HTTPException:
            path = path.rsplit("/", 1)[0]
            continue
        query = request.query_string.decode("latin-1")
        return safe_next(f"{path}?{query}" if path == request.path and query else path)
    return "/"


def _token_pages_stay_private(response: Response) -> Response:
    """A page showing a token is this session's alone: never stored by a browser or a proxy, and
    never a page of the shared cache (those carry an ETag), which would give one token to all."""
    if not g.get(ISSUED):
        return response
    caching = response.headers.get("Cache-Control")
    if "ETag" in response.headers or (caching is not None and "no-store" not in caching):
        raise RuntimeError(f"{request.path}: a cached or cacheable page rendered csrf_field()")
    return no_store(response)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.before_request(check_request)
    app.after_request(_token_pages_stay_private)
