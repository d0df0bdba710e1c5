"""Every connection keeps the durability rules: WAL, synchronous=FULL, foreign keys, busy wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, StatementError

from appliance.store.db import BUSY_TIMEOUT_MS, make_sessions
from appliance.store.tables import Dossier, OutboxItem, Page

NOW = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)


def _pragmas(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }


def _dossier(**overrides: object) -> Dossier:
    values: dict[str, object] = {
        "uuid": "6f1c2a9e-3b7d-4e58-9a41-0c2d5e8f7b13",
        "receipt_code": "XB1-0001",
        "procedure_code": "1.001193",
        "full_name": "Nguyễn Thị Hồng Nhung",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    return Dossier(**values)


def _page(dossier_id: int) -> Page:
    return Page(
        dossier_id=dossier_id,
        position=1,
        paper_name="Giấy chứng sinh",
        blob_sha256="ab" * 32,
        mode="text",
        width=1654,
        height=2339,
        bytes=81_920,
        created_at=NOW,
    )


def test_every_pooled_connection_has_the_durability_pragmas(engine: Engine) -> None:
    expected = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}
    expected["busy_timeout"] = BUSY_TIMEOUT_MS
    with engine.connect():  # hold one so the next check opens a second connection
        assert _pragmas(engine) == expected
    assert _pragmas(engine) == expected


def test_a_page_of_a_missing_dossier_is_refused(engine: Engine) -> None:
    with make_sessions(engine)() as session:
        session.add(_page(dossier_id=999))
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            session.commit()


def test_deleting_a_dossier_takes_its_pages_but_not_its_undelivered_outbox(engine: Engine) -> None:
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        dossier = _dossier()
        session.add(dossier)
        session.flush()
        session.add(_page(dossier.id))
        session.add(
            OutboxItem(
                kind="manifest",
                key=dossier.uuid,
                dossier_id=dossier.id,
                next_attempt_at=NOW,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    with sessions() as session:
        session.delete(session.get_one(Dossier, dossier.id))
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            session.commit()
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM outbox")
        conn.exec_driver_sql("DELETE FROM dossiers")
        assert conn.exec_driver_sql("SELECT count(*) FROM pages").scalar() == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": "lost"},
        {"status": "queued"},  # left draft without recorded consent
        {"consent_at": NOW},  # consent without the version of the text agreed to
        {"channel": "zalo"},
    ],
)
def test_the_database_refuses_a_dossier_that_breaks_a_rule(
    engine: Engine, overrides: dict[str, object]
) -> None:
    with make_sessions(engine)() as session:
        session.add(_dossier(**overrides))
        with pytest.raises(IntegrityError, match="CHECK"):
            session.commit()


def test_times_come_back_aware_utc_whatever_zone_they_went_in(engine: Engine) -> None:
    hanoi = timezone(timedelta(hours=7))
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        session.add(_dossier(created_at=datetime(2025, 6, 2, 8, 0, tzinfo=hanoi)))
    with sessions() as session:
        stored = session.query(Dossier).one().created_at
    assert stored == NOW
    assert stored.tzinfo is UTC


def test_a_naive_time_is_refused(engine: Engine) -> None:
    with make_sessions(engine)() as session:
        session.add(_dossier(created_at=datetime(2025, 6, 2, 8, 0)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()
