"""The writes that change a draft: taking it for an edit, and queueing it on submit.

Split from the repository so the one transaction that matters most — dossier, outbox rows and
event together — reads top to bottom in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from appliance.domain.catalog import Procedure
from appliance.domain.dossier import DossierError, IncompleteError, missing_papers, transition
from appliance.store.dossier_records import (
    DossierRecord,
    PageRecord,
    Submission,
    manifest,
    page_record,
    record,
)
from appliance.store.sms_queue import queue_sms
from appliance.store.tables import Dossier, DossierPaper, Event, OutboxItem, Page

MEDIA_TYPES = {"text": "image/tiff", "color": "image/jpeg"}


class BlobIndex(Protocol):
    """What submitting needs of the blob store: whether a page's bytes are on disk."""

    def exists(self, sha: str) -> bool: ...


def not_found() -> DossierError:
    return DossierError("not_found", "Không tìm thấy hồ sơ / Dossier not found")


def claim_draft(session: Session, uuid: str, now: datetime) -> int:
    """Take the write lock on a draft (touching updated_at) and return its row id.

    Writing first makes the reads that follow part of the same transaction, so two tabs editing
    one draft cannot interleave. A submitted dossier can no longer be edited.
    """
    claim = (
        update(Dossier)
        .where(Dossier.uuid == uuid, Dossier.status == "draft")
        .values(updated_at=now)
        .returning(Dossier.id)
    )
    found = session.scalar(claim)
    if found is not None:
        return found
    if session.scalar(select(Dossier.id).where(Dossier.uuid == uuid)) is None:
        raise not_found()
    raise DossierError(
        "not_draft",
        "Hồ sơ đã nộp, không sửa được nữa / This dossier was submitted and cannot be changed",
    )


def load(session: Session, row: Dossier) -> DossierRecord:
    """The dossier with its pages in order and the papers whose originals will be brought."""
    pages = session.scalars(select(Page).where(Page.dossier_id == row.id).order_by(Page.position))
    originals = session.scalars(
        select(DossierPaper.paper_name).where(
            DossierPaper.dossier_id == row.id, DossierPaper.bring_original
        )
    )
    page_records: tuple[PageRecord, ...] = tuple(page_record(p) for p in pages)
    return record(row, page_records, frozenset(originals))


def queue(
    session: Session,
    blobs: BlobIndex,
    uuid: str,
    procedure: Procedure,
    submission: Submission,
    code: str,
    now: datetime,
) -> None:
    """Check the draft, then write its new state, its outbox rows and a "submitted" event."""
    row = session.get_one(Dossier, claim_draft(session, uuid, now))
    current = load(session, row)
    _check_ready(current, procedure, blobs)
    row.status = transition(row.status, "queued")
    row.receipt_code, row.submitted_at = code, now
    row.consent_at, row.consent_text_version = now, submission.consent_version
    row.lang = submission.lang
    session.flush()  # a taken receipt code fails here, before anything else is written
    _enqueue(session, row.id, load(session, row), procedure, submission, now)
    _queue_receipt_sms(session, row, now)
    session.add(
        Event(
            dossier_id=row.id,
            kind="submitted",
            payload={"from": "draft", "to": "queued", "receipt_code": code},
            actor=submission.actor,
            created_at=now,
        )
    )


def _queue_receipt_sms(session: Session, row: Dossier, now: datetime) -> None:
    """The resident's receipt SMS, committed with the dossier or not at all."""
    if row.phone is None:  # _check_ready refused it already; kept for the type checker
        return
    params = {"code": row.receipt_code, "procedure": row.procedure_code, "date": None}
    queue_sms(
        session,
        key=f"receipt:{row.uuid}",
        event="receipt",
        to=row.phone,
        params=params,
        lang=row.lang,
        now=now,
        dossier_id=row.id,
    )


def _check_ready(current: DossierRecord, procedure: Procedure, blobs: BlobIndex) -> None:
    if current.procedure_code != procedure.code:
        raise ValueError(f"dossier is for {current.procedure_code}, not {procedure.code}")
    if current.applicant is None:
        raise DossierError("no_applicant", "Chưa có thông tin người nộp / The applicant is missing")
    if current.phone is None:
        raise DossierError(
            "no_phone", "Chưa có số điện thoại di động / The mobile number is missing"
        )
    missing = missing_papers(procedure, current.pages_by_paper(), current.originals)
    if missing:
        raise IncompleteError(missing)
    lost = [p.position for p in current.pages if not blobs.exists(p.sha256)]
    if lost:
        pages = ", ".join(map(str, lost))
        raise DossierError(
            "blob_missing",
            f"Mất tệp ảnh của trang {pages}, xin chụp lại / "
            f"The image of page {pages} is lost; please take it again",
        )


def _enqueue(
    session: Session,
    dossier_id: int,
    dossier: DossierRecord,
    procedure: Procedure,
    submission: Submission,
    now: datetime,
) -> None:
    """Blobs first, then the manifest: the relay sends in row order, pages before the list.

    A blob already queued (the same photo in another dossier) is left as it is: the upstream
    keys blobs by SHA-256, so it needs sending once.
    """
    times: dict[str, Any] = {"next_attempt_at": now, "created_at": now, "updated_at": now}
    for page in {p.sha256: p for p in dossier.pages}.values():
        payload = {"bytes": page.bytes, "media_type": MEDIA_TYPES[page.mode]}
        session.execute(
            sqlite_insert(OutboxItem)
            .values(kind="blob", key=page.sha256, dossier_id=dossier_id, payload=payload)
            .values(state="pending", attempts=0, **times)
            .on_conflict_do_nothing(index_elements=["kind", "key"])
        )
    body = manifest(dossier, procedure, submission)
    session.add(
        OutboxItem(
            kind="manifest",
            key=dossier.uuid,
            dossier_id=dossier_id,
            payload=body,
            state="pending",
            attempts=0,
            **times,
        )
    )
