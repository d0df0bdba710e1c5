"""Friendly error pages, in the resident's language, that always lead back home."""

from __future__ import annotations

import math

from flask import Flask, make_response, render_template
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from web.headers import no_store
from web.i18n import _


def error_page(status: int, title: str, message: str, *, search: bool = False) -> Response:
    """An error page; `search` adds the search box (for pages that were not found)."""
    html = render_template("error.html", title=title, message=message, search=search)
    response = make_response(html, status)
    return no_store(response)


def too_many(wait: float, title: str, message: str) -> Response:
    """A rate limit's answer, saying when to come back (Retry-After, whole seconds)."""
    response = error_page(429, title, message)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status == 404:
        return error_page(
            404,
            _("Không tìm thấy trang này"),
            _("Có thể địa chỉ đã gõ sai. Hãy về trang chủ hoặc tìm thủ tục."),
            search=True,
        )
    return error_page(
        status, _("Không thực hiện được yêu cầu"), _("Hãy quay về trang chủ và thử lại.")
    )


def _server_error(_exc: InternalServerError) -> Response:
    """Flask has already logged the traceback; the resident gets a calm page."""
    return error_page(
        500,
        _("Có lỗi xảy ra"),
        _("Hộp gặp lỗi khi mở trang này. Hãy thử lại sau, hoặc hỏi tình nguyện viên."),
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(HTTPException, _http_error)
