"""The outbox as people see it: the only SQL behind the station's queue and the technician's list.

The volunteer's queue (dossiers not yet at the commune, what is left and why), "send now", the
latest dossiers, and the items the relay gave up on. A blob row is shared by every dossier
holding the same page, so a dossier's pages are matched to blob rows by hash, never by the
row's dossier_id. Results and histories are in results_view.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.outbox_repo import DELIVERABLE
from appliance.store.tables import Dossier, OutboxItem, Page

GAVE_UP = ("rejected", "conflict")  # never retried by the relay on its own
RECENT = 20


@dataclass(frozen=True)
class DossierLine:
    """Who and what, as the volunteer recognises a dossier."""

    uuid: str
    receipt_code: str
    full_name: str
    procedure_code: str
    status: str
    submitted_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class Waiting:
    """A dossier not yet at the commune: what is left to send and how the last try went."""

    dossier: DossierLine
    pages_left: int
    bytes_left: int
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None  # None: being sent now, or stopped
    sending: bool
    stopped: str | None = None  # "rejected" or "conflict": the relay will not retry it
    reason: str | None = None  # why it stopped


@dataclass(frozen=True)
class Stuck:
    """One outbox item the relay stopped on, for the technician."""

    kind: str
    key: str
    state: str
    reason: str | None
    since: datetime
    dossier: DossierLine | None


@dataclass(frozen=True)
class SendNow:
    moved: int  # rows that were waiting for a later try and are due at once now
    pending: int  # rows waiting to be sent in all


class QueueView:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def waiting(self) -> list[Waiting]:
        """Dossiers whose manifest has not reached the commune, oldest first."""
        query = (
            select(OutboxItem, Dossier)
            .join(Dossier, OutboxItem.dossier_id == Dossier.id)
            .where(OutboxItem.kind == "manifest", OutboxItem.state != "delivered")
            .order_by(Dossier.submitted_at, Dossier.id)
        )
        with self._sessions() as session:
            found = session.execute(query).all()
            blobs = _undelivered_blobs(session, [d.id for _, d in found])
        return [
            _waiting(manifest, dossier, blobs.get(dossier.id, [])) for manifest, dossier in found
        ]

    def counts(self) -> tuple[int, int]:
        """(dossiers not yet at the commune, results waiting to be handed out)."""
        undelivered = select(func.count(OutboxItem.id)).where(
            OutboxItem.kind == "manifest", OutboxItem.state != "delivered"
        )
        done = select(func.count(Dossier.id)).where(Dossier.status == "done")
        with self._sessions() as session:
            return session.scalar(undelivered) or 0, session.scalar(done) or 0

    def send_now(self, now: datetime) -> SendNow:
        """Make every pending blob and manifest due now; the relay looks each second."""
        waiting = (OutboxItem.state == "pending", OutboxItem.kind.in_(DELIVERABLE))
        with self._sessions.begin() as session:
            moved = session.scalars(
                update(OutboxItem)
                .where(*waiting, OutboxItem.next_attempt_at > now)
                .values(next_attempt_at=now)
                .returning(OutboxItem.id)
                .execution_options(synchronize_session=False)
            ).all()
            pending = session.scalar(select(func.count(OutboxItem.id)).where(*waiting)) or 0
        return SendNow(len(moved), pending)

    def stuck(self) -> list[Stuck]:
        """Items the relay stopped on (rejected, conflict), latest first: the technician's list."""
        query = (
            select(OutboxItem, Dossier)
            .outerjoin(Dossier, OutboxItem.dossier_id == Dossier.id)
            .where(OutboxItem.state.in_(GAVE_UP), OutboxItem.kind.in_(DELIVERABLE))
            .order_by(OutboxItem.updated_at.desc(), OutboxItem.id.desc())
        )
        with self._sessions() as session:
            rows = session.execute(query).all()
        return [
            Stuck(
                item.kind,
                item.key,
                item.state,
                item.last_error,
                item.updated_at,
                None if dossier is None else line(dossier),
            )
            for item, dossier in rows
        ]

    def recent(self, limit: int = RECENT) -> list[DossierLine]:
        """The latest submitted dossiers, whatever their status: the way to any one's history."""
        query = (
            select(Dossier)
            .where(Dossier.status != "draft", Dossier.receipt_code.is_not(None))
            .order_by(Dossier.updated_at.desc(), Dossier.id.desc())
            .limit(limit)
        )
        with self._sessions() as session:
            return [line(row) for row in session.scalars(query)]


def line(row: Dossier) -> DossierLine:
    """The dossier as the relay pages name it."""
    return DossierLine(
        row.uuid,
        row.receipt_code or "",
        row.full_name or "",
        row.procedure_code,
        row.status,
        row.submitted_at,
        row.updated_at,
    )


@dataclass(frozen=True)
class _Blob:
    sha256: str
    bytes: int
    item: OutboxItem


def _undelivered_blobs(session: Session, dossier_ids: list[int]) -> dict[int, list[_Blob]]:
    """Each dossier's pages whose blob has not reached the commune, one per hash."""
    if not dossier_ids:
        return {}
    query = (
        select(Page.dossier_id, Page.blob_sha256, Page.bytes, OutboxItem)
        .join(OutboxItem, (OutboxItem.kind == "blob") & (OutboxItem.key == Page.blob_sha256))
        .where(Page.dossier_id.in_(dossier_ids), OutboxItem.state != "delivered")
        .order_by(Page.dossier_id, Page.position)
    )
    found: dict[int, dict[str, _Blob]] = defaultdict(dict)
    for dossier_id, sha, size, item in session.execute(query):
        found[dossier_id].setdefault(sha, _Blob(sha, size, item))
    return {dossier_id: list(blobs.values()) for dossier_id, blobs in found.items()}


def _waiting(manifest: OutboxItem, dossier: Dossier, blobs: list[_Blob]) -> Waiting:
    """The blobs go first: while any is left, they say how sending goes, else the manifest."""
    items = [blob.item for blob in blobs] or [manifest]
    everything = [*items, manifest] if blobs else items
    stopped = next((item for item in everything if item.state in GAVE_UP), None)
    pending = [item.next_attempt_at for item in items if item.state == "pending"]
    tried = [item for item in everything if item.last_error]
    last = max(tried, key=lambda item: item.updated_at, default=None)
    return Waiting(
        dossier=line(dossier),
        pages_left=len(blobs),
        bytes_left=sum(blob.bytes for blob in blobs),
        attempts=max(item.attempts for item in everything),
        last_error=None if last is None else last.last_error,
        next_attempt_at=min(pending) if pending and stopped is None else None,
        sending=any(item.state == "in_flight" for item in everything),
        stopped=None if stopped is None else stopped.state,
        reason=None if stopped is None else stopped.last_error,
    )
