"""Booking help slots in the real store: capacity under a race, one booking per phone and slot,
the SMS queued in the booking's transaction (and none for a refused one), and cancelling."""

from __future__ import annotations

import random
import threading
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from appliance.domain.booking import BookingError, Schedule, Slot
from appliance.domain.catalog import Catalog
from appliance.domain.phone import PhoneError
from appliance.domain.schedule import parse_help_hours
from appliance.receipts import VIETNAM
from appliance.services import Services
from appliance.store.booking_repo import Booked, BookingRepo, Request
from appliance.store.tables import Appointment, OutboxItem

THURSDAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 7, 0, tzinfo=VIETNAM)
EVENING = Slot(
    datetime(2026, 11, 26, 19, 0, tzinfo=VIETNAM), datetime(2026, 11, 26, 19, 30, tzinfo=VIETNAM)
)
PHONES = ["0912345678", "0987654321", "0934567890", "0976543210", "0398765432"]
BIRTH = "1.001193"


def make_repo(
    services: Services, *, reminder: int | None = 3, sms: bool = True, seed: int | None = None
) -> BookingRepo:
    schedule = Schedule(
        parse_help_hours(["thu 08:00-11:00", "daily 19:00-21:00"]), 30, 3, 14, VIETNAM
    )
    return BookingRepo(
        services.sessions,
        schedule,
        reminder=None if reminder is None else timedelta(hours=reminder),
        sms=sms,
        rng=None if seed is None else random.Random(seed),
    )


@pytest.fixture
def repo(services: Services) -> BookingRepo:
    return make_repo(services)


@pytest.fixture
def catalog(services: Services) -> Catalog:
    return services.catalog.current()


def book(
    repo: BookingRepo,
    catalog: Catalog,
    phone: str,
    slot: Slot = EVENING,
    now: datetime = NOW,
    **extra: str,
) -> Booked:
    return repo.book(slot, Request("Nguyễn Thị Lan", phone, **extra), catalog, now)


def sms_rows(services: Services) -> list[OutboxItem]:
    with services.sessions() as session:
        return list(
            session.scalars(
                select(OutboxItem).where(OutboxItem.kind == "sms").order_by(OutboxItem.id)
            )
        )


def payload(row: OutboxItem) -> dict[str, Any]:
    assert row.payload is not None
    return row.payload


def appointment_count(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Appointment)) or 0)


def test_a_booking_is_stored_with_its_confirmation_and_reminder(
    services: Services, repo: BookingRepo, catalog: Catalog
) -> None:
    booked = book(repo, catalog, "+84 912 345 678", procedure_code=BIRTH, lang="en")
    assert not booked.existing and booked.reminder
    b = booked.booking
    assert b.phone == "0912345678" and b.name == "Nguyễn Thị Lan" and b.procedure_code == BIRTH
    assert b.slot == EVENING and b.slot.start.tzinfo == VIETNAM and b.lang == "en"
    rows = sms_rows(services)
    assert [(r.key, payload(r)["event"]) for r in rows] == [
        (f"booking:{b.code}", "booking"),
        (f"reminder:{b.code}", "reminder"),
    ]
    for row in rows:
        assert (
            row.state == "pending"
            and payload(row)["to"] == "0912345678"
            and payload(row)["lang"] == "en"
        )
        assert payload(row)["params"] == {"booking": b.code, "start": EVENING.start.isoformat()}
        assert datetime.fromisoformat(payload(row)["params"]["start"]) == EVENING.start
    assert rows[0].next_attempt_at == NOW
    assert rows[1].next_attempt_at == EVENING.start - timedelta(hours=3)


def test_no_reminder_when_its_time_has_passed_or_it_is_off(
    services: Services, catalog: Catalog
) -> None:
    late = make_repo(services).book(
        EVENING, Request("Lan", PHONES[0]), catalog, EVENING.start - timedelta(hours=2)
    )
    assert not late.reminder
    off = make_repo(services, reminder=None).book(EVENING, Request("Lan", PHONES[1]), catalog, NOW)
    assert not off.reminder
    assert [payload(r)["event"] for r in sms_rows(services)] == ["booking", "booking"]


