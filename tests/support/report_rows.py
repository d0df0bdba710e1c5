"""Rows for report tests: submitted dossiers and their manifests, written straight into the store,
so a test can place them anywhere in time."""

from __future__ import annotations

import uuid as uuids
from datetime import datetime

from sqlalchemy.orm import Session

from appliance.store.tables import Dossier, OutboxItem


def submitted_dossier(
    session: Session,
    moment: datetime,
    procedure: str,
    status: str,
    *,
    code: str | None = None,
    uuid: str | None = None,
    name: str = "Nguyễn Thị Hồng",
    phone: str | None = None,
) -> Dossier:
    """A dossier submitted at `moment` (consent given then), flushed so it has its id."""
    row = Dossier(
        uuid=uuid or str(uuids.uuid4()),
        receipt_code=code or f"T{uuids.uuid4().hex[:8].upper()}",
        procedure_code=procedure,
        status=status,
        full_name=name,
        phone=phone,
        consent_at=moment,
        consent_text_version="v1",
        created_at=moment,
        updated_at=moment,
        submitted_at=moment,
    )
    session.add(row)
    session.flush()
    return row


def manifest(session: Session, row: Dossier, delivered_at: datetime | None) -> None:
    """The dossier's manifest in the outbox: delivered at `delivered_at`, or still pending."""
    assert row.submitted_at is not None
    session.add(
        OutboxItem(
            kind="manifest",
            key=row.uuid,
            dossier_id=row.id,
            state="pending" if delivered_at is None else "delivered",
            next_attempt_at=row.submitted_at,
            created_at=row.submitted_at,
            updated_at=row.submitted_at,
            delivered_at=delivered_at,
        )
    )
