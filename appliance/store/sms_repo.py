"""The SMS rows of the outbox as the relay's SMS sender and the technician's page work them.

Ack after send, like the upstream outbox, with one difference: a message cut off mid-send may
have gone, so it becomes "unsure" and is never sent again by itself (one SMS per event, never
two). Sent messages are written as "sms_sent" events: the per-number hourly limit counts them,
and the technician page lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.sms_queue import KIND
from appliance.store.tables import Event, OutboxItem, SmsTemplate

SENT = "sms_sent"  # the event kind of a message the modem took
CUT_OFF = (
    "Đang gửi thì hộp dừng: tin có thể đã đi, không tự gửi lại / "
    "The box stopped mid-send: it may have gone, so it is not resent by itself"
)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class SmsItem:
    """One queued message: its row, the event and number, and what fills its template."""

    id: int
    key: str
    event: str
    to: str
    lang: str
    params: dict[str, str | None]
    dossier_id: int | None
    attempts: int
    state: str
    next_attempt_at: datetime
    created_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class SentSms:
    at: datetime
    key: str
    event: str
    to: str
    text: str
    parts: int


def _item(row: OutboxItem) -> SmsItem:
    payload: dict[str, Any] = row.payload or {}
    params = payload.get("params")
    return SmsItem(
        id=row.id,
        key=row.key,
        event=str(payload.get("event", "")),
        to=str(payload.get("to", "")),
        lang=str(payload.get("lang", "vi")),
        params=dict(params) if isinstance(params, dict) else {},
        dossier_id=row.dossier_id,
        attempts=row.attempts,
        state=row.state,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        last_error=row.last_error,
    )


class SmsRepo:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def mark_cut_off(self, now: datetime) -> int:
        """At start: messages left in flight by a crash become unsure; how many."""
        return self._move(("in_flight",), "unsure", now, last_error=CUT_OFF)

    def cancel_pending(self, now: datetime, reason: str) -> int:
        """SMS turned off: every waiting message is cancelled; how many."""
        return self._move(("pending",), "cancelled", now, last_error=reason)

    def _move(self, states: tuple[str, ...], state: str, now: datetime, **values: Any) -> int:
        with self._sessions.begin() as session:
            result = session.execute(
                update(OutboxItem)
                .where(OutboxItem.kind == KIND, OutboxItem.state.in_(states))
                .values(state=state, updated_at=now, **values)
                .returning(OutboxItem.id)
            )
            return len(result.all())

    def due(self, now: datetime, limit: int = 20) -> list[SmsItem]:
        """Pending messages whose time has come, oldest first (not yet claimed)."""
        query = (
            select(OutboxItem)
            .where(OutboxItem.kind == KIND, OutboxItem.state == "pending")
            .where(OutboxItem.next_attempt_at <= now)
            .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
            .limit(limit)
        )
        with self._sessions() as session:
            return [_item(row) for row in session.scalars(query)]

    def get(self, item_id: int) -> SmsItem | None:
        with self._sessions() as session:
            row = session.get(OutboxItem, item_id)
            return None if row is None or row.kind != KIND else _item(row)

    def next_due_at(self) -> datetime | None:
        with self._sessions() as session:
            found: datetime | None = session.scalar(
                select(func.min(OutboxItem.next_attempt_at)).where(
                    OutboxItem.kind == KIND, OutboxItem.state == "pending"
                )
            )
        return found

    def claim(self, item_id: int, now: datetime) -> SmsItem | None:
        """pending -> in_flight with one more attempt; None when it is no longer pending."""
        statement = (
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.kind == KIND)
            .where(OutboxItem.state == "pending")
            .values(state="in_flight", attempts=OutboxItem.attempts + 1, updated_at=now)
            .returning(OutboxItem)
        )
        with self._sessions.begin() as session:
            row = session.scalars(statement).first()
            return None if row is None else _item(row)

    def delivered(
        self, item: SmsItem, now: datetime, text: str, parts: int, references: list[int]
    ) -> None:
        """The modem took every part: the row is done, and an "sms_sent" event says what went."""
        payload = {
            "key": item.key,
            "event": item.event,
            "to": item.to,
            "text": text,
            "parts": parts,
            "references": references,
        }
        with self._sessions.begin() as session:
            self._set(session, item.id, now, state="delivered", delivered_at=now, last_error=None)
            session.add(
                Event(
                    dossier_id=item.dossier_id,
                    kind=SENT,
                    payload=payload,
                    actor="relay",
                    created_at=now,
                )
            )

    def retry(self, item_id: int, now: datetime, error: str, delay: float) -> None:
        with self._sessions.begin() as session:
            when = now + timedelta(seconds=delay)
            self._set(
                session, item_id, now, state="pending", next_attempt_at=when, last_error=error
            )

    def postpone(self, item_id: int, now: datetime, until: datetime, reason: str) -> None:
        """Wait without counting an attempt (the number's hourly limit is reached)."""
        with self._sessions.begin() as session:
            self._set(session, item_id, now, next_attempt_at=until, last_error=reason)

    def reject(self, item_id: int, now: datetime, reason: str) -> None:
        with self._sessions.begin() as session:
            self._set(session, item_id, now, state="rejected", last_error=reason)

    def unsure(self, item_id: int, now: datetime, reason: str) -> None:
        with self._sessions.begin() as session:
            self._set(session, item_id, now, state="unsure", last_error=reason)

    def cancel(self, item_id: int, now: datetime, reason: str) -> None:
        with self._sessions.begin() as session:
            self._set(session, item_id, now, state="cancelled", last_error=reason)

    def _set(self, session: Session, item_id: int, now: datetime, **values: Any) -> None:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.kind == KIND)
            .values(updated_at=now, **values)
        )

    def sent_within_hour(self, to: str, now: datetime) -> list[datetime]:
        """When messages to `to` went in the hour before `now`, oldest first."""
        query = (
            select(Event.created_at)
            .where(Event.kind == SENT, Event.created_at > now - HOUR)
            .where(func.json_extract(Event.payload, "$.to") == to)
            .order_by(Event.created_at)
        )
        with self._sessions() as session:
            return list(session.scalars(query))

    def send_again(self, item_id: int, now: datetime, who: str) -> bool:
        """A technician's choice: an unsure or rejected message goes back to the queue, due now."""
        with self._sessions.begin() as session:
            row = session.scalars(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.kind == KIND)
                .where(OutboxItem.state.in_(("unsure", "rejected")))
                .values(state="pending", next_attempt_at=now, updated_at=now, last_error=None)
                .returning(OutboxItem)
            ).first()
            if row is None:
                return False
            payload = {"key": row.key, "was": "unsure/rejected"}
            session.add(
                Event(
                    dossier_id=row.dossier_id,
                    kind="sms_resend",
                    payload=payload,
                    actor=who,
                    created_at=now,
                )
            )
            return True

    def recent_sent(self, limit: int = 50) -> list[SentSms]:
        query = select(Event).where(Event.kind == SENT).order_by(Event.id.desc()).limit(limit)
        with self._sessions() as session:
            return [_sent(row) for row in session.scalars(query)]

    def listed(self, states: tuple[str, ...], limit: int = 100) -> list[SmsItem]:
        """Messages in these states, newest change first (the technician page's lists)."""
        query = (
            select(OutboxItem)
            .where(OutboxItem.kind == KIND, OutboxItem.state.in_(states))
            .order_by(OutboxItem.updated_at.desc(), OutboxItem.id.desc())
            .limit(limit)
        )
        with self._sessions() as session:
            return [_item(row) for row in session.scalars(query)]

    def templates(self) -> dict[tuple[str, str], str]:
        """The technician's wordings by (event, lang); events without one use the built-in."""
        with self._sessions() as session:
            rows = session.scalars(select(SmsTemplate))
            return {(row.event, row.lang): row.text for row in rows}

    def save_template(self, event: str, lang: str, text: str, who: str, now: datetime) -> None:
        statement = sqlite_insert(SmsTemplate).values(
            event=event, lang=lang, text=text, updated_at=now, updated_by=who
        )
        excluded = statement.excluded
        with self._sessions.begin() as session:
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["event", "lang"],
                    set_={
                        "text": excluded.text,
                        "updated_at": excluded.updated_at,
                        "updated_by": excluded.updated_by,
                    },
                )
            )

    def reset_template(self, event: str, lang: str) -> None:
        """Back to the built-in text."""
        with self._sessions.begin() as session:
            session.execute(
                delete(SmsTemplate).where(SmsTemplate.event == event, SmsTemplate.lang == lang)
            )


def _sent(row: Event) -> SentSms:
    payload: dict[str, Any] = row.payload or {}
    return SentSms(
        at=row.created_at,
        key=str(payload.get("key", "")),
        event=str(payload.get("event", "")),
        to=str(payload.get("to", "")),
        text=str(payload.get("text", "")),
        parts=int(payload.get("parts", 1)),
    )
