"""The assistance log: one row per piece of help a volunteer gave without a dossier.

A row holds a kind, an optional short note, the volunteer's account name and the time, never a
resident's details. A volunteer may take back their own entry of today (a mistaken tap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.errors import HamletBoxError
from appliance.store.tables import ASSIST_KINDS, Assistance

NOTE_MAX = 200


class AssistanceError(HamletBoxError):
    """A kind the log does not know, or a note too long: "Vietnamese / English"."""


@dataclass(frozen=True)
class Entry:
    id: int
    kind: str
    note: str | None
    volunteer: str
    created_at: datetime


class AssistanceRepo:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(self, kind: str, note: str | None, volunteer: str, now: datetime) -> Entry:
        if kind not in ASSIST_KINDS:
            raise AssistanceError("Loại trợ giúp không có trong danh sách / Unknown kind of help")
        text = (note or "").strip() or None
        if text is not None and len(text) > NOTE_MAX:
            raise AssistanceError(
                f"Ghi chú dài quá {NOTE_MAX} ký tự / The note is over {NOTE_MAX} characters"
            )
        row = Assistance(kind=kind, note=text, volunteer=volunteer, created_at=now)
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            return _entry(row)

    def today(self, now: datetime, zone: tzinfo) -> list[Entry]:
        """Today's entries (local time), latest first."""
        query = (
            select(Assistance)
            .where(Assistance.created_at >= _midnight(now, zone))
            .order_by(Assistance.created_at.desc(), Assistance.id.desc())
        )
        with self._sessions() as session:
            return [_entry(row) for row in session.scalars(query)]

    def take_back(self, entry_id: int, volunteer: str, now: datetime, zone: tzinfo) -> bool:
        """Delete the volunteer's own entry from today; False when there is no such entry."""
        query = delete(Assistance).where(
            Assistance.id == entry_id,
            Assistance.volunteer == volunteer,
            Assistance.created_at >= _midnight(now, zone),
        )
        with self._sessions.begin() as session:
            gone = session.scalars(query.returning(Assistance.id)).all()
        return bool(gone)


def _midnight(now: datetime, zone: tzinfo) -> datetime:
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _entry(row: Assistance) -> Entry:
    return Entry(row.id, row.kind, row.note, row.volunteer, row.created_at)
