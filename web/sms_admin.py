"""The technician's SMS page: the modem's state, the templates per event and language with their
cost in parts, what was sent, and what waits or was stopped (with "send again").

Like the other technician pages it is written in both languages at once: the district's
technician may read either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from appliance.domain import notify
from appliance.domain.sms import Segmentation
from appliance.relay.modem_status import ModemReport, read_status
from appliance.store.sms_repo import SmsRepo
from web.auth import current_user, protect
from web.context import services, settings
from web.station_queue import clock

bp = Blueprint("sms", __name__, url_prefix="/tech/sms")
protect(bp, "technician")
RECENT = 50
EVENT_NAMES = {
    "receipt": ("Biên nhận hồ sơ", "Receipt"),
    "received": ("Xã tiếp nhận", "Accepted by the commune"),
    "needs_more": ("Cần bổ sung giấy tờ", "More papers needed"),
    "rejected": ("Không được tiếp nhận", "Refused"),
    "done": ("Đã có kết quả", "Result ready"),
    "booking": ("Đặt lịch hỗ trợ", "Help slot booked"),
    "reminder": ("Nhắc lịch hỗ trợ", "Help slot reminder"),
}
LANG_NAMES = {"vi": "Tiếng Việt", "en": "English"}
SIM_WORDS = {
    "ready": "sẵn sàng / ready",
    "pin": "cần mã PIN / PIN needed",
    "puk": "bị khóa, cần mã PUK / locked, PUK needed",
    "absent": "chưa lắp SIM / no SIM",
    "error": "SIM lỗi / SIM failure",
    "unknown": "không rõ / unknown",
}
REGISTRATION_WORDS = {
    "home": "đã vào mạng / on the network",
    "roaming": "đang chuyển vùng / roaming",
    "searching": "đang tìm mạng / searching",
    "denied": "mạng từ chối SIM / the network refused the SIM",
    "not_registered": "chưa vào mạng / not on a network",
    "unknown": "không rõ / unknown",
}


@dataclass(frozen=True)
class TemplateView:
    """One (event, lang) box on the page: the text in the field and what it costs."""

    event: str
    lang: str
    text: str
    custom: bool  # a technician's wording, not the built-in one
    preview: str
    segmentation: Segmentation | None  # None when the text in the field cannot be rendered
    problems: tuple[str, ...] = ()

    @property
    def anchor(self) -> str:
        return f"mau-{self.event}-{self.lang}"


def repo() -> SmsRepo:
    return SmsRepo(services().sessions)


def _now() -> datetime:
    return datetime.now(UTC)


def _view(event: str, lang: str, text: str, custom: bool, problems: list[str]) -> TemplateView:
    if problems:
        return TemplateView(event, lang, text, custom, "", None, tuple(problems))
    shown, parts = notify.preview(event, text, lang, settings().sms.unaccented)
    return TemplateView(event, lang, text, custom, shown, parts)


def _templates(edited: TemplateView | None = None) -> list[TemplateView]:
    saved = repo().templates()
    views = []
    for event in notify.EVENTS:
        for lang in notify.LANGS:
            if edited is not None and (edited.event, edited.lang) == (event, lang):
                views.append(edited)
                continue
            text = saved.get((event, lang))
            views.append(_view(event, lang, text or notify.builtin(event, lang), bool(text), []))
    return views


def _page(edited: TemplateView | None = None, status: int = 200) -> tuple[str, int]:
    items = repo()
    report = read_status(settings().runtime_dir)
    html = render_template(
        "technician/sms.html",
        modem=report,
        modem_age=_age(report),
        modem_stale=_stale(report),
        modem_configured=bool(settings().modem.url),
        templates=_templates(edited),
        sent=items.recent_sent(RECENT),
        waiting=items.listed(("pending", "in_flight")),
        stopped=items.listed(("unsure", "rejected")),
        event_names=EVENT_NAMES,
        lang_names=LANG_NAMES,
        placeholders=notify.PLACEHOLDERS,
        masked=masked,
        parts_label=parts_label,
        clock=clock,
        signal_words=signal_words,
        sim_words=SIM_WORDS,
        registration_words=REGISTRATION_WORDS,
    )
    return html, status


@bp.get("/")
def page() -> tuple[str, int]:
    return _page()


@bp.post("/mau/<event>/<lang>")
def save(event: str, lang: str) -> Response | tuple[str, int]:
    """Save a wording (or only preview it); a wording with a problem is shown with the problem
    and nothing is saved."""
    _check(event, lang)
    text = request.form.get("text", "").replace("\r\n", "\n")
    problems = notify.check_template(event, text)
    if problems or request.form.get("action") == "preview":
        return _page(_view(event, lang, text, True, problems), 422 if problems else 200)
    repo().save_template(event, lang, text, _who(), _now())
    return _back(event, lang)


@bp.post("/mau/<event>/<lang>/mac-dinh")
def reset(event: str, lang: str) -> Response:
    _check(event, lang)
    repo().reset_template(event, lang)
    return _back(event, lang)


@bp.post("/gui-lai/<int:item_id>")
def send_again(item_id: int) -> Response:
    """Only for an unsure or refused message: a technician's explicit choice to send it again."""
    if not repo().send_again(item_id, _now(), _who()):
        abort(409)
    return redirect(url_for("sms.page") + "#dung", 303)


def _who() -> str:
    user = current_user()
    return f"{user.role}:{user.name}" if user else "technician"


def _check(event: str, lang: str) -> None:
    if event not in notify.EVENTS or lang not in notify.LANGS:
        abort(404)


def _back(event: str, lang: str) -> Response:
    return redirect(url_for("sms.page") + f"#mau-{event}-{lang}", 303)


def masked(number: str) -> str:
    """ "0912 *** 678": enough to tell two residents apart, not enough to call one."""
    if len(number) < 7:
        return "***"
    return f"{number[:4]} *** {number[-3:]}"


def parts_label(parts: Segmentation) -> str:
    count = parts.parts
    if parts.encoding == "ucs2":
        return f"{count} tin nhắn · Unicode (có dấu) / {count} SMS · Unicode (accented)"
    return f"{count} tin nhắn · không dấu / {count} SMS · unaccented (GSM-7)"


def signal_words(dbm: int | None) -> str:
    if dbm is None:
        return "không rõ / unknown"
    if dbm >= -73:
        return f"mạnh / strong ({dbm} dBm)"
    if dbm >= -93:
        return f"vừa / fair ({dbm} dBm)"
    return f"yếu / weak ({dbm} dBm)"


def _age(report: ModemReport | None) -> str | None:
    if report is None or report.checked_at is None:
        return None
    seconds = max(0, int((_now() - report.checked_at).total_seconds()))
    if seconds < 120:
        return f"{seconds} giây trước / {seconds} s ago"
    return f"{seconds // 60} phút trước / {seconds // 60} min ago"


def _stale(report: ModemReport | None) -> bool:
    """Older than three status rounds: the relay is probably not running."""
    if report is None or report.checked_at is None:
        return True
    limit = 3 * settings().modem.status_seconds
    return (_now() - report.checked_at).total_seconds() > limit
