"""The relay's sending window: a daily stretch of local time, possibly past midnight."""

from __future__ import annotations

from datetime import time

import pytest

from appliance.domain.schedule import ScheduleError, parse_window


def test_empty_means_any_time() -> None:
    assert parse_window("") is None
    assert parse_window("   ") is None


@pytest.mark.parametrize(
    ("text", "moment", "inside", "wait"),
    [
        ("08:00-17:00", time(8, 0), True, 0),
        ("08:00-17:00", time(17, 0), False, 15 * 3600),
        ("08:00-17:00", time(7, 59, 30), False, 30),
        ("22:00-06:00", time(23, 30), True, 0),
        ("22:00-06:00", time(5, 59), True, 0),
        ("22:00-06:00", time(6, 0), False, 16 * 3600),
        ("22:00-06:00", time(12, 0), False, 10 * 3600),
    ],
)
def test_window(text: str, moment: time, inside: bool, wait: int) -> None:
    window = parse_window(text)
    assert window is not None
    assert window.contains(moment) is inside
    assert window.seconds_until_open(moment) == wait


@pytest.mark.parametrize("text", ["22h-6h", "25:00-06:00", "08:00-08:00", "08:00", "8-17"])
def test_unreadable_windows_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_window(text)
