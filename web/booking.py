"""Residents book a help slot at the station from their phone, and cancel with their code.

`/dat-lich` lists the days ahead with their free places; `/dat-lich/<slot id>` books one (the id
is the slot's local start, "202611261900"); `/dat-lich/huy` cancels with the booking code and the
phone's last 4 digits. The places one phone address takes are limited per hour, so one phone
cannot fill every slot, and cancelling is limited like the status lookup, since four digits are
guessable. The limiters and the
clock live in app.extensions, so tests put fakes in their place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, render_template, request
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response

from appliance.domain.booking import BookingError, Schedule, Slot
from appliance.domain.phone import PhoneError
from appliance.ratelimit import RateLimiter
from appliance.receipts import VIETNAM
from appliance.store.booking_repo import BookingRepo, Request, full_slot
from web import errors
from web.context import catalog, services, settings
from web.headers import no_store
from web.i18n import _, current_lang
from web.lookup import FOUR_DIGITS
from web.wording import said

BOOK_LIMIT = "hamletbox.booking_limit"
CANCEL_LIMIT = "hamletbox.booking_cancel_limit"
CLOCK = "hamletbox.booking_clock"
BOOKINGS_PER_HOUR = 6
CANCELS, CANCEL_WINDOW_S = 10, 600.0
FIELD_MAX = 200  # characters kept of a typed field

bp = Blueprint("booking", __name__)


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    extensions = state.app.extensions
    extensions.setdefault(BOOK_LIMIT, RateLimiter(BOOKINGS_PER_HOUR, 3600.0))
    extensions.setdefault(CANCEL_LIMIT, RateLimiter(CANCELS, CANCEL_WINDOW_S))
    extensions.setdefault(CLOCK, lambda: datetime.now(UTC))


def now() -> datetime:
    clock: Callable[[], datetime] = current_app.extensions[CLOCK]
    return clock()


def schedule() -> Schedule:
    current = settings()
    help_ = current.help
    return Schedule(
        current.help_hours, help_.slot_minutes, help_.slot_capacity, help_.booking_days, VIETNAM
    )


def repo() -> BookingRepo:
    """The bookings over this app's store, with the SMS settings in force."""
    sms = settings().sms
    reminder = timedelta(hours=sms.reminder_hours) if sms.reminder_hours else None
    return BookingRepo(services().sessions, schedule(), reminder=reminder, sms=sms.enabled)


@bp.get("/dat-lich")
def days() -> Response:
    current = now()
    found = schedule().days(current)
    free = repo().free_places([slot for _day, slots in found for slot in slots])
    html = render_template("booking/days.html", days=found, free=free)
    return no_store(Response(html, mimetype="text/html"))


@bp.get("/dat-lich/<slot_id>")
def form(slot_id: str) -> Response:
    try:
        slot = schedule().slot(slot_id, now())
    except BookingError as exc:
        return _no_slot(exc)
    free = repo().free_places([slot])[slot]
    return _form(slot, Request("", ""), None if free else said(full_slot()), 200)


@bp.post("/dat-lich/<slot_id>")
def book(slot_id: str) -> Response:
    typed = Request(_field("ten"), _field("so"), _field("thu-tuc") or None, lang=current_lang())
    current = now()
    try:
        slot = schedule().slot(slot_id, current)
    except BookingError as exc:
        return _no_slot(exc)
    client = request.remote_addr or ""
    limiter = _limiter(BOOK_LIMIT)
    if limiter.retry_after(client) > 0:
        return too_many(limiter.retry_after(client), _("Tạm dừng đặt lịch"))
    try:
        booked = repo().book(slot, typed, catalog(), current)
    except BookingError as exc:
        if exc.code in ("slot_unknown", "slot_past"):  # it started while the form was open
            return _no_slot(exc)
        return _form(slot, typed, said(exc), 409 if exc.code == "slot_full" else 400)
    except PhoneError as exc:
        return _form(slot, typed, said(exc), 400)
    if not booked.existing:
        limiter.allow(client)  # only places taken count: a mistyped number costs nothing
    html = render_template("booking/done.html", booked=booked)
    return no_store(Response(html, mimetype="text/html"))


@bp.get("/dat-lich/huy")
def cancel_form() -> Response:
    return _cancel_page(request.args.get("ma", "")[:FIELD_MAX].strip(), "", None, 200)


@bp.post("/dat-lich/huy")
def cancel() -> Response:
    code, digits = _field("ma"), "".join(_field("so").split())
    if not code:
        return _cancel_page(code, digits, _("Hãy nhập mã đặt lịch."), 400)
    if not FOUR_DIGITS.fullmatch(digits):
        return _cancel_page(code, digits, _("Hãy nhập đúng 4 chữ số cuối của số điện thoại."), 400)
    client = request.remote_addr or ""
    limiter = _limiter(CANCEL_LIMIT)
    if not limiter.allow(client):
        return too_many(limiter.retry_after(client), _("Tạm dừng hủy lịch"))
    try:
        cancelled = repo().cancel(code, digits, now())
    except BookingError as exc:
        return _cancel_page(code, digits, said(exc), 400 if exc.code == "code_form" else 200)
    html = render_template("booking/cancelled.html", booking=cancelled)
    return no_store(Response(html, mimetype="text/html"))


def _field(name: str) -> str:
    return request.form.get(name, "")[:FIELD_MAX].strip()


def _limiter(name: str) -> RateLimiter:
    found: RateLimiter = current_app.extensions[name]
    return found


def _form(slot: Slot, typed: Request, problem: str | None, status: int) -> Response:
    html = render_template(
        "booking/form.html",
        slot=slot,
        typed=typed,
        problem=problem,
        groups=catalog().grouped(),
    )
    return no_store(Response(html, status=status, mimetype="text/html"))


def _cancel_page(code: str, digits: str, problem: str | None, status: int) -> Response:
    html = render_template("booking/cancel.html", code=code, digits=digits, problem=problem)
    return no_store(Response(html, status=status, mimetype="text/html"))


def _no_slot(exc: BookingError) -> Response:
    """An unknown, garbled or past slot: say so, and lead back to the list."""
    status = 404 if exc.code == "slot_unknown" else 410
    html = render_template("booking/no_slot.html", problem=said(exc))
    return no_store(Response(html, status=status, mimetype="text/html"))


def too_many(wait: float, title: str) -> Response:
    """The rate limit's answer for booking, cancelling and rating."""
    return errors.too_many(
        wait, title, _("Bạn đã thử quá nhiều lần, vui lòng thử lại sau ít phút.")
    )
