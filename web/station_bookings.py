"""The station's view of a day's help-slot bookings (nested under the station blueprint).

`/station/lich-hen` is today; `?ngay=YYYY-MM-DD` another day. Each slot of the day shows its live
bookings against its capacity; cancelled bookings stay in the list, greyed, so a volunteer who
expected someone sees why they are not coming.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from appliance.domain.booking import Slot, day_label
from appliance.domain.phone import display
from appliance.store.booking_repo import Booking
from web.booking import now, repo, schedule
from web.context import catalog
from web.headers import no_store
from web.i18n import _, current_lang

bp = Blueprint("bookings", __name__)


@dataclass
class SlotLine:
    slot: Slot
    bookings: list[Booking] = field(default_factory=list)

    @property
    def live(self) -> int:
        return sum(1 for booking in self.bookings if booking.cancelled_at is None)


@bp.get("/lich-hen")
def today() -> Response:
    current = schedule()
    today_ = current.local(now()).date()
    asked = request.args.get("ngay", "")
    day, problem = _day(asked) or today_, None
    if asked and _day(asked) is None:
        problem = _("Ngày không đúng dạng NNNN-TT-NN, đang xem hôm nay.")
    html = render_template(
        "station/bookings.html",
        day=day,
        today=today_,
        day_label=day_label(day, current_lang()),
        lines=_lines(current.slots_on(day), repo().for_day(day)),
        capacity=current.capacity,
        problem=problem,
        phone=display,
        booked_at=lambda moment: f"{current.local(moment):%H:%M %d/%m}",
        procedure_name=_procedure_name,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
    )
    return no_store(Response(html, mimetype="text/html"))


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _lines(slots: list[Slot], bookings: list[Booking]) -> list[SlotLine]:
    """The day's slots with their bookings; a booked slot no longer in the help hours (the
    schedule changed) still shows."""
    lines = {slot.start: SlotLine(slot) for slot in slots}
    for booking in bookings:
        lines.setdefault(booking.slot.start, SlotLine(booking.slot)).bookings.append(booking)
    return [lines[start] for start in sorted(lines)]


def _procedure_name(code: str | None) -> str:
    if code is None:
        return ""
    found = catalog().get(code)
    return found.name.get(current_lang()) if found else code
