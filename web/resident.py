"""What residents see on their phones: the procedures, what to bring, where to go, and search."""

from __future__ import annotations

import unicodedata

from flask import Blueprint, abort, redirect, render_template, request
from flask import url_for as flask_url_for
from werkzeug.wrappers import Response

from appliance.domain.catalog import Catalog, Procedure
from web.context import catalog
from web.errors import error_page
from web.headers import no_store
from web.i18n import COOKIE, COOKIE_MAX_AGE, LANGS, _, safe_next
from web.pages import cached_page

MAX_QUERY = 100  # characters kept from a search; the input box allows as many
RAW_QUERY_LIMIT = 1000  # characters looked at before cleaning, however long the URL

bp = Blueprint("resident", __name__)


@bp.get("/")
def home() -> Response:
    current = catalog()
    return cached_page(current, lambda: _render_home(current))


def _render_home(current: Catalog) -> str:
    return render_template("home.html", groups=current.grouped(), here="/")


@bp.get("/p/<code>")
def procedure(code: str) -> Response:
    current = catalog()
    found = current.get(code)
    if found is None:
        return error_page(
            404,
            _("Không tìm thấy thủ tục này"),
            _("Có thể mã thủ tục đã thay đổi. Hãy tìm lại hoặc xem tất cả thủ tục."),
            search=True,
        )
    return cached_page(current, lambda: _render_procedure(found))


def _render_procedure(found: Procedure) -> str:
    return render_template(
        "procedure.html", p=found, here=flask_url_for(".procedure", code=found.code)
    )


@bp.get("/search")
def search() -> Response:
    raw = request.args.get("q", "")
    if not raw.strip():
        return redirect(flask_url_for(".home"), 302)
    query = clean_query(raw)
    current = catalog()
    return cached_page(current, lambda: _render_search(current, query), search=query)


def _render_search(current: Catalog, query: str) -> str:
    results = current.search(query) if query else []
    here = flask_url_for(".search", q=query)
    return render_template("search.html", query=query, results=results, here=here)


def clean_query(raw: str) -> str:
    """What a resident meant to search for: NFC text without control, format or private-use
    characters (NUL, RTL marks, U+FFFD from broken UTF-8), single-spaced, at most MAX_QUERY long."""
    text = unicodedata.normalize("NFC", raw[:RAW_QUERY_LIMIT])
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category.startswith("Z") or ch.isspace():
            kept.append(" ")
        elif not category.startswith("C") and ch != "\ufffd":
            kept.append(ch)
    return " ".join("".join(kept).split())[:MAX_QUERY].strip()


@bp.get("/lang/<code>")
def set_lang(code: str) -> Response:
    """The vi/en switch: a plain link that remembers the choice in a cookie and goes back."""
    if code not in LANGS:
        abort(404)
    response = redirect(safe_next(request.args.get("next")), 303)
    response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax")
    return no_store(response)
