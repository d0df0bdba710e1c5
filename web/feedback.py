"""Residents rate the service once their result was handed back: `/danh-gia/<receipt code>`.

Two steps on one URL: the phone's last 4 digits first (as for the status lookup, and counted by
the lookup's own rate limit, since they guard the same dossiers), then — only for a returned
dossier not rated yet — five big choices and a comment. The SMS link carries `?tu=sms`, the status
page's link nothing; that is the channel recorded with the rating, and nothing else about the
resident is kept.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from appliance.domain.dossier import ReceiptCodeError, normalize_receipt_code
from appliance.store.feedback_repo import (
    NOT_RETURNED,
    RATED,
    FeedbackError,
    FeedbackRepo,
    Rating,
    already_rated,
    clean_comment,
    clean_rating,
    not_returned,
)
from web import lookup, page_edit
from web.booking import too_many
from web.context import services
from web.headers import no_store
from web.i18n import _
from web.wording import N_, said

bp = Blueprint("feedback", __name__)
FROM_SMS = "sms"
COMMENT_FIELD_MAX = 4000  # characters looked at; clean_comment refuses more than 1000
RATING_WORDS = (
    (5, N_("Rất hài lòng")),
    (4, N_("Hài lòng")),
    (3, N_("Bình thường")),
    (2, N_("Không hài lòng")),
    (1, N_("Rất không hài lòng")),
)


def repo() -> FeedbackRepo:
    return FeedbackRepo(services().sessions)


@bp.get("/danh-gia/<code>")
def form(code: str) -> Response:
    with suppress(ReceiptCodeError):  # said when the digits are sent; shown as the link held it
        code = normalize_receipt_code(code)
    return _page("digits", code, source=request.args.get("tu", ""))


@bp.post("/danh-gia/<code>")
def rate(code: str) -> Response:
    source = request.form.get("tu", "")
    digits = "".join(request.form.get("so", "")[:20].split())
    try:
        code = normalize_receipt_code(code)
    except ReceiptCodeError as exc:
        return _page("digits", code, source=source, problem=said(exc), status=404)
    if not lookup.FOUR_DIGITS.fullmatch(digits):
        problem = _("Hãy nhập đúng 4 chữ số cuối của số điện thoại.")
        return _page("digits", code, source=source, problem=problem, status=400)
    client = request.remote_addr or ""
    if not lookup.limiter().allow(client):
        return too_many(lookup.limiter().retry_after(client), _("Tạm dừng đánh giá"))
    if page_edit.intake().lookup(code, digits) is None:
        problem = _(
            "Không tìm thấy hồ sơ với mã và 4 số này. Hãy xem lại 4 số cuối của số điện thoại "
            "đã đăng ký."
        )
        return _page("digits", code, source=source, problem=problem)
    return _rate(code, digits, source)


def _rate(code: str, digits: str, source: str) -> Response:
    """The second step: the choices, or what stands in the way, or the rating recorded."""
    standing = repo().standing(code)
    if standing in (NOT_RETURNED, RATED):
        refusal = not_returned() if standing == NOT_RETURNED else already_rated()
        return _page("said", code, message=said(refusal))
    if "diem" not in request.form:
        return _page("rating", code, source=source, digits=digits)
    comment = request.form.get("gop-y", "")[:COMMENT_FIELD_MAX]
    try:
        channel = FROM_SMS if source == FROM_SMS else "status"
        rating = Rating(clean_rating(request.form["diem"]), clean_comment(comment), channel)
        repo().rate(code, rating, datetime.now(UTC))
    except FeedbackError as exc:
        if exc.code in ("rating", "comment_long"):
            return _page(
                "rating",
                code,
                source=source,
                digits=digits,
                problem=said(exc),
                comment=comment,
                status=400,
            )
        return _page("said", code, message=said(exc))
    return _page(
        "said",
        code,
        message=_("Cảm ơn bạn đã đánh giá! Ý kiến của bạn giúp thôn xã phục vụ tốt hơn."),
    )


def _page(
    step: str,
    code: str,
    *,
    source: str = "",
    digits: str = "",
    problem: str | None = None,
    message: str | None = None,
    comment: str = "",
    status: int = 200,
) -> Response:
    html = render_template(
        "feedback/rate.html",
        step=step,
        code=code,
        source=FROM_SMS if source == FROM_SMS else "",
        digits=digits,
        problem=problem,
        message=message,
        comment=comment,
        choices=RATING_WORDS,
    )
    return no_store(Response(html, status=status, mimetype="text/html"))
