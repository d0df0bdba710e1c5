"""Help-slot bookings: the only SQL behind booking, cancelling and the station's day list.

A slot's capacity is enforced by one INSERT … SELECT … WHERE (live bookings of the slot) <
capacity: SQLite runs a statement under its write lock, so when two phones tap the last place at
once one gets it and the other is told the slot is full. The same phone twice in one slot is
refused by the partial unique index and answered with the booking it already has. The booking's
SMS (confirmation, reminder) is queued in the same transaction, so a refused booking queues none.
"""

from __future__ import annotations

import hmac
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from appliance.domain.booking import (
    BookingError,
    Schedule,
    Slot,
    booking_name,
    new_booking_code,
    normalize_booking_code,
)
from appliance.domain.catalog import Catalog
from appliance.domain.phone import normalize_vn_mobile
from appliance.store.sms_queue import cancel_sms, queue_sms
from appliance.store.tables import LANGS, Appointment, UtcDateTime

CODE_ATTEMPTS = 8  # 29**4 codes: a few collisions in a row mean a broken random source


@dataclass(frozen=True)
class Booking:
    code: str
    slot: Slot  # in the schedule's local time
    name: str
    phone: str
    procedure_code: str | None
    created_at: datetime
    cancelled_at: datetime | None
    lang: str


@dataclass(frozen=True)
class Booked:
    booking: Booking
    existing: bool  # this phone had booked the slot already: its booking, unchanged
    reminder: bool  # a reminder SMS is queued


@dataclass(frozen=True)
class Request:
    """What a resident typed to book a slot, before it is checked."""

    name: str
    phone: str
    procedure_code: str | None = None
    lang: str = "vi"


def full_slot() -> BookingError:
    return BookingError(
        "slot_full",
        "Giờ này đã hết chỗ, xin chọn giờ khác / That slot is full; choose another",
    )


def not_found() -> BookingError:
    return BookingError(
        "not_found",
        "Không tìm thấy lịch hẹn với mã và 4 số này / No booking with that code and those 4 digits",
    )