def test_no_sms_at_all_when_the_box_sends_none(services: Services, catalog: Catalog) -> None:
    booked = make_repo(services, sms=False).book(EVENING, Request("Lan", PHONES[0]), catalog, NOW)
    assert not booked.reminder and sms_rows(services) == []
    assert appointment_count(services) == 1


def test_a_full_slot_refuses_and_queues_nothing(
    services: Services, repo: BookingRepo, catalog: Catalog
) -> None:
    for phone in PHONES[:3]:
        book(repo, catalog, phone)
    before = [row.key for row in sms_rows(services)]
    with pytest.raises(BookingError) as caught:
        book(repo, catalog, PHONES[3])
    assert caught.value.code == "slot_full"
    assert appointment_count(services) == 3 and [r.key for r in sms_rows(services)] == before
    assert repo.free_places([EVENING]) == {EVENING: 0}


def test_two_phones_racing_for_the_last_place_one_gets_it(
    services: Services, catalog: Catalog
) -> None:
    for phone in PHONES[:2]:
        book(make_repo(services), catalog, phone)
    barrier = threading.Barrier(2, timeout=10)
    outcomes: dict[str, object] = {}

    def tap(phone: str) -> None:
        repo = make_repo(services)
        barrier.wait()
        try:
            outcomes[phone] = book(repo, catalog, phone)
        except BookingError as exc:
            outcomes[phone] = exc.code

    threads = [threading.Thread(target=tap, args=(phone,)) for phone in PHONES[2:4]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(type(o).__name__ if not isinstance(o, str) else o for o in outcomes.values()) == [
        "Booked",
        "slot_full",
    ]
    assert appointment_count(services) == 3
    assert len([r for r in sms_rows(services) if payload(r)["event"] == "booking"]) == 3


def test_the_same_phone_twice_gets_its_booking_back(
    services: Services, repo: BookingRepo, catalog: Catalog
) -> None:
    first = book(repo, catalog, PHONES[0])
    again = book(repo, catalog, "0912 345 678")
    assert again.existing and again.booking.code == first.booking.code and again.reminder
    assert appointment_count(services) == 1 and len(sms_rows(services)) == 2
    other_slot = Slot(EVENING.end, EVENING.end + timedelta(minutes=30))
    assert not book(repo, catalog, PHONES[0], slot=other_slot).existing  # another slot is fine


@pytest.mark.parametrize(
    ("slot", "now", "code"),
    [
        (EVENING, EVENING.start, "slot_past"),
        (EVENING, EVENING.start + timedelta(minutes=5), "slot_past"),
        (EVENING, NOW + timedelta(days=1), "slot_unknown"),  # yesterday, seen from Friday
        (
            Slot(EVENING.start + timedelta(days=15), EVENING.end + timedelta(days=15)),
            NOW,
            "slot_unknown",
        ),
        (
            Slot(EVENING.start + timedelta(minutes=10), EVENING.end + timedelta(minutes=10)),
            NOW,
            "slot_unknown",
        ),
        (
            Slot(EVENING.start - timedelta(hours=6), EVENING.end - timedelta(hours=6)),
            NOW,
            "slot_unknown",
        ),
    ],
)
def test_slots_not_offered_are_refused(
    services: Services, repo: BookingRepo, catalog: Catalog, slot: Slot, now: datetime, code: str
) -> None:
    with pytest.raises(BookingError) as caught:
        book(repo, catalog, PHONES[0], slot=slot, now=now)
    assert caught.value.code == code
    assert appointment_count(services) == 0 and sms_rows(services) == []


@pytest.mark.parametrize(
    ("name", "phone", "procedure", "error"),
    [
        ("Lan", "0241 234 5678", None, PhoneError),
        ("Lan", "12345", None, PhoneError),
        ("   ", PHONES[0], None, BookingError),
        ("Lan", PHONES[0], "9.999999", BookingError),
    ],
)
def test_bad_input_writes_nothing(
    services: Services,
    repo: BookingRepo,
    catalog: Catalog,
    name: str,
    phone: str,
    procedure: str | None,
    error: type[Exception],
) -> None:
    with pytest.raises(error) as caught:
        repo.book(EVENING, Request(name, phone, procedure), catalog, NOW)
    assert " / " in str(caught.value)
    assert appointment_count(services) == 0 and sms_rows(services) == []


def test_a_code_collision_draws_another_code(services: Services, catalog: Catalog) -> None:
    first = make_repo(services, seed=7).book(EVENING, Request("Lan", PHONES[0]), catalog, NOW)
    second = make_repo(services, seed=7).book(EVENING, Request("Hoa", PHONES[1]), catalog, NOW)
    assert first.booking.code != second.booking.code
    assert appointment_count(services) == 2


def test_cancelling_frees_the_place_and_withdraws_the_reminder(
    services: Services, repo: BookingRepo, catalog: Catalog
) -> None:
    code = book(repo, catalog, PHONES[0]).booking.code
    cancelled = repo.cancel(code.lower().replace("-", " "), "5678", NOW + timedelta(hours=1))
    assert cancelled.code == code and cancelled.cancelled_at == NOW + timedelta(hours=1)
    assert cancelled.slot == EVENING
    assert {r.key: r.state for r in sms_rows(services)} == {
        f"booking:{code}": "cancelled",
        f"reminder:{code}": "cancelled",
    }
    assert repo.free_places([EVENING]) == {EVENING: 3}
    again = book(repo, catalog, PHONES[0])  # the same phone may book the slot again
    assert not again.existing and again.booking.code != code


def test_a_sent_confirmation_stays_sent(
    services: Services, repo: BookingRepo, catalog: Catalog
) -> None:
    code = book(repo, catalog, PHONES[0]).booking.code
    with services.sessions.begin() as session:
        row = session.scalars(select(OutboxItem).where(OutboxItem.key == f"booking:{code}")).one()
        row.state = "delivered"
    repo.cancel(code, "5678", NOW)
    assert {r.key: r.state for r in sms_rows(services)}[f"booking:{code}"] == "delivered"


def test_wrong_digits_and_an_unknown_code_get_the_same_answer(
    services: Services, repo: BookingRepo, catalog: Catalog
) -> None:
    code = book(repo, catalog, PHONES[0]).booking.code
    other = "LH-2222" if code != "LH-2222" else "LH-3333"
    messages = []
    for asked, digits in ((code, "0000"), (other, "5678")):
        with pytest.raises(BookingError) as caught:
            repo.cancel(asked, digits, NOW)
        messages.append((caught.value.code, str(caught.value)))
    assert messages[0] == messages[1] and messages[0][0] == "not_found"
    assert repo.free_places([EVENING]) == {EVENING: 2}


def test_a_cancelled_or_started_booking_cannot_be_cancelled(
    services: Services, repo: BookingRepo, catalog: Catalog
) -> None:
    first = book(repo, catalog, PHONES[0]).booking.code
    repo.cancel(first, "5678", NOW)
    with pytest.raises(BookingError) as caught:
        repo.cancel(first, "5678", NOW)
    assert caught.value.code == "already_cancelled"
    second = book(repo, catalog, PHONES[1]).booking.code
    with pytest.raises(BookingError) as caught:
        repo.cancel(second, "4321", EVENING.start)
    assert caught.value.code == "started"
    with pytest.raises(BookingError) as caught:
        repo.cancel("LH-", "4321", NOW)
    assert caught.value.code == "code_form"


def test_free_places_and_the_days_list(
    services: Services, repo: BookingRepo, catalog: Catalog
) -> None:
    later = Slot(EVENING.end, EVENING.end + timedelta(minutes=30))
    friday = Slot(EVENING.start + timedelta(days=1), EVENING.end + timedelta(days=1))
    book(repo, catalog, PHONES[0])
    book(repo, catalog, PHONES[1])
    book(repo, catalog, PHONES[0], slot=friday)
    cancelled = book(repo, catalog, PHONES[2], slot=later).booking.code
    repo.cancel(cancelled, "7890", NOW)
    assert repo.free_places([EVENING, later, friday]) == {EVENING: 1, later: 3, friday: 2}
    assert repo.free_places([]) == {}
    day = repo.for_day(THURSDAY)
    assert [(b.slot.start.strftime("%H:%M"), b.phone, b.cancelled_at is not None) for b in day] == [
        ("19:00", PHONES[0], False),
        ("19:00", PHONES[1], False),
        ("19:30", PHONES[2], True),
    ]
    assert [b.phone for b in repo.for_day(THURSDAY + timedelta(days=1))] == [PHONES[0]]
    assert repo.for_day(THURSDAY - timedelta(days=1)) == []
