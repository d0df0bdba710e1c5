"""The commune officer's inbox: dossiers by hamlet and status, one dossier's page, and the
decisions of the one-stop documents (receive, ask for more papers, refuse, in progress, done).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from appliance.domain.catalog import Procedure
from appliance.domain.dossier import STATUSES, can_transition, checklist, paper_key
from appliance.domain.protocol import OFFICER_STATUSES
from upstream import inbox_store
from upstream.app import upstream
from upstream.catalog import served_catalog
from upstream.inbox_store import Decision, DossierChanged, InboxError, PageInfo, Record
from upstream.officer_ui import LOCAL_TZ, message_page, page
from upstream.officers import current_officer, require_officer

NOTE_MAX = 1000
FURTHEST_APPOINTMENT = timedelta(days=366)  # a later date is surely a typing slip
# The buttons, in the order of the one-stop documents.
ACTIONS = {
    "received": ("Tiếp nhận", "Receive"),
    "needs_more": ("Yêu cầu bổ sung", "Ask for more papers"),
    "processing": ("Đang giải quyết", "In progress"),
    "done": ("Đã có kết quả", "Result ready"),
    "rejected": ("Từ chối", "Refuse"),
}
DONE_MESSAGES = {
    "received": "Đã tiếp nhận hồ sơ / Dossier received",
    "needs_more": "Đã gửi yêu cầu bổ sung / Request for more papers sent",
    "processing": "Đã chuyển sang đang giải quyết / Marked in progress",
    "done": "Đã báo có kết quả, trả tại thôn / Result ready, to be handed over at the hamlet",
    "rejected": "Đã từ chối hồ sơ / Dossier refused",
}
NOTE_NEEDED = {
    "needs_more": "Hãy ghi những giấy tờ cần bổ sung / Write which papers are needed",
    "rejected": "Hãy ghi lý do từ chối / Write the reason for refusing",
}
GENDERS = {"male": ("Nam", "Male"), "female": ("Nữ", "Female")}

bp = Blueprint("inbox", __name__)
bp.before_request(require_officer)


@dataclass(frozen=True)
class Line:
    """One paper of the checklist: its pages, or the promise to bring the original."""

    name: str
    required: bool
    pages: list[PageInfo]
    original: bool


@bp.get("/")
def home() -> Response:
    return redirect(url_for("inbox.index"), 303)


@bp.get("/ho-so")
def index() -> Response:
    hamlet = request.args.get("hamlet") or None
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    number = request.args.get("trang", "1")
    current = int(number) if number.isdigit() and 0 < int(number) < 100000 else 1
    found = inbox_store.listing(upstream().sessions, hamlet, status, current)
    pages = max(1, -(-found.total // inbox_store.PAGE_SIZE))
    return page(
        "inbox.html",
        listing=found,
        hamlet=hamlet,
        status=status,
        current=current,
        pages=pages,
        procedure_name=_procedure_name,
    )


@bp.get("/ho-so/<uuid:uuid>")
def dossier(uuid: Any) -> Response:
    found = inbox_store.record(upstream().sessions, str(uuid))
    if found is None:
        return not_found()
    return _show(found)


@bp.post("/ho-so/<uuid:uuid>")
def decide(uuid: Any) -> Response:
    """The officer's decision; on any problem the page comes back saying why, nothing changed."""
    found = inbox_store.record(upstream().sessions, str(uuid))
    if found is None:
        return not_found()
    seen = request.form.get("seen", "")
    now = datetime.fromtimestamp(upstream().clock(), UTC)
    try:
        if seen != found.status:
            raise DossierChanged()
        decision = read_decision(request.form, seen, now.astimezone(LOCAL_TZ).date())
        officer = current_officer() or ""
        inbox_store.decide(upstream().sessions, found.uuid, seen, decision, officer, now)
    except DossierChanged as changed:
        fresh = inbox_store.record(upstream().sessions, found.uuid) or found
        return _show(fresh, error=str(changed), status=409)
    except InboxError as problem:
        return _show(found, error=str(problem), status=400, form=request.form)
    flash(DONE_MESSAGES[decision.status])
    return redirect(url_for("inbox.dossier", uuid=found.uuid), 303)


