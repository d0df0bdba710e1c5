"""The reports' arithmetic: local ISO weeks, the period asked for, median, shares and rates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from appliance.domain.reports import (
    DossierRow,
    Period,
    Ratings,
    Share,
    Week,
    delivered_within,
    figures,
    last_days,
    last_weeks,
    median,
    period_weeks,
    week_of,
)

VIETNAM = timezone(timedelta(hours=7))
# Sunday 22/11/2026 23:30 in Viet Nam is still Sunday 16:30 UTC: week 47 of 2026.
NOW = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def row(
    submitted: datetime,
    procedure: str = "1.001193",
    status: str = "received",
    done: timedelta | None = None,
    delivered: timedelta | None = None,
) -> DossierRow:
    return DossierRow(
        procedure,
        status,
        submitted,
        None if done is None else submitted + done,
        None if delivered is None else submitted + delivered,
    )


def test_weeks_start_on_monday_in_local_time() -> None:
    period = last_weeks(NOW, 4, VIETNAM)
    assert period.start == datetime(2026, 10, 26, tzinfo=VIETNAM)
    assert period.end == NOW
    assert [(w.year, w.number, w.monday) for w in period.weeks] == [
        (2026, 44, date(2026, 10, 26)),
        (2026, 45, date(2026, 11, 2)),
        (2026, 46, date(2026, 11, 9)),
        (2026, 47, date(2026, 11, 16)),
    ]


def test_a_monday_morning_in_viet_nam_is_already_the_new_week() -> None:
    """Monday 00:30 in Viet Nam is Sunday 17:30 UTC: the week is the local one."""
    monday = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    assert last_weeks(monday, 1, VIETNAM).weeks == (Week(2026, 48, date(2026, 11, 23)),)
    found = figures(last_weeks(monday, 2, VIETNAM), [row(monday - MINUTE)], Ratings(), {})
    assert [count for _, count in found.by_week] == [0, 1]


def test_iso_weeks_cross_the_new_year() -> None:
    assert week_of(date(2027, 1, 1)) == Week(2026, 53, date(2026, 12, 28))
    assert week_of(date(2025, 12, 29)) == Week(2026, 1, date(2025, 12, 29))


@pytest.mark.parametrize(
    ("asked", "weeks"),
    [("4", 4), ("12", 12), ("52", 52), (None, 12), ("", 12), ("5", 12), ("-4", 12), ("x", 12)],
)
def test_only_the_offered_periods_are_taken(asked: str | None, weeks: int) -> None:
    assert period_weeks(asked) == weeks


def test_median_of_odd_even_and_none() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 10.0]) == 2.5
    assert median([]) is None


def test_delivery_within_a_day_counts_only_dossiers_a_day_old() -> None:
    old = NOW - timedelta(days=3)
    rows = [
        row(old, delivered=timedelta(hours=2)),
        row(old, delivered=timedelta(hours=24)),  # exactly a day: in time
        row(old, delivered=timedelta(hours=24, seconds=1)),
        row(old),  # never delivered
        row(NOW - timedelta(hours=5)),  # too recent to count either way
    ]
    assert delivered_within(rows, NOW) == Share(2, 4)
    assert Share(2, 4).value == 0.5
    assert Share(0, 0).value is None


def test_figures_of_a_period() -> None:
    period = last_weeks(NOW, 2, VIETNAM)
    monday = datetime(2026, 11, 9, 1, tzinfo=UTC)  # 08:00 local, week 46
    rows = [
        row(monday, "1.001193", "done", done=timedelta(days=2), delivered=timedelta(hours=1)),
        row(monday, "1.001193", "returned", done=timedelta(days=5), delivered=timedelta(hours=30)),
        row(monday + timedelta(days=7), "2.000986", "received", delivered=timedelta(hours=3)),
        row(monday - timedelta(days=1), "2.000986", "done"),  # before the period
    ]
    found = figures(period, rows, Ratings(4, 17, 3), {"vneid": 2, "other": 0})
    assert found.dossiers == 3
    assert [(w.number, n) for w, n in found.by_week] == [(46, 2), (47, 1)]
    assert found.by_procedure == (("1.001193", 2), ("2.000986", 1))
    assert found.by_status == {"done": 1, "returned": 1, "received": 1}
    assert (found.median_days, found.with_result) == (3.5, 2)
    assert found.within_24h == Share(2, 3)
    assert found.ratings.average == 4.25
    assert found.ratings.satisfaction == Share(3, 4)
    assert found.assistance == {"vneid": 2}
    week46, week47 = period.weeks
    assert found.by_week_procedure == {
        (week46, "1.001193"): {"done": 1, "returned": 1},
        (week47, "2.000986"): {"received": 1},
    }


def test_the_compact_figures_carry_no_names_and_round_shares() -> None:
    period = last_days(NOW, 28)
    start = NOW - timedelta(days=10)
    rows = [row(start, done=timedelta(days=1, hours=3), delivered=timedelta(hours=1))] * 2
    rows.append(row(start, status="queued"))
    found = figures(period, rows, Ratings(3, 12, 2), {"account": 1, "lookup": 4})
    assert found.compact() == {
        "period_days": 28,
        "dossiers": 3,
        "by_status": {"received": 2, "queued": 1},
        "median_days_to_result": 1.1,
        "delivered_within_24h": 0.667,
        "ratings": 3,
        "satisfaction": 0.667,
        "assistance": 5,
    }


def test_nothing_to_count_gives_no_share_and_no_median() -> None:
    found = figures(Period(NOW - timedelta(days=28), NOW), [], Ratings(), {})
    compact = found.compact()
    assert compact["dossiers"] == 0 and compact["by_status"] == {}
    assert (compact["median_days_to_result"], compact["delivered_within_24h"]) == (None, None)
    assert (compact["satisfaction"], found.ratings.average) == (None, None)
