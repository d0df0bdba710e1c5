"""The station's relay pages: what waits to go to the commune, a dossier's history, results.

Nested under the station blueprint (endpoints `station.queue.*`), so its login check and script
policy cover these pages too. Routes take a receipt code, never a `uuid`: those belong to the
station's drafts. "Send now" only makes waiting items due at once: the relay, which looks each
second, does the sending. The app-wide page for a full card lives here too, since it tells the
volunteer the same thing this page shows: what was saved is safe and will be sent.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from appliance.domain.dossier import DossierError, ReceiptCodeError, normalize_receipt_code
from appliance.receipts import local_time
from appliance.store.blobs import StorageFullError, check_room
from appliance.store.queue_view import QueueView
from appliance.store.results_view import ResultsView
from web.auth import current_user
from web.context import catalog, services, settings
from web.errors import error_page
from web.headers import no_store
from web.i18n import _, current_lang
from web.uplink import detail, headline, read_uplink
from web.wording import N_, said, status_label

bp = Blueprint("queue", __name__)
MB = 1024 * 1024
# (seconds in the unit, one of it, several): "2 giờ trước"; Vietnamese has no plural forms,
# English needs the "one" message apart.
AGO_UNITS = (
    (86400, N_("1 ngày trước"), N_("%(n)s ngày trước")),
    (3600, N_("1 giờ trước"), N_("%(n)s giờ trước")),
    (60, N_("1 phút trước"), N_("%(n)s phút trước")),
)
NOTE_LABELS = {
    "needs_more": N_("Xã cần bổ sung: %(note)s"),
    "rejected": N_("Lý do: %(note)s"),
}
NOTE_LABEL = N_("Ghi chú: %(note)s")  # any other status's note
FROM_HISTORY = "ho-so"  # the hand-over form's `tu` when it sits on the dossier's own page


def view() -> QueueView:
    return QueueView(services().sessions)


def results_view() -> ResultsView:
    return ResultsView(services().sessions)


def _now() -> datetime:
    return datetime.now(UTC)


@bp.app_errorhandler(StorageFullError)
def _storage_full(exc: StorageFullError) -> Response:
    """Any page that runs into a full card (the phone's "start" included) says so plainly."""
    return error_page(507, _("Bộ nhớ của hộp đã đầy"), said(exc))


@bp.context_processor
def _words() -> dict[str, Any]:
    now = _now()
    return {
        "ago": lambda moment: ago(moment, now),
        "clock": clock,
        "day": day,
        "size": size,
        "status_label": status_label,
        "said": said,
        "who": who,
        "note_text": note_text,
        "procedure_name": procedure_name,
        "now": now,
    }


@bp.get("/hang-doi")
def waiting() -> str:
    found = view().waiting()
    return render_template(
        "station/queue.html",
        waiting=[item for item in found if item.stopped is None],
        stopped=[item for item in found if item.stopped is not None],
        recent=view().recent(),
        uplink=read_uplink(settings(), _now()),
        headline=headline,
        detail=detail,
        storage_low=_storage_low(),
    )


@bp.post("/hang-doi/gui-ngay")
def send_now() -> Response:
    result = view().send_now(_now())
    if result.pending:
        flash(_("Hộp sẽ gửi ngay các hồ sơ đang chờ, nếu có kết nối với xã."), "done")
    else:
        flash(_("Không có gì đang chờ gửi."), "done")
    return no_store(redirect(url_for(".waiting"), 303))


@bp.get("/ho-so/<code>")
def history(code: str) -> str:
    found = results_view().history(_canonical(code))
    if found is None:
        abort(404)
    return render_template("station/queue_dossier.html", h=found, d=found.dossier)


@bp.get("/ket-qua")
def results() -> str:
    return render_template("station/handout.html", results=results_view().to_hand_out())


@bp.post("/ket-qua/<code>/da-trao")
def hand_over(code: str) -> Response:
    """done -> returned, once: a second press (or a second station) gets a friendly word."""
    canonical = _canonical(code)
    user = current_user()
    actor = f"{user.role}:{user.name}" if user else "station"
    try:
        done = results_view().hand_over(canonical, actor, _now())
    except DossierError as exc:
        flash(said(exc), "done" if exc.code == "already_returned" else "problem")
    else:
        message = _("Đã ghi nhận: đã trao kết quả hồ sơ %(code)s.", code=done.receipt_code)
        flash(message, "done")
    if request.form.get("tu") == FROM_HISTORY:
        return no_store(redirect(url_for(".history", code=canonical), 303))
    return no_store(redirect(url_for(".results"), 303))


def _canonical(code: str) -> str:
    try:
        return normalize_receipt_code(code)
    except ReceiptCodeError:
        abort(404)


def _storage_low() -> bool:
    try:
        check_room(settings().data_dir, settings().intake.min_free_mb * MB)
    except StorageFullError:
        return True
    return False


def ago(moment: datetime, now: datetime) -> str:
    """How long ago, in the largest whole unit: "2 giờ trước", "vừa xong"."""
    seconds = max(0.0, (now - moment).total_seconds())
    for unit, one, several in AGO_UNITS:
        count = int(seconds // unit)
        if count == 1:
            return _(one)
        if count > 1:
            return _(several, n=count)
    return _("vừa xong")


def clock(moment: datetime) -> str:
    """A stored UTC time as the wall clock in the cultural house shows it."""
    return local_time(moment).strftime("%H:%M %d/%m/%Y")


def day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def size(count: int) -> str:
    """Bytes for people: "350 KB", "1,2 MB" (a decimal comma in Vietnamese)."""
    if count < MB:
        return f"{math.ceil(count / 1024)} KB"
    megabytes = f"{count / MB:.1f}"
    return f"{megabytes if current_lang() == 'en' else megabytes.replace('.', ',')} MB"


def who(actor: str | None) -> str:
    """The commune's decisions come through the relay as actor "commune"; the rest is the box."""
    return _("Xã") if actor == "commune" else _("Trạm")


def note_text(status: str, note: str) -> str:
    """The commune's note, introduced as what it is: papers asked for, or a refusal's reason."""
    return _(NOTE_LABELS.get(status, NOTE_LABEL), note=note)


def procedure_name(code: str) -> str:
    found = catalog().get(code)
    return found.name.get(current_lang()) if found is not None else code


def counts() -> tuple[int, int]:
    """(dossiers waiting to be sent, results waiting to be handed out), for the station's home."""
    return view().counts()
