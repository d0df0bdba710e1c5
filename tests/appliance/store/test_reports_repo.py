"""The reports' queries on a seeded store: a few hundred dossiers over many weeks, their status
events, manifests, ratings and the assistance log, counted right in a handful of statements."""

from __future__ import annotations

import statistics
import uuid as uuids
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from appliance.domain.reports import Share, last_days, last_weeks
from appliance.receipts import VIETNAM
from appliance.store.assistance_repo import AssistanceError, AssistanceRepo
from appliance.store.db import make_sessions
from appliance.store.reports_repo import ReportsRepo
from appliance.store.tables import Assistance, Dossier, Event, Feedback
from tests.support.report_rows import manifest, submitted_dossier

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # Sunday 10:00 in Viet Nam, week 47
PROCEDURES = ("1.001193", "2.000986", "1.004227")
STATUSES = ("queued", "sent", "received", "done", "returned", "needs_more")
COUNT = 360
HOURS_APART = 11  # 360 dossiers over 165 days: some before any period


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


def submitted(i: int) -> datetime:
    return NOW - timedelta(hours=HOURS_APART * i + 1)


def delivery_hours(i: int) -> int | None:
    """When dossier i's manifest reached the commune; None: not yet."""
    return None if i % 7 == 0 else (30 if i % 4 == 0 else 2)


def rated_at(i: int) -> datetime:
    return submitted(i) + timedelta(hours=2)


def done_days(i: int) -> int | None:
    return i % 9 + 1 if i % 3 == 0 else None


def _dossier(session: Session, i: int) -> Dossier:
    return submitted_dossier(
        session,
        submitted(i),
        PROCEDURES[i % 3],
        STATUSES[i % len(STATUSES)],
        code=f"XB-{i:05d}",
        uuid=str(uuids.UUID(int=i + 1)),
        name=f"Người nộp {i}",
        phone="0912345678",
    )


def _status(row: Dossier, to: str, at: datetime) -> Event:
    return Event(dossier_id=row.id, kind="status", payload={"from": "x", "to": to}, created_at=at)


def _history(session: Session, row: Dossier, i: int) -> None:
    moment = row.submitted_at
    assert moment is not None
    hours, days = delivery_hours(i), done_days(i)
    manifest(session, row, None if hours is None else moment + timedelta(hours=hours))
    session.add(_status(row, "received", moment + timedelta(hours=5)))
    if days is not None:
        session.add(_status(row, "done", moment + timedelta(days=days)))
        session.add(_status(row, "done", moment + timedelta(days=days + 30)))  # a second word
    session.add(
        Event(dossier_id=row.id, kind="sms_sent", payload={"to": "done"}, created_at=moment)
    )
    if i % 5 == 0:
        rating = 1 + i % 5 + i % 4 if i % 4 < 2 else 5
        session.add(
            Feedback(
                dossier_id=row.id,
                rating=min(rating, 5),
                channel="status",
                created_at=rated_at(i),
            )
        )


def seed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for i in range(COUNT):
            _history(session, _dossier(session, i), i)
        draft = Dossier(
            uuid=str(uuids.uuid4()), procedure_code=PROCEDURES[0], created_at=NOW, updated_at=NOW
        )
        session.add(draft)
        for i in range(40):
            session.add(
                Assistance(
                    kind=("vneid", "account", "explained", "lookup", "other")[i % 5],
                    volunteer="lan",
                    created_at=NOW - timedelta(days=3 * i, hours=1),
                )
            )


