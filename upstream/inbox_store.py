"""The inbox's SQL: dossiers by hamlet and status, one dossier with its pages and history, page
bytes, and the officer's decisions — each a guarded change of status plus an update for the box.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from appliance.domain.dossier import can_transition
from upstream.officer_ui import STATUS_LABELS
from upstream.tables import Blob, Dossier, DossierPage, Update

PAGE_SIZE = 50


class InboxError(ValueError):
    """A decision that cannot be made; the message is "Vietnamese / English"."""


class DossierChanged(InboxError):
    """Someone else changed the dossier between the officer's look and the officer's decision."""

    def __init__(self) -> None:
        super().__init__(
            "Hồ sơ vừa được người khác cập nhật. Hãy xem lại trạng thái mới rồi quyết định. / "
            "The dossier was changed meanwhile. Look at its new status, then decide."
        )


def check_transition(seen: str, new: str) -> None:
    """InboxError unless the shared lifecycle lets a dossier in `seen` move to `new`."""
    if not can_transition(seen, new):
        (now_vi, now_en), (new_vi, new_en) = (STATUS_LABELS.get(s, (s, s)) for s in (seen, new))
        raise InboxError(
            f"Hồ sơ đang ở trạng thái “{now_vi}”, không thể chuyển sang “{new_vi}”. / "
            f"A dossier that is “{now_en}” cannot become “{new_en}”."
        )


@dataclass(frozen=True)
class Row:
    uuid: str
    receipt_code: str
    applicant_name: str
    procedure: str
    hamlet: str
    received_at: datetime
    status: str
    appointment_date: date | None


@dataclass(frozen=True)
class Listing:
    rows: list[Row]
    total: int  # matching the filters, over all pages
    by_hamlet: list[tuple[str, int]]  # within the status filter
    by_status: list[tuple[str, int]]  # within the hamlet filter


@dataclass(frozen=True)
class PageInfo:
    position: int
    sha256: str
    paper: str
    mode: str
    media_type: str
    size: int


@dataclass(frozen=True)
class Entry:
    """One step of a dossier's history: an officer's decision as sent to the box."""

    status: str
    officer: str | None
    at: datetime
    note: str | None
    appointment_date: date | None


@dataclass(frozen=True)
class Record:
    uuid: str
    receipt_code: str
    hamlet: str
    procedure: str
    status: str
    manifest: dict[str, Any]
    received_at: datetime
    updated_at: datetime
    appointment_date: date | None
    note: str | None
    pages: list[PageInfo]
    history: list[Entry]


@dataclass(frozen=True)
class Decision:
    """What an officer decided, already checked: the new status and what goes with it."""

    status: str
    note: str | None = None
    appointment_date: date | None = None


def listing(
    sessions: sessionmaker[Session], hamlet: str | None, status: str | None, page: int
) -> Listing:
    """One page of dossiers, newest first, with the counts that let the officer filter further."""
    by_hamlet = [] if hamlet is None else [Dossier.hamlet == hamlet]
    by_status = [] if status is None else [Dossier.status == status]
    wanted = [*by_hamlet, *by_status]
    with sessions() as db:
        total = db.scalar(select(func.count()).select_from(Dossier).where(*wanted)) or 0
        found = db.scalars(
            select(Dossier)
            .where(*wanted)
            .order_by(Dossier.received_at.desc(), Dossier.uuid)
            .limit(PAGE_SIZE)
            .offset((max(page, 1) - 1) * PAGE_SIZE)
        ).all()
        hamlets = _counts(db, Dossier.hamlet, by_status)
        statuses = _counts(db, Dossier.status, by_hamlet)
    rows = [
        Row(
            d.uuid,
            d.receipt_code,
            d.applicant_name,
            d.procedure,
            d.hamlet,
            d.received_at,
            d.status,
            d.appointment_date,
        )
        for d in found
    ]
    return Listing(rows, total, hamlets, statuses)


def _counts(
    db: Session, column: InstrumentedAttribute[str], where: list[ColumnElement[bool]]
) -> list[tuple[str, int]]:
    query = select(column, func.count()).where(*where).group_by(column).order_by(column)
    return [(value, count) for value, count in db.execute(query)]


def record(sessions: sessionmaker[Session], uuid: str) -> Record | None:
    """The dossier with its pages in order and its decisions oldest first; None if unknown."""
    with sessions() as db:
        d = db.get(Dossier, uuid)
        if d is None:
            return None
        pages = [
            PageInfo(p.position, p.sha256, p.paper, p.mode, media_type, size)
            for p, media_type, size in db.execute(
                select(DossierPage, Blob.media_type, Blob.size)
                .join(Blob, Blob.sha256 == DossierPage.sha256)
                .where(DossierPage.dossier_uuid == uuid)
                .order_by(DossierPage.position)
            )
        ]
        history = [
            Entry(u.status, u.officer, u.created_at, u.note, u.appointment_date)
            for u in db.scalars(
                select(Update).where(Update.dossier_uuid == uuid).order_by(Update.id)
            )
        ]
    return Record(
        d.uuid,
        d.receipt_code,
        d.hamlet,
        d.procedure,
        d.status,
        d.manifest,
        d.received_at,
        d.updated_at,
        d.appointment_date,
        d.note,
        pages,
        history,
    )


def page_blob(sessions: sessionmaker[Session], uuid: str, position: int) -> Blob | None:
    """One page's stored bytes (with their hash and media type), or None."""
    with sessions() as db:
        return db.scalar(
            select(Blob)
            .join(DossierPage, DossierPage.sha256 == Blob.sha256)
            .where(DossierPage.dossier_uuid == uuid, DossierPage.position == position)
        )


def page_blobs(sessions: sessionmaker[Session], uuid: str) -> tuple[str, list[bytes]] | None:
    """The receipt code and every page's bytes in page order, for the PDF; None if unknown."""
    with sessions() as db:
        code = db.scalar(select(Dossier.receipt_code).where(Dossier.uuid == uuid))
        if code is None:
            return None
        data = db.scalars(
            select(Blob.data)
            .join(DossierPage, DossierPage.sha256 == Blob.sha256)
            .where(DossierPage.dossier_uuid == uuid)
            .order_by(DossierPage.position)
        ).all()
    return code, list(data)


def decide(
    sessions: sessionmaker[Session],
    uuid: str,
    seen: str,
    decision: Decision,
    officer: str,
    now: datetime,
) -> None:
    """The dossier moves from `seen` to the decided status and the box's feed gets the update,
    in one transaction; DossierChanged if its status is no longer `seen` (another officer)."""
    check_transition(seen, decision.status)
    changes: dict[str, Any] = {"status": decision.status, "note": decision.note, "updated_at": now}
    if decision.appointment_date is not None:
        changes["appointment_date"] = decision.appointment_date
    with sessions.begin() as db:
        # The guarded write comes first: it takes the write lock before anything is read.
        result = cast(
            CursorResult[Any],
            db.execute(
                update(Dossier)
                .where(Dossier.uuid == uuid, Dossier.status == seen)
                .values(**changes)
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount != 1:
            raise DossierChanged()
        device_id = db.scalars(select(Dossier.device_id).where(Dossier.uuid == uuid)).one()
        db.add(
            Update(
                device_id=device_id,
                dossier_uuid=uuid,
                status=decision.status,
                note=decision.note,
                appointment_date=decision.appointment_date,
                officer=officer,
                created_at=now,
            )
        )
