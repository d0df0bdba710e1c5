"""The outbox as the relay works it: claim the next due item, then record what the upstream said.

All SQL of delivery. Every transaction is short and starts with a write, so it holds SQLite's
write lock from its first statement: two relays can never claim one row, and the web process
(submits, "send now") never makes a relay's transaction fail half-way.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from appliance.store.blobs import BlobError, BlobStore
from appliance.store.relay_repo import mark_sent
from appliance.store.tables import Dossier, OutboxItem

log = logging.getLogger(__name__)
# What the relay sends upstream. SMS rows are the SMS sender's (appliance.relay.sms_sender): an SMS
# cut off mid-send is never put back to pending here, since it may have gone.
DELIVERABLE = ("blob", "manifest")
UNDELIVERED = ("pending", "in_flight")
LOST_ON_BOX = (
    "Tệp trang trên hộp bị mất hoặc hỏng — cần chụp lại / "
    "The page's file on the box is lost or damaged — it must be photographed again"
)
PAGE_NOT_SENT = "Một trang của hồ sơ không gửi được / A page of this dossier could not be sent"


@dataclass(frozen=True)
class Claimed:
    """An item now in flight, with everything needed to send it."""

    id: int
    kind: str
    key: str
    dossier_id: int | None
    payload: dict[str, Any]
    attempts: int  # counting this one
    data: bytes | None = None  # a blob's bytes, read back and checked against its hash


@dataclass(frozen=True)
class OutboxStats:
    queue_depth: int  # dossiers whose manifest is neither delivered nor refused for good
    oldest_undelivered_seconds: int | None
    rejected: int
    conflicts: int
    next_due_at: datetime | None


@dataclass(frozen=True)
class Waiting:
    """An undelivered item, for the end of `relay --once` when the upstream cannot be reached."""

    receipt_code: str | None
    kind: str
    key: str
    attempts: int
    last_error: str | None


def _ready(item: type[OutboxItem] | Any) -> ColumnElement[bool]:
    """A manifest is sendable only once every page blob it names is delivered."""
    blob = aliased(OutboxItem, name="blob")
    pages = func.json_each(item.payload, "$.pages").table_valued("value").alias("page")
    delivered = exists().where(
        blob.kind == "blob",
        blob.key == func.json_extract(pages.c.value, "$.sha256"),
        blob.state == "delivered",
    )
    page_waits = exists(select(pages.c.value).where(not_(delivered)))
    return or_(item.kind != "manifest", not_(page_waits))


def _due(item: type[OutboxItem] | Any, kinds: Sequence[str]) -> ColumnElement[bool]:
    return and_(item.state == "pending", item.kind.in_(kinds), _ready(item))


class OutboxRepo:
    def __init__(self, sessions: sessionmaker[Session], blobs: BlobStore) -> None:
        self._sessions = sessions
        self._blobs = blobs

    def reset_in_flight(self, now: datetime) -> int:
        """At start: whatever was in flight upstream when the relay stopped is sent again."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(OutboxItem)
                .where(OutboxItem.state == "in_flight", OutboxItem.kind.in_(DELIVERABLE))
                .values(state="pending", updated_at=now)
                .returning(OutboxItem.id)
            )
            return len(result.all())

    def claim_next(self, now: datetime, kinds: Sequence[str] = DELIVERABLE) -> Claimed | None:
        """The oldest due item, now in flight with one more attempt; None when nothing is due.

        A blob whose file is lost or damaged on the box is refused here (it can never be sent)
        and the next item is claimed instead.
        """
        while True:
            claimed = self._claim(now, kinds)
            if claimed is None or claimed.kind != "blob":
                return claimed
            try:
                return dataclasses.replace(claimed, data=self._blobs.read(claimed.key))
            except (BlobError, ValueError) as exc:
                log.error("blob %s cannot be sent: %s", claimed.key, exc)
                self.reject(claimed.id, now, LOST_ON_BOX)

    def _claim(self, now: datetime, kinds: Sequence[str]) -> Claimed | None:
        candidate = aliased(OutboxItem, name="candidate")
        oldest = (
            select(candidate.id)
            .where(_due(candidate, kinds), candidate.next_attempt_at <= now)
            .order_by(candidate.id)
            .limit(1)
            .scalar_subquery()
        )
        statement = (
            update(OutboxItem)
            .where(OutboxItem.id == oldest, OutboxItem.state == "pending")
            .values(state="in_flight", attempts=OutboxItem.attempts + 1, updated_at=now)
            .returning(
                OutboxItem.id,
                OutboxItem.kind,
                OutboxItem.key,
                OutboxItem.dossier_id,
                OutboxItem.payload,
                OutboxItem.attempts,
            )
        )
        with self._sessions.begin() as session:
            row = session.execute(statement).first()
        if row is None:
            return None
        return Claimed(row.id, row.kind, row.key, row.dossier_id, row.payload or {}, row.attempts)

    def delivered(self, item_id: int, now: datetime) -> bool:
        """Acknowledged upstream. For a manifest the dossier becomes sent in the same
        transaction; returns True then (the commune's first decision may follow soon)."""
        with self._sessions.begin() as session:
            row = self._set(
                session, item_id, now, state="delivered", delivered_at=now, last_error=None
            )
            if row is None or row.kind != "manifest" or row.dossier_id is None:
                return False
            dossier = session.get(Dossier, row.dossier_id)
            if dossier is not None:
                mark_sent(session, dossier, now)
            return True

    def retry(self, item_id: int, now: datetime, error: str, delay: float) -> None:
        when = now + timedelta(seconds=delay)
        with self._sessions.begin() as session:
            self._set(
                session, item_id, now, state="pending", next_attempt_at=when, last_error=error
            )

    def resend_blobs(
        self, item_id: int, now: datetime, missing: Sequence[str], error: str, delay: float
    ) -> None:
        """The upstream lacks pages a manifest names: send those blobs again at once, and the
        manifest after them."""
        with self._sessions.begin() as session:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.kind == "blob", OutboxItem.key.in_(missing))
                .where(OutboxItem.state.in_(("delivered", "pending")))
                .values(state="pending", next_attempt_at=now, updated_at=now)
            )
            when = now + timedelta(seconds=delay)
            self._set(
                session, item_id, now, state="pending", next_attempt_at=when, last_error=error
            )

    def reject(self, item_id: int, now: datetime, reason: str) -> None:
        """Refused for good. A refused page blob takes the manifests still waiting for it along:
        those could never be sent either."""
        with self._sessions.begin() as session:
            row = self._set(session, item_id, now, state="rejected", last_error=reason)
            if row is None or row.kind != "blob":
                return
            pages = func.json_each(OutboxItem.payload, "$.pages").table_valued("value")
            names_it = exists().where(func.json_extract(pages.c.value, "$.sha256") == row.key)
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.kind == "manifest", OutboxItem.state == "pending", names_it)
                .values(state="rejected", last_error=f"{PAGE_NOT_SENT}: {reason}", updated_at=now)
            )

    def conflict(self, item_id: int, now: datetime, reason: str) -> None:
        with self._sessions.begin() as session:
            self._set(session, item_id, now, state="conflict", last_error=reason)

    def _set(self, session: Session, item_id: int, now: datetime, **values: Any) -> Any:
        """Update one item; its kind, key and dossier for what follows, None if it is gone."""
        statement = (
            update(OutboxItem)
            .where(OutboxItem.id == item_id)
            .values(updated_at=now, **values)
            .returning(OutboxItem.kind, OutboxItem.key, OutboxItem.dossier_id)
        )
        return session.execute(statement).first()

    def next_due_at(self, kinds: Sequence[str] = DELIVERABLE) -> datetime | None:
        """When the next item becomes sendable (maybe already past); None when none waits."""
        with self._sessions() as session:
            found: datetime | None = session.scalar(
                select(func.min(OutboxItem.next_attempt_at)).where(_due(OutboxItem, kinds))
            )
        return found

    def stats(self, now: datetime) -> OutboxStats:
        manifests = and_(OutboxItem.kind == "manifest", OutboxItem.state.in_(UNDELIVERED))
        refused = OutboxItem.kind.in_(DELIVERABLE)
        with self._sessions() as session:
            depth, oldest = session.execute(
                select(func.count(), func.min(OutboxItem.created_at)).where(manifests)
            ).one()
            rejected = session.scalar(
                select(func.count()).where(refused, OutboxItem.state == "rejected")
            )
            conflicts = session.scalar(
                select(func.count()).where(refused, OutboxItem.state == "conflict")
            )
        age = None if oldest is None else max(0, int((now - oldest).total_seconds()))
        return OutboxStats(depth, age, rejected or 0, conflicts or 0, self.next_due_at())

    def waiting(self) -> list[Waiting]:
        """Undelivered items in sending order, with their dossier's receipt code."""
        query = (
            select(OutboxItem, Dossier.receipt_code)
            .outerjoin(Dossier, Dossier.id == OutboxItem.dossier_id)
            .where(OutboxItem.kind.in_(DELIVERABLE), OutboxItem.state.in_(UNDELIVERED))
            .order_by(OutboxItem.id)
        )
        with self._sessions() as session:
            return [
                Waiting(code, item.kind, item.key, item.attempts, item.last_error)
                for item, code in session.execute(query)
            ]