def read_decision(form: Mapping[str, str], seen: str, today: date) -> Decision:
    """The decision the form asks for, checked against the lifecycle and the one-stop rules."""
    action = form.get("action", "")
    if action not in OFFICER_STATUSES:
        raise InboxError("Không rõ thao tác / Unknown action")
    inbox_store.check_transition(seen, action)
    note = clean_note(form.get("note", ""))
    if action in NOTE_NEEDED and note is None:
        raise InboxError(NOTE_NEEDED[action])
    if action != "received":
        return Decision(action, note)
    return Decision(action, note, read_appointment(form.get("appointment_date", ""), today))


def clean_note(text: str) -> str | None:
    """The officer's words as the box will show them: NFC, no control characters but newlines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    text = "".join(c for c in text if c == "\n" or unicodedata.category(c) not in ("Cc", "Cf"))
    text = text.strip()
    if len(text) > NOTE_MAX:
        raise InboxError(
            f"Ghi chú dài quá {NOTE_MAX} ký tự / The note is longer than {NOTE_MAX} characters"
        )
    return text or None


def read_appointment(text: str, today: date) -> date:
    """The date on the receipt and appointment slip: typed 2025-03-05 or 05/03/2025."""
    text = text.strip()
    try:
        if "/" in text:
            d, m, y = (int(part) for part in text.split("/"))
            when = date(y, m, d)
        else:
            when = date.fromisoformat(text)
    except ValueError:
        raise InboxError(
            "Hãy chọn ngày hẹn trả kết quả / Choose the date the result is promised for"
        ) from None
    if when < today:
        raise InboxError(
            "Ngày hẹn trả kết quả không được ở trong quá khứ / "
            "The appointment date cannot be in the past"
        )
    if when > today + FURTHEST_APPOINTMENT:
        raise InboxError(
            "Ngày hẹn trả kết quả xa quá một năm, hãy kiểm tra lại / "
            "The appointment date is more than a year away; check it"
        )
    return when


def _procedure_name(code: str) -> str:
    found = served_catalog().catalog.get(code)
    return found.name.vi if found else code


def paper_lines(procedure: Procedure | None, found: Record) -> list[Line]:
    """The procedure's papers in catalog order, then any paper the pages name that it lacks."""
    by_paper: dict[str, list[PageInfo]] = {}
    for info in found.pages:
        by_paper.setdefault(info.paper, []).append(info)
    originals = {o for o in found.manifest.get("originals", []) if isinstance(o, str)}
    counts = {name: len(infos) for name, infos in by_paper.items()}
    states = checklist(procedure, counts, originals) if procedure else []
    lines = [
        Line(
            paper_key(s.paper),
            s.paper.required,
            by_paper.get(paper_key(s.paper), []),
            s.bring_original,
        )
        for s in states
    ]
    listed = {line.name for line in lines}
    extra = [
        Line(name, False, infos, False) for name, infos in by_paper.items() if name not in listed
    ]
    return lines + extra


def _show(
    found: Record,
    *,
    error: str | None = None,
    status: int = 200,
    form: Mapping[str, str] | None = None,
) -> Response:
    procedure = served_catalog().catalog.get(found.procedure)
    applicant = found.manifest.get("applicant")
    today = datetime.fromtimestamp(upstream().clock(), LOCAL_TZ).date()
    return page(
        "dossier.html",
        status,
        record=found,
        procedure=procedure,
        applicant=applicant if isinstance(applicant, dict) else {},
        genders=GENDERS,
        lines=paper_lines(procedure, found),
        actions=[(s, ACTIONS[s]) for s in ACTIONS if can_transition(found.status, s)],
        error=error,
        form=form or {},
        today=today.isoformat(),
    )


def not_found() -> Response:
    return message_page(
        404,
        "Không tìm thấy hồ sơ / Dossier not found",
        "Hồ sơ này không có trong hộp hồ sơ của xã. / This dossier is not in the commune's inbox.",
    )
