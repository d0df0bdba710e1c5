"""The officers' pages: their blueprints, the stylesheet, CSRF tokens, security headers, and the
few words and formats every page shares (Vietnamese first, English beside it in small type).

Server-rendered HTML and no scripts at all, so the Content-Security-Policy forbids every script.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, Flask, render_template, request, session
from markupsafe import Markup
from werkzeug.wrappers import Response

from appliance.domain.protocol import PREFIX

# Vietnam keeps one offset all year: times and "today" are the commune's, not the server's.
LOCAL_TZ = timezone(timedelta(hours=7), "ICT")
SESSION_LIFETIME = timedelta(hours=12)
CSRF_FIELD, CSRF_KEY = "csrf_token", "csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BLUEPRINTS = frozenset({"officers", "inbox", "fleet", "pages_view"})
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
STATUS_LABELS = {
    "draft": ("Nháp", "Draft"),
    "queued": ("Chờ gửi tại thôn", "Queued at the hamlet"),
    "sent": ("Chờ tiếp nhận", "Awaiting receipt"),
    "received": ("Đã tiếp nhận", "Received"),
    "processing": ("Đang giải quyết", "In progress"),
    "needs_more": ("Chờ bổ sung giấy tờ", "More papers asked for"),
    "done": ("Đã có kết quả", "Result ready"),
    "returned": ("Đã trả kết quả", "Handed over"),
    "rejected": ("Từ chối tiếp nhận", "Refused"),
    "withdrawn": ("Người dân đã rút", "Withdrawn"),
}

ui = Blueprint("officer_ui", __name__, static_folder="static", static_url_path="/static")


def register(app: Flask) -> None:
    """Everything the officers see, added to the upstream's app (the device API is left alone)."""
    from upstream import fleet, inbox, officers, pages_view  # they build on this module

    app.config.update(
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    officers.init_app(app)
    for blueprint in (ui, inbox.bp, fleet.bp, pages_view.bp):
        app.register_blueprint(blueprint)
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.jinja_env.filters.update(
        both=both, moment=moment, day=day, span=span, ago=ago, size=size, status=status_label
    )
    app.context_processor(lambda: {"officer": officers.current_officer()})
    app.before_request(check_csrf)
    app.after_request(security_headers)


def page(template: str, status: int = 200, /, **context: object) -> Response:
    """A rendered page for one officer: never kept by a browser or a proxy."""
    response = Response(render_template(template, **context), status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def message_page(status: int, title: str, text: str) -> Response:
    return page("message.html", status, title=title, text=text)


def csrf_token() -> str:
    """This session's token, made on first use."""
    value = session.get(CSRF_KEY)
    if not isinstance(value, str) or not value:
        value = secrets.token_urlsafe(32)
        session[CSRF_KEY] = value
    return value


def csrf_field() -> Markup:
    """`{{ csrf_field() }}` inside every POST form."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf_token())


def check_csrf() -> Response | None:
    """A POST to an officer page without this session's token is refused: another site cannot
    make a logged-in officer's browser act on a dossier."""
    if request.method not in UNSAFE_METHODS or request.blueprint not in BLUEPRINTS:
        return None
    expected, sent = session.get(CSRF_KEY), request.form.get(CSRF_FIELD, "")
    if isinstance(expected, str) and expected and hmac.compare_digest(sent, expected):
        return None
    return message_page(
        400,
        "Phiên làm việc đã hết hạn / The session has expired",
        "Biểu mẫu đã cũ hoặc không gửi từ trang này. Hãy mở lại trang và làm lại. / "
        "The form was old or not sent from this site. Open the page again and retry.",
    )


def security_headers(response: Response) -> Response:
    """No scripts, no framing, no referrer; officer pages hold personal data, so are not stored."""
    if request.path.startswith(PREFIX + "/"):
        return response
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def both(vi: str, en: str) -> Markup:
    """Vietnamese, with the English beside it in smaller type."""
    return Markup('{} <small class="en" lang="en">{}</small>').format(vi, en)


def status_label(status: str) -> Markup:
    vi, en = STATUS_LABELS.get(status, (status, status))
    return both(vi, en)


def moment(value: datetime | str | None) -> str:
    """A time as the commune reads it: 05/03/2025 14:30 (an ISO text with its offset too)."""
    if isinstance(value, str):
        try:
            return moment(datetime.fromisoformat(value))
        except ValueError:
            return value
    if value is None:
        return "—"
    if value.tzinfo is None:  # not from our tables, which keep aware times
        return value.strftime("%d/%m/%Y %H:%M")
    return value.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def day(value: date | str | None) -> str:
    """A date as 05/03/2025; a text that is not an ISO date is shown as it is."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return "—" if value is None else value.strftime("%d/%m/%Y")


def _units(seconds: float) -> tuple[str, str]:
    whole = max(0, int(seconds))
    for limit, vi, en in ((86400, "ngày", "d"), (3600, "giờ", "h"), (60, "phút", "min")):
        if whole >= limit:
            return f"{whole // limit} {vi}", f"{whole // limit} {en}"
    return f"{whole} giây", f"{whole} s"


def span(seconds: float | None) -> Markup | str:
    """A length of time in plain words: "3 giờ"."""
    return "—" if seconds is None else both(*_units(seconds))


def ago(seconds: float | None) -> Markup | str:
    """How long ago: "vừa xong" under a minute, else "5 phút trước"."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return both("vừa xong", "just now")
    vi, en = _units(seconds)
    return both(f"{vi} trước", f"{en} ago")


def size(count: int | None) -> str:
    """Bytes as people read them, with the Vietnamese decimal comma: "1,2 GB"."""
    if count is None:
        return "—"
    amount = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            break
        amount /= 1024
    text = f"{amount:.0f}" if unit == "B" or amount >= 100 else f"{amount:.1f}"
    return f"{text.replace('.', ',')} {unit}"