class BookingRepo:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        schedule: Schedule,
        *,
        reminder: timedelta | None,
        sms: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        """`reminder`: how long before the slot its reminder goes (None: none); `sms`: False
        when the box sends no SMS at all."""
        self._sessions = sessions
        self._schedule = schedule
        self._reminder = reminder
        self._sms = sms
        self._rng = rng or random.SystemRandom()

    def book(self, slot: Slot, request: Request, catalog: Catalog, now: datetime) -> Booked:
        """Book `slot` for the resident, or BookingError saying why not (nothing is written)."""
        slot = self._schedule.check(slot, now)
        name, phone = booking_name(request.name), normalize_vn_mobile(request.phone)
        procedure = request.procedure_code or None
        if procedure is not None and catalog.get(procedure) is None:
            raise BookingError(
                "procedure", "Không có thủ tục này trong danh mục / No such procedure"
            )
        lang = request.lang if request.lang in LANGS else "vi"
        row = Appointment(
            slot_start=slot.start,
            slot_end=slot.end,
            name=name,
            phone=phone,
            procedure_code=procedure,
            created_at=now,
            lang=lang,
        )
        for _ in range(CODE_ATTEMPTS):
            row.code = new_booking_code(self._rng)
            try:
                return self._insert(row, now)
            except IntegrityError as exc:
                if "appointments.code" in str(exc.orig):
                    continue
                existing = self._live(phone, slot)
                if existing is None:  # cancelled in between: the place may be free again
                    continue
                due = self._reminder_due(slot.start, existing.created_at)
                return Booked(existing, existing=True, reminder=self._sms and due is not None)
        raise RuntimeError("no free booking code after several tries")

    def _insert(self, row: Appointment, now: datetime) -> Booked:
        with self._sessions.begin() as session:
            live = (
                select(func.count())
                .select_from(Appointment)
                .where(Appointment.slot_start == row.slot_start, Appointment.cancelled_at.is_(None))
                .scalar_subquery()
            )
            values: dict[str, ColumnElement[Any]] = {
                "code": literal(row.code),
                "slot_start": literal(row.slot_start, UtcDateTime()),
                "slot_end": literal(row.slot_end, UtcDateTime()),
                "name": literal(row.name),
                "phone": literal(row.phone),
                "procedure_code": literal(row.procedure_code),
                "created_at": literal(row.created_at, UtcDateTime()),
                "lang": literal(row.lang),
            }
            chosen = select(*values.values()).where(live < self._schedule.capacity)
            result = session.execute(insert(Appointment).from_select(list(values), chosen))
            if getattr(result, "rowcount", 0) != 1:
                raise full_slot()
            reminder = self._queue(session, row, now)
        return Booked(self._booking(row), existing=False, reminder=reminder)

    def _queue(self, session: Session, row: Appointment, now: datetime) -> bool:
        """The confirmation SMS, and the reminder when there is still time; whether a reminder
        was queued."""
        if not self._sms:
            return False
        params = {"booking": row.code, "start": row.slot_start.isoformat()}
        for event, due in (("booking", now), ("reminder", self._reminder_due(row.slot_start, now))):
            if due is not None:
                key = f"{event}:{row.code}"
                queue_sms(
                    session,
                    key=key,
                    event=event,
                    to=row.phone,
                    params=params,
                    lang=row.lang,
                    now=now,
                    due=due,
                )
        return self._reminder_due(row.slot_start, now) is not None

    def _reminder_due(self, start: datetime, now: datetime) -> datetime | None:
        """When the reminder of a slot booked `now` goes: `reminder` before the slot, if that is
        still ahead."""
        if self._reminder is None or start - self._reminder <= now:
            return None
        return start - self._reminder

    def cancel(self, code: str, last4: str, now: datetime) -> Booking:
        """Cancel a booking by its code and the phone's last 4 digits; its reminder (and its
        confirmation, if not sent yet) is withdrawn. A wrong code and wrong digits get the same
        BookingError; a started slot or a booking cancelled already get their own."""
        code = normalize_booking_code(code)
        with self._sessions.begin() as session:
            row = session.scalars(select(Appointment).where(Appointment.code == code)).first()
            stored = row.phone[-4:] if row is not None else "----"
            if row is None or not hmac.compare_digest(stored.encode(), last4.strip().encode()):
                raise not_found()
            if row.cancelled_at is not None:
                raise _already_cancelled()
            if row.slot_start <= now:
                raise BookingError(
                    "started",
                    "Giờ hẹn đã bắt đầu, không hủy được nữa / "
                    "The slot has started; it can no longer be cancelled",
                )
            claimed = session.execute(
                update(Appointment)
                .where(Appointment.id == row.id, Appointment.cancelled_at.is_(None))
                .values(cancelled_at=now)
            )
            if not getattr(claimed, "rowcount", 0):
                raise _already_cancelled()
            for key in (f"reminder:{code}", f"booking:{code}"):
                cancel_sms(session, key, now, "booking cancelled")
            session.refresh(row)
            return self._booking(row)

    def free_places(self, slots: Sequence[Slot]) -> dict[Slot, int]:
        """Places left in each slot, counted in one query over the slots' span."""
        if not slots:
            return {}
        counted = self._counts(min(s.start for s in slots), max(s.end for s in slots))
        capacity = self._schedule.capacity
        return {slot: max(0, capacity - counted.get(slot.start, 0)) for slot in slots}

    def for_day(self, day: date) -> list[Booking]:
        """Every booking of the local day, cancelled ones included, by time and booking order."""
        start = self._schedule.day_start(day)
        with self._sessions() as session:
            rows = session.scalars(
                select(Appointment)
                .where(Appointment.slot_start >= start)
                .where(Appointment.slot_start < start + timedelta(days=1))
                .order_by(Appointment.slot_start, Appointment.created_at, Appointment.id)
            ).all()
        return [self._booking(row) for row in rows]

    def _counts(self, start: datetime, end: datetime) -> dict[datetime, int]:
        with self._sessions() as session:
            rows = session.execute(
                select(Appointment.slot_start, func.count())
                .where(Appointment.slot_start >= start, Appointment.slot_start < end)
                .where(Appointment.cancelled_at.is_(None))
                .group_by(Appointment.slot_start)
            ).all()
        return {start: count for start, count in rows}

    def _live(self, phone: str, slot: Slot) -> Booking | None:
        with self._sessions() as session:
            row = session.scalars(
                select(Appointment).where(
                    Appointment.phone == phone,
                    Appointment.slot_start == slot.start,
                    Appointment.cancelled_at.is_(None),
                )
            ).first()
        return None if row is None else self._booking(row)

    def _booking(self, row: Appointment) -> Booking:
        local = self._schedule.local
        return Booking(
            row.code,
            Slot(local(row.slot_start), local(row.slot_end)),
            row.name,
            row.phone,
            row.procedure_code,
            row.created_at,
            row.cancelled_at,
            row.lang,
        )


def _already_cancelled() -> BookingError:
    return BookingError(
        "already_cancelled",
        "Lịch hẹn này đã được hủy trước đó / This booking was cancelled already",
    )
