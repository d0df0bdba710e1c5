"""Dossiers in the store: drafts saved step by step, their pages, submitting, and status lookup.

The only SQL for dossiers. A draft is a row from its first step, so it survives a page reload and
a reboot; submitting writes the dossier's new state, its outbox rows and an event in one
transaction, after checking that every page's blob is already safe on disk.
"""

from __future__ import annotations

import hmac
import random
import uuid as uuidlib
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from appliance.domain.catalog import Procedure
from appliance.domain.dossier import (
    Applicant,
    DossierError,
    PageMeta,
    ReceiptCodeError,
    new_receipt_code,
    normalize_receipt_code,
)
from appliance.store.dossier_records import (
    Cut,
    DossierRecord,
    DraftSummary,
    PageRecord,
    StatusSummary,
    Submission,
    cut_values,
    page_record,
)
from appliance.store.dossier_submit import BlobIndex, claim_draft, load, queue
from appliance.store.tables import CHANNELS, Dossier, DossierPaper, Page

__all__ = [
    "BlobIndex",
    "Cut",
    "DossierRecord",
    "DossierRepo",
    "DraftSummary",
    "PageRecord",
    "StatusSummary",
    "Submission",
]

CODE_ATTEMPTS = 8  # a collision among 20 million codes is rare; eight in a row means a bad rng


