"""Help hours cut into bookable slots, slot ids read back against the grid, and booking codes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from appliance.domain.booking import (
    CODE_PREFIX,
    BookingError,
    Schedule,
    Slot,
    booking_name,
    new_booking_code,
    normalize_booking_code,
)
from appliance.domain.dossier import CODE_ALPHABET
from appliance.domain.schedule import parse_help_hours
from appliance.receipts import VIETNAM

HOURS = parse_help_hours(["thu 08:00-11:00", "daily 19:00-21:00"])
THURSDAY = date(2026, 11, 26)


def schedule(minutes: int = 30, days: int = 14, hours: list[str] | None = None) -> Schedule:
    found = parse_help_hours(hours) if hours is not None else HOURS
    return Schedule(found, minutes, 3, days, VIETNAM)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VIETNAM)


def test_a_thursday_has_the_morning_and_the_evening_in_half_hours() -> None:
    slots = schedule().slots_on(THURSDAY)
    assert [s.start.strftime("%H:%M") for s in slots] == [
        "08:00", "08:30", "09:00", "09:30", "10:00", "10:30",
        "19:00", "19:30", "20:00", "20:30",
    ]  # fmt: skip
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)
    assert slots[0].start.utcoffset() == timedelta(hours=7)


def test_other_days_have_the_evening_only_and_a_short_remainder_is_no_slot() -> None:
    assert len(schedule().slots_on(THURSDAY + timedelta(days=1))) == 4
    assert len(schedule(minutes=45).slots_on(THURSDAY + timedelta(days=1))) == 2  # 19:00, 19:45


def test_overlapping_help_hours_give_each_slot_once() -> None:
    slots = schedule(hours=["daily 19:00-21:00", "thu 20:00-22:00"]).slots_on(THURSDAY)
    assert [s.start.hour * 100 + s.start.minute for s in slots] == [
        1900,
        1930,
        2000,
        2030,
        2100,
        2130,
    ]


def test_labels_in_both_languages() -> None:
    slot = Slot(local(THURSDAY, 19), local(THURSDAY, 19, 30))
    assert slot.label("vi") == "Thứ Năm 26/11 · 19:00–19:30"
    assert slot.label("en") == "Thursday 26 Nov · 19:00–19:30"
    assert slot.id == "202611261900"


def test_days_start_today_skip_started_slots_and_stop_at_the_horizon() -> None:
    now = local(THURSDAY, 19, 10)
    found = schedule(days=3).days(now)
    assert [day for day, _slots in found] == [THURSDAY + timedelta(days=n) for n in range(4)]
    assert [s.start.strftime("%H:%M") for s in found[0][1]] == ["19:30", "20:00", "20:30"]
    late = schedule(days=3).days(local(THURSDAY, 22))
    assert late[0][0] == THURSDAY + timedelta(days=1)  # nothing left today


def test_a_slot_id_reads_back_to_the_slot() -> None:
    now = local(THURSDAY, 7)
    slot = schedule().slot("202611260830", now)
    assert slot == Slot(local(THURSDAY, 8, 30), local(THURSDAY, 9))
    assert slot.start.tzinfo == VIETNAM
    assert schedule().slot("202612101900", now).start == local(date(2026, 12, 10), 19)  # day 14


@pytest.mark.parametrize(
    "slot_id",
    [
        "202611260815",  # off the grid
        "202611261200",  # outside the help hours
        "202611270830",  # Friday has no morning
        "202612111900",  # beyond the 14 days
        "202611251900",  # yesterday
        "202613261900",  # no 13th month
        "20261126190",  # garbled
        "2026112619００",  # full-width digits
        "abc",
        "",
    ],
)
def test_ids_the_schedule_does_not_offer_are_unknown(slot_id: str) -> None:
    with pytest.raises(BookingError) as caught:
        schedule().slot(slot_id, local(THURSDAY, 7))
    assert caught.value.code == "slot_unknown"
    assert " / " in str(caught.value)


def test_a_slot_that_has_started_is_past() -> None:
    for now in (local(THURSDAY, 8, 30), local(THURSDAY, 8, 45)):
        with pytest.raises(BookingError) as caught:
            schedule().slot("202611260830", now)
        assert caught.value.code == "slot_past"
    assert schedule().slot("202611260830", local(THURSDAY, 8, 29)).start == local(THURSDAY, 8, 30)


def test_check_takes_a_slot_in_any_zone() -> None:
    slot = Slot(local(THURSDAY, 19).astimezone(UTC), local(THURSDAY, 19, 30).astimezone(UTC))
    checked = schedule().check(slot, local(THURSDAY, 7))
    assert checked == slot and checked.start.tzinfo == VIETNAM
    with pytest.raises(BookingError):  # the right start with the wrong length
        schedule().check(Slot(slot.start, slot.start + timedelta(hours=1)), local(THURSDAY, 7))


def test_booking_codes_are_short_and_unambiguous() -> None:
    rng = random.Random(5)
    codes = {new_booking_code(rng) for _ in range(500)}
    assert len(codes) > 490
    for code in codes:
        prefix, body = code.split("-")
        assert prefix == CODE_PREFIX and len(body) == 4
        assert not set(body) & set("0O1IL")
        assert set(body) <= set(CODE_ALPHABET)


@pytest.mark.parametrize(
    "typed", ["LH-7K3Q", "lh-7k3q", " lh 7k3q ", "LH7K3Q", "7K3Q", "ＬＨ－７Ｋ３Ｑ"]
)
def test_typed_codes_are_normalized(typed: str) -> None:
    assert normalize_booking_code(typed) == "LH-7K3Q"


@pytest.mark.parametrize("typed", ["", "LH-7K3", "LH-7K3QQ", "LH-0K3Q", "XB1-K7M4QD", "LH-7K3O"])
def test_codes_that_cannot_be_one_are_refused(typed: str) -> None:
    with pytest.raises(BookingError) as caught:
        normalize_booking_code(typed)
    assert caught.value.code == "code_form" and "LH-7K3Q" in str(caught.value)


def test_names_follow_the_dossiers_rule() -> None:
    assert booking_name("  Nguyễn   Thị\tLan ") == "Nguyễn Thị Lan"
    for bad in ("   ", "x" * 101):
        with pytest.raises(BookingError):
            booking_name(bad)
