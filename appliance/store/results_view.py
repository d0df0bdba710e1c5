"""The station's results and histories: what the commune finished, and each dossier's story.

The only SQL behind "results to hand out", "handed over" and a dossier's status history. Status
events are written by the relay (actor "relay" for queued -> sent, "commune" for the updates
feed) and by "handed over" here (actor "volunteer:<name>").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from appliance.domain.dossier import DossierError, transition
from appliance.store.queue_view import DossierLine, line
from appliance.store.tables import Dossier, Event

HISTORY_KINDS = ("submitted", "status")


@dataclass(frozen=True)
class ToHandOut:
    dossier: DossierLine
    phone_last4: str
    done_at: datetime  # when the commune said the result is ready
    result_due: date | None


@dataclass(frozen=True)
class Entry:
    """One line of a dossier's history: a status change, by the box or the commune."""

    at: datetime
    actor: str | None
    status: str
    note: str | None
    appointment_date: date | None


@dataclass(frozen=True)
class History:
    dossier: DossierLine
    result_due: date | None
    officer_note: str | None
    entries: tuple[Entry, ...] = field(default_factory=tuple)


class ResultsView:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def to_hand_out(self) -> list[ToHandOut]:
        """Dossiers whose result waits at the cultural house, longest waiting first."""
        with self._sessions() as session:
            rows = session.scalars(select(Dossier).where(Dossier.status == "done")).all()
            since = _reached(session, [row.id for row in rows], "done")
        found = [
            ToHandOut(
                line(row),
                (row.phone or "")[-4:],
                since.get(row.id, row.updated_at),
                row.result_due,
            )
            for row in rows
        ]
        return sorted(found, key=lambda item: item.done_at)

    def history(self, receipt_code: str) -> History | None:
        """A submitted dossier and its status changes in time order; None for an unknown code."""
        with self._sessions() as session:
            row = session.scalars(
                select(Dossier).where(Dossier.receipt_code == receipt_code)
            ).one_or_none()
            if row is None or row.status == "draft":
                return None
            events = session.scalars(
                select(Event)
                .where(Event.dossier_id == row.id, Event.kind.in_(HISTORY_KINDS))
                .order_by(Event.created_at, Event.id)
            ).all()
            entries = tuple(e for e in (_entry(event) for event in events) if e is not None)
            return History(line(row), row.result_due, row.officer_note, entries)

    def hand_over(self, receipt_code: str, actor: str, now: datetime) -> DossierLine:
        """done -> returned with its event, in one transaction; refused (DossierError) when the
        dossier is not waiting any more, so a double click or a second station records it once.

        The guarded UPDATE comes first: it takes SQLite's write lock before anything is read, so
        two requests at once are serialised and the second finds the dossier already returned.
        """
        with self._sessions.begin() as session:
            claimed = session.scalar(
                update(Dossier)
                .where(Dossier.receipt_code == receipt_code, Dossier.status == "done")
                .values(updated_at=now)
                .returning(Dossier.id)
            )
            if claimed is None:
                raise _not_waiting(session, receipt_code)
            row = session.get_one(Dossier, claimed)
            row.status = transition(row.status, "returned")
            session.add(
                Event(
                    dossier_id=row.id,
                    kind="status",
                    payload=_status_payload("done", "returned"),
                    actor=actor,
                    created_at=now,
                )
            )
            return line(row)


def _status_payload(old: str, new: str) -> dict[str, Any]:
    return {"from": old, "to": new, "update_id": None, "note": None, "appointment_date": None}


def _not_waiting(session: Session, receipt_code: str) -> DossierError:
    """Why a dossier could not be handed over: unknown, handed over already, or no result yet."""
    status = session.scalar(select(Dossier.status).where(Dossier.receipt_code == receipt_code))
    if status is None:
        return DossierError("not_found", "Không tìm thấy hồ sơ / Dossier not found")
    if status == "returned":
        return DossierError(
            "already_returned",
            "Hồ sơ này đã được ghi là đã trao rồi / This result was already marked as handed over",
        )
    return DossierError(
        "no_result",
        "Hồ sơ này chưa có kết quả để trao / This dossier has no result to hand out yet",
    )


def _reached(session: Session, dossier_ids: Iterable[int], status: str) -> dict[int, datetime]:
    """When each dossier last moved to `status`, from its status events."""
    ids = list(dossier_ids)
    if not ids:
        return {}
    events = session.scalars(
        select(Event)
        .where(Event.dossier_id.in_(ids), Event.kind == "status")
        .order_by(Event.created_at, Event.id)
    )
    return {
        e.dossier_id: e.created_at
        for e in events
        if e.dossier_id is not None and (e.payload or {}).get("to") == status
    }


def _entry(event: Event) -> Entry | None:
    """A history line from an event; one whose payload names no status is left out."""
    payload = event.payload or {}
    status = payload.get("to")
    if not isinstance(status, str):
        return None
    note = payload.get("note")
    return Entry(
        event.created_at,
        event.actor,
        status,
        note if isinstance(note, str) and note.strip() else None,
        _date(payload.get("appointment_date")),
    )


def _date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
