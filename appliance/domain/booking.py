"""Help-slot booking rules: the help hours cut into slots residents book, and booking codes.

A slot is a stretch of local time (Viet Nam, a fixed offset the caller passes in) inside a help
hour, `slot_minutes` long, on one of the days from today to `booking_days` ahead. A slot that has
started cannot be booked any more. Its id is its local start, "202611261900", so a URL carries it
and parsing it back checks it against the grid. Booking codes ("LH-7K3Q") use the receipt
codes' alphabet, which has no 0/O, 1/I/L or S/5 to misread on a phone's screen.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from appliance.domain.dossier import CODE_ALPHABET, DossierError, clean_name
from appliance.domain.schedule import DAY_NAMES, HelpHour

CODE_PREFIX = "LH"  # lịch hẹn
CODE_SYMBOLS = 4
SLOT_ID = re.compile(r"[0-9]{12}")
SLOT_ID_FORMAT = "%Y%m%d%H%M"
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SEPARATORS = re.compile(r"[\s\-–—_.·/]+")


class BookingError(ValueError):
    """A booking that cannot be made or cancelled; the message is "Vietnamese / English"."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def unknown_slot() -> BookingError:
    return BookingError(
        "slot_unknown",
        "Không có giờ hỗ trợ này, xin chọn lại trong danh sách / "
        "There is no help slot at that time; choose one from the list",
    )


def past_slot() -> BookingError:
    return BookingError(
        "slot_past",
        "Giờ này đã bắt đầu hoặc đã qua, xin chọn giờ khác / "
        "That slot has started or is over; choose another",
    )


@dataclass(frozen=True)
class Slot:
    """One bookable stretch of a help hour; start and end are aware datetimes."""

    start: datetime
    end: datetime

    @property
    def id(self) -> str:
        return self.start.strftime(SLOT_ID_FORMAT)

    def day_label(self, lang: str) -> str:
        return day_label(self.start.date(), lang)

    def time_label(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"

    def label(self, lang: str) -> str:
        return f"{self.day_label(lang)} · {self.time_label()}"

    def has_started(self, now: datetime) -> bool:
        return self.start <= now


@dataclass(frozen=True)
class Schedule:
    """The help hours as bookable slots, in the local time zone `tz`."""

    hours: tuple[HelpHour, ...]
    slot_minutes: int
    capacity: int
    booking_days: int
    tz: tzinfo

    def slots_on(self, day: date) -> list[Slot]:
        """The day's slots in time order; a stretch shorter than a slot at an hour's end is not
        one, and overlapping help hours give each slot once."""
        step = timedelta(minutes=self.slot_minutes)
        starts: set[datetime] = set()
        for hour in self.hours:
            if day.weekday() not in hour.days:
                continue
            start = datetime.combine(day, hour.start, self.tz)
            end = datetime.combine(day, hour.end, self.tz)
            while start + step <= end:
                starts.add(start)
                start += step
        return [Slot(start, start + step) for start in sorted(starts)]

    def days(self, now: datetime) -> list[tuple[date, list[Slot]]]:
        """Today and the next `booking_days` days that have slots not yet started."""
        today = self.local(now).date()
        found = []
        for offset in range(self.booking_days + 1):
            day = today + timedelta(days=offset)
            slots = [slot for slot in self.slots_on(day) if not slot.has_started(now)]
            if slots:
                found.append((day, slots))
        return found

    def check(self, slot: Slot, now: datetime) -> Slot:
        """The slot if a resident may book it now, else BookingError (unknown or past)."""
        local = Slot(self.local(slot.start), self.local(slot.end))
        today = self.local(now).date()
        if not today <= local.start.date() <= today + timedelta(days=self.booking_days):
            raise unknown_slot()
        if local not in self.slots_on(local.start.date()):
            raise unknown_slot()
        if local.has_started(now):
            raise past_slot()
        return local

    def slot(self, slot_id: str, now: datetime) -> Slot:
        """The bookable slot a URL's id names, else BookingError: garbled, off the grid, beyond
        the booking days, or started."""
        if not SLOT_ID.fullmatch(slot_id):
            raise unknown_slot()
        try:
            local = datetime.strptime(slot_id, SLOT_ID_FORMAT).replace(tzinfo=self.tz)
        except ValueError:
            raise unknown_slot() from None
        return self.check(Slot(local, local + timedelta(minutes=self.slot_minutes)), now)

    def local(self, moment: datetime) -> datetime:
        """A stored (UTC) time in the schedule's zone, as slot labels need it."""
        return moment.astimezone(self.tz)

    def day_start(self, day: date) -> datetime:
        """The local midnight starting `day`, for a day's bookings."""
        return datetime.combine(day, time(0), self.tz)


def day_label(day: date, lang: str) -> str:
    """ "Thứ Năm 26/11" / "Thursday 26 Nov": a day as people say it."""
    name = DAY_NAMES.get(lang, DAY_NAMES["vi"])[day.weekday()]
    if lang == "en":
        return f"{name} {day.day} {MONTHS_EN[day.month - 1]}"
    return f"{name} {day:%d/%m}"


def new_booking_code(rng: random.Random) -> str:
    """A fresh code such as "LH-7K3Q"."""
    return f"{CODE_PREFIX}-{''.join(rng.choice(CODE_ALPHABET) for _ in range(CODE_SYMBOLS))}"


def normalize_booking_code(text: str) -> str:
    """The canonical "LH-XXXX" of what a resident typed: case, spaces and the dash do not matter,
    and the "LH" may be left out; else BookingError."""
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    body = compact.removeprefix(CODE_PREFIX) if len(compact) > CODE_SYMBOLS else compact
    if len(body) != CODE_SYMBOLS or any(c not in CODE_ALPHABET for c in body):
        raise BookingError(
            "code_form",
            "Mã đặt lịch có dạng LH-7K3Q (ghi trên trang xác nhận và trong tin nhắn) / "
            "A booking code looks like LH-7K3Q (it is on the confirmation and in the SMS)",
        )
    return f"{CODE_PREFIX}-{body}"


def booking_name(text: str) -> str:
    """The resident's name as stored, by the dossiers' rule; its refusal as a BookingError."""
    try:
        return clean_name(text)
    except DossierError as exc:
        raise BookingError(exc.code, str(exc)) from None