def expected(since: datetime) -> dict[str, Any]:
    """The figures worked out from the seed's own rules, one dossier at a time."""
    picked = [i for i in range(COUNT) if submitted(i) >= since]
    old = [i for i in picked if NOW - submitted(i) >= timedelta(hours=24)]
    quick = [i for i in old if (delivery_hours(i) or 99) <= 24]
    days = [float(d) for i in picked if (d := done_days(i)) is not None]
    rated = [i for i in range(0, COUNT, 5) if since <= rated_at(i) < NOW]
    stars = [min(1 + i % 5 + i % 4 if i % 4 < 2 else 5, 5) for i in rated]
    helped = [i for i in range(40) if NOW - timedelta(days=3 * i, hours=1) >= since]
    return {
        "dossiers": len(picked),
        "by_procedure": Counter(PROCEDURES[i % 3] for i in picked),
        "by_status": Counter(STATUSES[i % len(STATUSES)] for i in picked),
        "median": statistics.median(days) if days else None,
        "with_result": len(days),
        "within": Share(len(quick), len(old)),
        "ratings": (len(stars), sum(stars), sum(1 for s in stars if s >= 4)),
        "assistance": Counter(
            ("vneid", "account", "explained", "lookup", "other")[i % 5] for i in helped
        ),
    }


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent while the test runs."""
    sent: list[str] = []

    def note(*args: Any) -> None:
        sent.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", note)
    yield sent
    event.remove(engine, "before_cursor_execute", note)


@pytest.mark.parametrize("weeks", [4, 12, 52])
def test_the_figures_of_a_seeded_store(
    sessions: sessionmaker[Session], statements: list[str], weeks: int
) -> None:
    seed(sessions)
    period = last_weeks(NOW, weeks, VIETNAM)
    statements.clear()
    found = ReportsRepo(sessions).figures(period)
    want = expected(period.start)
    assert found.dossiers == want["dossiers"] > 0
    assert dict(found.by_procedure) == want["by_procedure"]
    assert found.by_status == want["by_status"]
    assert found.median_days == want["median"]
    assert found.with_result == want["with_result"]
    assert found.within_24h == want["within"]
    ratings = found.ratings
    assert (ratings.count, ratings.total, ratings.good) == want["ratings"]
    assert found.assistance == want["assistance"]
    assert sum(n for _, n in found.by_week) == found.dossiers
    assert len(statements) <= 4, statements  # a few queries, not one per dossier


def test_weekly_counts_follow_local_weeks(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    found = ReportsRepo(sessions).figures(last_weeks(NOW, 12, VIETNAM))
    by_week: Counter[date] = Counter()
    for i in range(COUNT):
        local = submitted(i).astimezone(VIETNAM)
        by_week[local.date() - timedelta(days=local.weekday())] += 1
    assert [(w.monday, n) for w, n in found.by_week] == [
        (w.monday, by_week[w.monday]) for w, _ in found.by_week
    ]
    details = Counter[tuple[object, str]]()
    for (week, code), counts in found.by_week_procedure.items():
        details[(week.monday, code)] += sum(counts.values())
    assert sum(details.values()) == found.dossiers


def test_the_heartbeat_figures_are_the_last_28_days(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    compact = ReportsRepo(sessions).heartbeat(NOW)
    want = expected(NOW - timedelta(days=28))
    assert compact["period_days"] == 28
    assert compact["dossiers"] == want["dossiers"]
    assert compact["by_status"] == dict(want["by_status"])
    assert compact["assistance"] == sum(want["assistance"].values())
    assert compact == ReportsRepo(sessions).figures(last_days(NOW, 28)).compact()
    names = {f"Người nộp {i}" for i in range(COUNT)} | {"0912345678"}
    assert not any(name in str(compact) for name in names)


def test_an_empty_store_has_nothing_to_report(sessions: sessionmaker[Session]) -> None:
    compact = ReportsRepo(sessions).heartbeat(NOW)
    assert compact == {
        "period_days": 28,
        "dossiers": 0,
        "by_status": {},
        "median_days_to_result": None,
        "delivered_within_24h": None,
        "ratings": 0,
        "satisfaction": None,
        "assistance": 0,
    }


def test_the_assistance_log_records_lists_and_takes_back(
    sessions: sessionmaker[Session],
) -> None:
    repo = AssistanceRepo(sessions)
    yesterday = repo.record("vneid", None, "lan", NOW - timedelta(days=1))
    mine = repo.record("account", "  cài app cho bà  ", "lan", NOW)
    theirs = repo.record("lookup", "", "hoa", NOW + timedelta(minutes=5))
    today = repo.today(NOW + timedelta(hours=1), VIETNAM)
    assert [(e.kind, e.note, e.volunteer) for e in today] == [
        ("lookup", None, "hoa"),
        ("account", "cài app cho bà", "lan"),
    ]
    later = NOW + timedelta(hours=1)
    assert not repo.take_back(theirs.id, "lan", later, VIETNAM)  # someone else's
    assert not repo.take_back(yesterday.id, "lan", later, VIETNAM)  # not today's
    assert repo.take_back(mine.id, "lan", later, VIETNAM)
    assert not repo.take_back(mine.id, "lan", later, VIETNAM)  # already gone
    assert [e.id for e in repo.today(later, VIETNAM)] == [theirs.id]


@pytest.mark.parametrize(("kind", "note"), [("typo", None), ("", None), ("other", "x" * 201)])
def test_the_assistance_log_refuses_bad_entries(
    sessions: sessionmaker[Session], kind: str, note: str | None
) -> None:
    with pytest.raises(AssistanceError, match=" / "):
        AssistanceRepo(sessions).record(kind, note, "lan", NOW)
    assert AssistanceRepo(sessions).today(NOW, VIETNAM) == []
