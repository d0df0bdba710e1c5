"""The queries behind the commune's figures: three small ones per report, over indexed columns.

One row per dossier submitted in the period (its result time from the events by dossier, its
delivery time from the manifest's outbox row by its unique key), then the ratings and the
assistance log summed in SQL. The arithmetic is appliance.domain.reports'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.domain.reports import (
    GOOD_RATING,
    HEARTBEAT_DAYS,
    DossierRow,
    Figures,
    Period,
    Ratings,
    figures,
    last_days,
)
from appliance.store.tables import Assistance, Dossier, Event, Feedback, OutboxItem


class ReportsRepo:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def figures(self, period: Period) -> Figures:
        with self._sessions() as session:
            rows = dossier_rows(session, period)
            rated = ratings(session, period)
            helped = assistance(session, period)
        return figures(period, rows, rated, helped)

    def heartbeat(self, now: datetime) -> dict[str, Any]:
        """The compact figures of the last HEARTBEAT_DAYS days, for the fleet page."""
        return self.figures(last_days(now, HEARTBEAT_DAYS)).compact()


def dossier_rows(session: Session, period: Period) -> list[DossierRow]:
    done_at = (
        select(func.min(Event.created_at))
        .where(
            Event.dossier_id == Dossier.id,
            Event.kind == "status",
            Event.payload["to"].as_string() == "done",
        )
        .correlate(Dossier)
        .scalar_subquery()
    )
    manifest = and_(OutboxItem.kind == "manifest", OutboxItem.key == Dossier.uuid)
    query = (
        select(
            Dossier.procedure_code,
            Dossier.status,
            Dossier.submitted_at,
            done_at,
            OutboxItem.delivered_at,
        )
        .outerjoin(OutboxItem, manifest)
        .where(Dossier.submitted_at >= period.start, Dossier.submitted_at < period.end)
    )
    return [
        DossierRow(procedure, status, submitted, done, delivered)
        for procedure, status, submitted, done, delivered in session.execute(query)
        if submitted is not None
    ]


def ratings(session: Session, period: Period) -> Ratings:
    query = select(
        func.count(Feedback.id),
        func.coalesce(func.sum(Feedback.rating), 0),
        func.coalesce(func.sum(case((Feedback.rating >= GOOD_RATING, 1), else_=0)), 0),
    ).where(Feedback.created_at >= period.start, Feedback.created_at < period.end)
    count, total, good = session.execute(query).one()
    return Ratings(int(count), int(total), int(good))


def assistance(session: Session, period: Period) -> dict[str, int]:
    query = (
        select(Assistance.kind, func.count(Assistance.id))
        .where(Assistance.created_at >= period.start, Assistance.created_at < period.end)
        .group_by(Assistance.kind)
    )
    return {kind: int(count) for kind, count in session.execute(query)}
