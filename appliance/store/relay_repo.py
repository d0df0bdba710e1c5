"""The relay's writes to dossiers: status changes with their history, the commune's decisions from
the updates feed, and the relay's durable facts (updates cursor, catalog ETag) in `relay_state`.

A page of updates and the cursor after it are one transaction, and updates at or before the
stored cursor are skipped inside it: each decision is applied exactly once, whatever crashes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from appliance.domain.dossier import can_transition, transition
from appliance.domain.protocol import OFFICER_STATUSES
from appliance.store.sms_queue import queue_sms
from appliance.store.tables import Dossier, Event, RelayState

log = logging.getLogger(__name__)
UPDATES = "updates"  # relay_state names
CATALOG = "catalog"
SMS_EVENTS = ("received", "needs_more", "rejected", "done")  # decisions a resident is told of


@dataclass(frozen=True)
class StatusChange:
    """The words of one move in a dossier's history (the Event payload H4's history reads)."""

    new: str
    actor: str  # "relay" for queued → sent on delivery, "commune" for the feed's decisions
    update_id: int | None = None
    note: str | None = None
    appointment_date: str | None = None  # "YYYY-MM-DD"

    def payload(self, old: str) -> dict[str, Any]:
        return {
            "from": old,
            "to": self.new,
            "update_id": self.update_id,
            "note": self.note,
            "appointment_date": self.appointment_date,
        }


@dataclass(frozen=True)
class Applied:
    """What one page of updates did, for the log."""

    applied: int = 0
    skipped: int = 0  # unknown dossier, same status again, malformed, already applied
    ignored: int = 0  # a move the lifecycle does not allow (an Event says so)


def change_status(session: Session, row: Dossier, change: StatusChange, now: datetime) -> None:
    """Move the dossier (the lifecycle must allow it) and write the history line."""
    old = row.status
    row.status = transition(old, change.new)
    row.updated_at = now
    session.add(
        Event(
            dossier_id=row.id,
            kind="status",
            payload=change.payload(old),
            actor=change.actor,
            created_at=now,
        )
    )


def mark_sent(session: Session, row: Dossier, now: datetime) -> None:
    """The upstream has the manifest: a queued dossier is now sent. A dossier that moved on
    meanwhile (the resident withdrew it) stays as it is."""
    if row.status == "queued":
        change_status(session, row, StatusChange("sent", "relay"), now)


class RelayRepo:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def state(self, name: str) -> dict[str, Any]:
        """A stored fact of the relay; {} when never stored."""
        with self._sessions() as session:
            row = session.get(RelayState, name)
            return dict(row.value) if row is not None else {}

    def set_state(self, name: str, value: Mapping[str, Any], now: datetime) -> None:
        with self._sessions.begin() as session:
            _put_state(session, name, value, now)

    def cursor(self) -> int:
        found = self.state(UPDATES).get("cursor", 0)
        return found if isinstance(found, int) and found >= 0 else 0

    def apply_updates(
        self, updates: Sequence[Mapping[str, Any]], cursor: int, now: datetime
    ) -> Applied:
        """Apply a page of the feed and store the cursor after it, all in one transaction."""
        counts = {"applied": 0, "skipped": 0, "ignored": 0}
        with self._sessions.begin() as session:
            # Writing first takes the write lock, so two relays cannot apply one page twice.
            stored = _claim_cursor(session, now)
            for item in updates:
                update_id = item.get("id")
                if isinstance(update_id, int) and update_id <= stored:
                    counts["skipped"] += 1
                    continue
                counts[_apply_one(session, item, now)] += 1
            if cursor > stored:
                _put_state(session, UPDATES, {"cursor": cursor}, now)
        return Applied(**counts)


def _claim_cursor(session: Session, now: datetime) -> int:
    """The stored cursor, read by a write (an upsert) so the transaction holds the write lock."""
    statement = sqlite_insert(RelayState).values(name=UPDATES, value={"cursor": 0}, updated_at=now)
    value = session.scalar(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={"updated_at": statement.excluded.updated_at}
        ).returning(RelayState.value)
    )
    found = value.get("cursor", 0) if isinstance(value, dict) else 0
    return found if isinstance(found, int) else 0


def _put_state(session: Session, name: str, value: Mapping[str, Any], now: datetime) -> None:
    statement = sqlite_insert(RelayState).values(name=name, value=dict(value), updated_at=now)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        )
    )


def _apply_one(session: Session, item: Mapping[str, Any], now: datetime) -> str:
    """One decision of the commune; returns which count it adds to."""
    change = _change(item)
    if change is None:
        log.warning("malformed update skipped / bỏ qua cập nhật hỏng: %r", dict(item))
        return "skipped"
    uuid = item["uuid"]
    row = session.scalars(select(Dossier).where(Dossier.uuid == uuid)).first()
    if row is None:
        log.warning("update %s for unknown dossier %s skipped", change.update_id, uuid)
        return "skipped"
    mark_sent(session, row, now)  # the manifest was delivered but not yet marked
    if row.status == change.new:
        return "skipped"
    if not can_transition(row.status, change.new):
        log.warning(
            "update %s ignored: dossier %s cannot move from %s to %s",
            change.update_id,
            uuid,
            row.status,
            change.new,
        )
        session.add(
            Event(
                dossier_id=row.id,
                kind="status_ignored",
                payload=change.payload(row.status),
                actor=change.actor,
                created_at=now,
            )
        )
        return "ignored"
    change_status(session, row, change, now)
    row.officer_note = change.note
    if change.appointment_date is not None:
        row.result_due = date.fromisoformat(change.appointment_date)
    if change.new in SMS_EVENTS:
        _queue_sms(session, row, change, now)
    return "applied"


def _change(item: Mapping[str, Any]) -> StatusChange | None:
    """The update as a StatusChange, or None when it is not one the feed may carry."""
    update_id, uuid, status = item.get("id"), item.get("uuid"), item.get("status")
    note, due = item.get("note"), item.get("appointment_date")
    if not (isinstance(update_id, int) and not isinstance(update_id, bool) and update_id > 0):
        return None
    if not isinstance(uuid, str) or status not in OFFICER_STATUSES:
        return None
    if note is not None and not isinstance(note, str):
        return None
    if due is not None and not _is_date(due):
        return None
    return StatusChange(str(status), "commune", update_id, note, due)


def _is_date(value: object) -> bool:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _queue_sms(session: Session, row: Dossier, change: StatusChange, now: datetime) -> None:
    """The resident's SMS for this decision, once per update (sent by the relay's SMS sender)."""
    if row.phone is None:
        return
    params = {
        "code": row.receipt_code,
        "procedure": row.procedure_code,
        "note": change.note,
        "date": change.appointment_date,
    }
    queue_sms(
        session,
        key=f"status:{row.uuid}:{change.update_id}",
        event=change.new,
        to=row.phone,
        params=params,
        lang=row.lang,
        now=now,
        dossier_id=row.id,
    )