class DossierRepo:
    def __init__(self, sessions: sessionmaker[Session], blobs: BlobIndex) -> None:
        self._sessions = sessions
        self._blobs = blobs

    def create_draft(self, procedure_code: str, channel: str, now: datetime) -> str:
        """A new empty draft for the procedure; returns its UUID, the handle every step uses."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        key = str(uuidlib.uuid4())
        with self._sessions.begin() as session:
            session.add(
                Dossier(
                    uuid=key,
                    procedure_code=procedure_code,
                    status="draft",
                    channel=channel,
                    created_at=now,
                    updated_at=now,
                )
            )
        return key

    def get(self, uuid: str) -> DossierRecord | None:
        with self._sessions() as session:
            row = session.scalars(select(Dossier).where(Dossier.uuid == uuid)).one_or_none()
            return None if row is None else load(session, row)

    def list_drafts(self, channel: str) -> list[DraftSummary]:
        """The channel's unfinished drafts, latest first: the station's "continue" list."""
        count = select(func.count(Page.id)).where(Page.dossier_id == Dossier.id)
        query = (
            select(Dossier, count.scalar_subquery())
            .where(Dossier.status == "draft", Dossier.channel == channel)
            .order_by(Dossier.updated_at.desc(), Dossier.id.desc())
        )
        with self._sessions() as session:
            return [
                DraftSummary(d.uuid, d.procedure_code, d.full_name, pages, d.updated_at)
                for d, pages in session.execute(query).all()
            ]

    def set_applicant(self, uuid: str, applicant: Applicant, now: datetime) -> None:
        with self._sessions.begin() as session:
            claim_draft(session, uuid, now)
            session.execute(
                update(Dossier)
                .where(Dossier.uuid == uuid)
                .values(
                    full_name=applicant.full_name,
                    id_number=applicant.id_number,
                    date_of_birth=applicant.date_of_birth,
                    gender=applicant.gender,
                    address=applicant.address,
                )
            )

    def set_phone(self, uuid: str, phone: str, now: datetime) -> None:
        """`phone` already normalised (appliance.domain.phone)."""
        with self._sessions.begin() as session:
            claim_draft(session, uuid, now)
            session.execute(update(Dossier).where(Dossier.uuid == uuid).values(phone=phone))

    def add_page(
        self, uuid: str, paper_name: str, page: PageMeta, now: datetime, cut: Cut | None = None
    ) -> PageRecord:
        """Append a page (its blob already written) after the dossier's last page; `cut` keeps
        its source photo (also already written) for turning or re-cropping it later."""
        with self._sessions.begin() as session:
            dossier_id = claim_draft(session, uuid, now)
            last = session.scalar(
                select(func.max(Page.position)).where(Page.dossier_id == dossier_id)
            )
            row = Page(
                dossier_id=dossier_id,
                position=(last or 0) + 1,
                paper_name=paper_name,
                blob_sha256=page.sha256,
                mode=page.mode,
                width=page.width,
                height=page.height,
                bytes=page.bytes,
                created_at=now,
                **(cut_values(cut) if cut is not None else {}),
            )
            session.add(row)
            session.flush()
            return page_record(row)

    def replace_page(
        self, uuid: str, page_id: int, page: PageMeta, now: datetime, cut: Cut | None = None
    ) -> None:
        """Put a re-processed page (rotated, re-cropped, retaken) in place of one, keeping its
        position; `cut` replaces how it was cut, else that stays as it was."""
        with self._sessions.begin() as session:
            row = self._page(session, claim_draft(session, uuid, now), page_id)
            row.blob_sha256, row.mode, row.bytes = page.sha256, page.mode, page.bytes
            row.width, row.height = page.width, page.height
            if cut is not None:
                for name, value in cut_values(cut).items():
                    setattr(row, name, value)

    def remove_page(self, uuid: str, page_id: int, now: datetime) -> None:
        with self._sessions.begin() as session:
            dossier_id = claim_draft(session, uuid, now)
            session.delete(self._page(session, dossier_id, page_id))
            session.flush()
            self._renumber(session, dossier_id, self._page_ids(session, dossier_id))

    def move_page(self, uuid: str, page_id: int, position: int, now: datetime) -> None:
        """Move a page to `position` (1 = first; clamped to the pages there are)."""
        with self._sessions.begin() as session:
            dossier_id = claim_draft(session, uuid, now)
            self._page(session, dossier_id, page_id)
            order = [i for i in self._page_ids(session, dossier_id) if i != page_id]
            order.insert(min(max(position, 1), len(order) + 1) - 1, page_id)
            self._renumber(session, dossier_id, order)

    def mark_bring_original(self, uuid: str, paper_name: str, bring: bool, now: datetime) -> None:
        """Record that the resident brings this paper's original to the commune (or not)."""
        with self._sessions.begin() as session:
            dossier_id = claim_draft(session, uuid, now)
            values = {"bring_original": bring, "updated_at": now}
            session.execute(
                sqlite_insert(DossierPaper)
                .values(dossier_id=dossier_id, paper_name=paper_name, **values)
                .on_conflict_do_update(index_elements=["dossier_id", "paper_name"], set_=values)
            )

    def delete_draft(self, uuid: str, now: datetime) -> None:
        """Drop an abandoned draft; its pages go with it (their blobs stay until the purge)."""
        with self._sessions.begin() as session:
            claim_draft(session, uuid, now)
            session.execute(delete(Dossier).where(Dossier.uuid == uuid))

    def submit(
        self,
        uuid: str,
        procedure: Procedure,
        submission: Submission,
        now: datetime,
        rng: random.Random,
    ) -> str:
        """Queue the draft in one transaction and return its new receipt code.

        Refused (DossierError, nothing written) without an applicant, a phone, consent, a page or
        an original for every required paper, or a page's blob on disk. A receipt code already
        taken makes the whole transaction roll back and run again with another code.
        """
        if not submission.consent_version:
            raise DossierError("no_consent", "Cần có sự đồng ý / Consent is required")
        for _ in range(CODE_ATTEMPTS):
            code = new_receipt_code(submission.receipt_prefix, rng)
            try:
                with self._sessions.begin() as session:
                    queue(session, self._blobs, uuid, procedure, submission, code, now)
            except IntegrityError as exc:
                if "receipt_code" not in str(exc.orig):
                    raise
                continue
            return code
        raise RuntimeError(f"no free receipt code after {CODE_ATTEMPTS} tries: check the rng")

    def lookup(self, receipt_code: str, last4: str) -> StatusSummary | None:
        """The status for a receipt code and the phone's last four digits; None for any miss.

        An unknown code and wrong digits give the same None and take the same path, so a
        guesser learns nothing about which codes exist.
        """
        try:
            code = normalize_receipt_code(receipt_code)
        except ReceiptCodeError:
            code = ""
        with self._sessions() as session:
            row = session.scalars(select(Dossier).where(Dossier.receipt_code == code)).first()
        stored = (row.phone or "")[-4:] if row is not None else "----"
        matches = hmac.compare_digest(stored.encode(), last4.strip().encode())
        if row is None or row.receipt_code is None or not matches:
            return None
        return StatusSummary(
            row.receipt_code, row.status, row.procedure_code, row.submitted_at, row.updated_at
        )

    def _page(self, session: Session, dossier_id: int, page_id: int) -> Page:
        row = session.get(Page, page_id)
        if row is None or row.dossier_id != dossier_id:
            raise DossierError("page_not_found", "Không tìm thấy trang / Page not found")
        return row

    def _page_ids(self, session: Session, dossier_id: int) -> list[int]:
        query = select(Page.id).where(Page.dossier_id == dossier_id).order_by(Page.position)
        return list(session.scalars(query))

    def _renumber(self, session: Session, dossier_id: int, order: list[int]) -> None:
        """Give the pages positions 1…n in `order`.

        UNIQUE(dossier_id, position) is checked row by row, so a plain swap would collide:
        first every page moves above all final positions, then each drops into its place.
        """
        top = session.scalar(select(func.max(Page.position)).where(Page.dossier_id == dossier_id))
        session.execute(
            update(Page)
            .where(Page.dossier_id == dossier_id)
            .values(position=Page.position + (top or 0))
            .execution_options(synchronize_session=False)
        )
        for position, page_id in enumerate(order, start=1):
            session.execute(
                update(Page)
                .where(Page.id == page_id)
                .values(position=position)
                .execution_options(synchronize_session=False)
            )
        session.expire_all()
