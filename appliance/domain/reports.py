"""The commune's figures: dossiers per week, procedure and status, time to result, delivery within
a day, satisfaction and help given without a dossier.

Pure arithmetic over plain rows the store hands in, so the station's page, its CSV and the
heartbeat all count the same way. Weeks are ISO weeks (Monday first) in the hamlet's local time.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

PERIOD_WEEKS = (4, 12, 52)  # what the station's page offers
DEFAULT_WEEKS = 12
HEARTBEAT_DAYS = 28
DELIVERY_LIMIT = timedelta(hours=24)
GOOD_RATING = 4  # 4 or 5 stars: a satisfied resident
DAY_SECONDS = 86400


@dataclass(frozen=True)
class Week:
    """An ISO week: "Tuần 47/2026", starting on `monday`."""

    year: int
    number: int
    monday: date


@dataclass(frozen=True)
class Period:
    """[start, end) in aware datetimes, and the weeks it covers (none for a rolling period)."""

    start: datetime
    end: datetime
    weeks: tuple[Week, ...] = ()

    @property
    def days(self) -> int:
        return round((self.end - self.start).total_seconds() / DAY_SECONDS)


@dataclass(frozen=True)
class DossierRow:
    """One submitted dossier as the reports need it, nothing personal."""

    procedure: str
    status: str
    submitted_at: datetime
    done_at: datetime | None  # the first time the commune said the result was ready
    delivered_at: datetime | None  # its manifest reached the commune


@dataclass(frozen=True)
class Share:
    """`part` of `whole`; no share at all when there is nothing to count."""

    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return None if self.whole == 0 else self.part / self.whole


@dataclass(frozen=True)
class Ratings:
    """The residents' ratings in a period, as the store sums them."""

    count: int = 0
    total: int = 0  # the sum of the stars
    good: int = 0  # rated GOOD_RATING or better

    @property
    def average(self) -> float | None:
        return None if self.count == 0 else self.total / self.count

    @property
    def satisfaction(self) -> Share:
        return Share(self.good, self.count)


@dataclass(frozen=True)
class Figures:
    period: Period
    dossiers: int
    by_week: tuple[tuple[Week, int], ...]
    by_procedure: tuple[tuple[str, int], ...]  # most dossiers first
    by_status: dict[str, int]
    by_week_procedure: dict[tuple[Week, str], Counter[str]]  # status counts, for the CSV
    median_days: float | None
    with_result: int  # the dossiers the median is over
    within_24h: Share
    ratings: Ratings
    assistance: dict[str, int] = field(default_factory=dict)

    def compact(self) -> dict[str, Any]:
        """The figures the heartbeat carries: counts and shares, never a name or a number."""
        return {
            "period_days": self.period.days,
            "dossiers": self.dossiers,
            "by_status": dict(self.by_status),
            "median_days_to_result": _rounded(self.median_days),
            "delivered_within_24h": _rounded(self.within_24h.value, 3),
            "ratings": self.ratings.count,
            "satisfaction": _rounded(self.ratings.satisfaction.value, 3),
            "assistance": sum(self.assistance.values()),
        }


def last_weeks(now: datetime, weeks: int, zone: tzinfo) -> Period:
    """The `weeks` ISO weeks ending with the current one, in local time, up to `now`."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    return Period(start, now, tuple(week_of(first + timedelta(weeks=n)) for n in range(weeks)))


def last_days(now: datetime, days: int) -> Period:
    return Period(now - timedelta(days=days), now)


def period_weeks(asked: str | None) -> int:
    """The period the page asked for (`?tuan=`), or the default for anything else."""
    try:
        weeks = int(asked or "")
    except ValueError:
        return DEFAULT_WEEKS
    return weeks if weeks in PERIOD_WEEKS else DEFAULT_WEEKS


def week_of(day: date) -> Week:
    year, number, weekday = day.isocalendar()
    return Week(year, number, day - timedelta(days=weekday - 1))


def median(values: Iterable[float]) -> float | None:
    found = list(values)
    return statistics.median(found) if found else None


def figures(
    period: Period,
    rows: Iterable[DossierRow],
    ratings: Ratings,
    assistance: Mapping[str, int],
) -> Figures:
    """Everything the page, the CSV and the heartbeat show, from the period's rows."""
    found = [row for row in rows if period.start <= row.submitted_at < period.end]
    zone = period.start.tzinfo
    weekly: Counter[Week] = Counter()
    detail: dict[tuple[Week, str], Counter[str]] = {}
    for row in found:
        week = week_of(row.submitted_at.astimezone(zone).date())
        weekly[week] += 1
        detail.setdefault((week, row.procedure), Counter())[row.status] += 1
    days = [
        (row.done_at - row.submitted_at).total_seconds() / DAY_SECONDS
        for row in found
        if row.done_at is not None
    ]
    procedures = Counter(row.procedure for row in found)
    return Figures(
        period=period,
        dossiers=len(found),
        by_week=tuple((week, weekly[week]) for week in period.weeks),
        by_procedure=tuple(sorted(procedures.items(), key=lambda item: (-item[1], item[0]))),
        by_status=dict(Counter(row.status for row in found).most_common()),
        by_week_procedure=dict(sorted(detail.items(), key=_week_then_procedure)),
        median_days=median(days),
        with_result=len(days),
        within_24h=delivered_within(found, period.end),
        ratings=ratings,
        assistance={kind: count for kind, count in assistance.items() if count},
    )


def delivered_within(rows: Iterable[DossierRow], now: datetime) -> Share:
    """Of the dossiers submitted at least a day ago, those that reached the commune in a day."""
    due = [row for row in rows if now - row.submitted_at >= DELIVERY_LIMIT]
    quick = sum(
        1
        for row in due
        if row.delivered_at is not None and row.delivered_at - row.submitted_at <= DELIVERY_LIMIT
    )
    return Share(quick, len(due))


def _week_then_procedure(item: tuple[tuple[Week, str], Counter[str]]) -> tuple[date, str]:
    (week, procedure), _ = item
    return week.monday, procedure


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)
