"""Status lookup for residents: receipt code + the last 4 digits of the phone, rate-limited.

The receipt's QR opens `/tra-cuu?ma=CODE`, so the code is already filled in and the resident types
only the four digits. A wrong code and wrong digits get the same answer (the store takes the same
path for both), and each phone address may try LIMIT times per WINDOW_S: four digits are guessable
otherwise. The limiter lives in app.extensions, so tests put one with a fake clock in its place.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, current_app, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response

from appliance.domain.dossier import ReceiptCodeError, normalize_receipt_code
from appliance.ratelimit import RateLimiter
from appliance.receipts import local_time
from appliance.store.dossiers import StatusSummary
from appliance.store.feedback_repo import OPEN, FeedbackRepo
from web import page_edit
from web.context import catalog, services
from web.errors import too_many
from web.headers import no_store
from web.i18n import _, current_lang
from web.wording import said, status_label

EXTENSION = "hamletbox.lookup_limit"
LIMIT = 10
WINDOW_S = 600.0
CODE_MAX = 40  # characters kept of a typed code; real ones are about ten
FOUR_DIGITS = re.compile(r"\d{4}")

bp = Blueprint("lookup", __name__)


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    state.app.extensions.setdefault(EXTENSION, RateLimiter(LIMIT, WINDOW_S))


def limiter() -> RateLimiter:
    found: RateLimiter = current_app.extensions[EXTENSION]
    return found


@bp.get("/tra-cuu")
def form() -> Response:
    return _page(code=request.args.get("ma", "")[:CODE_MAX].strip())


@bp.post("/tra-cuu")
def check() -> Response:
    code = request.form.get("ma", "")[:CODE_MAX].strip()
    digits = "".join(request.form.get("so", "").split())
    if not code:
        return _page(code, digits, _("Hãy nhập mã biên nhận, in trên giấy biên nhận."), 400)
    if not FOUR_DIGITS.fullmatch(digits):
        return _page(code, digits, _("Hãy nhập đúng 4 chữ số cuối của số điện thoại."), 400)
    try:
        code = normalize_receipt_code(code)
    except ReceiptCodeError as exc:  # the form of a code is public: saying so reveals nothing
        return _page(code, digits, said(exc), 400)
    client = request.remote_addr or ""
    if not limiter().allow(client):
        return _too_many(limiter().retry_after(client))
    found = page_edit.intake().lookup(code, digits)
    if found is None:
        message = _(
            "Không tìm thấy hồ sơ với mã và 4 số này. Hãy xem lại mã trên giấy biên nhận "
            "và 4 số cuối của số điện thoại đã đăng ký."
        )
        return _page(code, digits, message, 200)
    return _page(code, digits, None, 200, found)


def _page(
    code: str,
    digits: str = "",
    problem: str | None = None,
    status: int = 200,
    found: StatusSummary | None = None,
) -> Response:
    html = render_template(
        "lookup.html",
        code=code,
        digits=digits,
        problem=problem,
        result=_result(found) if found is not None else None,
    )
    response = Response(html, status=status, mimetype="text/html")
    return no_store(response)


def _result(found: StatusSummary) -> dict[str, str]:
    """What the resident reads: the status in words, the procedure, and when things happened."""
    procedure = catalog().get(found.procedure_code)
    lang = current_lang()
    return {
        "code": found.receipt_code,
        "status": found.status,
        "label": status_label(found.status),
        "procedure": procedure.name.get(lang) if procedure else found.procedure_code,
        "submitted": _when(found.submitted_at) if found.submitted_at else "",
        "updated": _when(found.updated_at),
        "rate": _rate_link(found),
    }


def _rate_link(found: StatusSummary) -> str:
    """The feedback page, for a returned dossier its owner has not rated yet."""
    if (
        found.status != "returned"
        or FeedbackRepo(services().sessions).standing(found.receipt_code) != OPEN
    ):
        return ""
    return url_for("feedback.form", code=found.receipt_code)


def _when(moment: datetime) -> str:
    return local_time(moment).strftime("%H:%M, %d/%m/%Y")


def _too_many(wait: float) -> Response:
    return too_many(
        wait,
        _("Tạm dừng tra cứu"),
        _("Bạn đã tra cứu quá nhiều lần, vui lòng thử lại sau ít phút."),
    )
