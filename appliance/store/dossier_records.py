"""What the dossier repository hands out: plain frozen records, and the manifest sent upstream.

Records, not ORM rows, so callers (web views, the receipt, the CLI) never hold a session or
trigger a lazy query.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from appliance.domain.catalog import Procedure
from appliance.domain.dossier import Applicant, paper_key
from appliance.domain.protocol import MANIFEST_VERSION
from appliance.store.tables import Dossier, Page

Corners = tuple[tuple[float, float], ...]  # TL, TR, BR, BL in the source photo's pixels


@dataclass(frozen=True)
class Cut:
    """How a page was cut from its source photo (a blob kept while the dossier is a draft, never
    sent upstream): turning or re-cropping the page starts again from that photo."""

    source_sha256: str
    rotation: int = 0  # clockwise degrees, applied after flattening: 0, 90, 180 or 270
    corners: Corners | None = None  # None: no page edges were found in the photo


@dataclass(frozen=True)
class PageRecord:
    id: int
    position: int
    paper_name: str
    sha256: str
    mode: Literal["text", "color"]
    width: int
    height: int
    bytes: int
    cut: Cut | None = None  # None for a page without a kept source photo


@dataclass(frozen=True)
class DossierRecord:
    uuid: str
    status: str
    procedure_code: str
    channel: str
    receipt_code: str | None
    applicant: Applicant | None
    phone: str | None
    pages: tuple[PageRecord, ...]
    originals: frozenset[str]  # papers whose original the resident brings to the commune
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    consent_at: datetime | None
    consent_version: str | None

    @property
    def total_bytes(self) -> int:
        return sum(page.bytes for page in self.pages)

    def pages_by_paper(self) -> dict[str, int]:
        return dict(Counter(page.paper_name for page in self.pages))


@dataclass(frozen=True)
class DraftSummary:
    uuid: str
    procedure_code: str
    full_name: str | None
    pages: int
    updated_at: datetime


@dataclass(frozen=True)
class StatusSummary:
    """What a resident sees after a lookup: no name, no phone, no pages."""

    receipt_code: str
    status: str
    procedure_code: str
    submitted_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class Submission:
    """Who submits, under which consent text, for which hamlet, and the language the resident's
    SMS are written in."""

    consent_version: str
    receipt_prefix: str
    hamlet: str
    actor: str  # "volunteer:lan", "resident", "cli"
    lang: str = "vi"  # "vi" or "en": stored on the dossier for every SMS it causes


def page_record(row: Page) -> PageRecord:
    return PageRecord(
        id=row.id,
        position=row.position,
        paper_name=row.paper_name,
        sha256=row.blob_sha256,
        mode=cast(Literal["text", "color"], row.mode),
        width=row.width,
        height=row.height,
        bytes=row.bytes,
        cut=_cut(row),
    )


def _cut(row: Page) -> Cut | None:
    if row.source_sha256 is None:
        return None
    corners = None if row.corners is None else tuple((float(x), float(y)) for x, y in row.corners)
    return Cut(row.source_sha256, row.rotation, corners)


def cut_values(cut: Cut) -> dict[str, Any]:
    """The Page columns that store `cut`."""
    corners = None if cut.corners is None else [[x, y] for x, y in cut.corners]
    return {"source_sha256": cut.source_sha256, "rotation": cut.rotation, "corners": corners}


def record(row: Dossier, pages: tuple[PageRecord, ...], originals: frozenset[str]) -> DossierRecord:
    applicant = None
    if row.full_name is not None:
        applicant = Applicant(
            full_name=row.full_name,
            id_number=row.id_number,
            date_of_birth=row.date_of_birth,
            gender=cast(Literal["male", "female"] | None, row.gender),
            address=row.address,
        )
    return DossierRecord(
        uuid=row.uuid,
        status=row.status,
        procedure_code=row.procedure_code,
        channel=row.channel,
        receipt_code=row.receipt_code,
        applicant=applicant,
        phone=row.phone,
        pages=pages,
        originals=originals,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        consent_at=row.consent_at,
        consent_version=row.consent_text_version,
    )


def manifest(
    dossier: DossierRecord, procedure: Procedure, submission: Submission
) -> dict[str, Any]:
    """The dossier as the upstream receives it, frozen when queued so a resend is identical."""
    applicant = dossier.applicant
    assert applicant is not None and dossier.submitted_at is not None
    born = applicant.date_of_birth
    return {
        "version": MANIFEST_VERSION,
        "uuid": dossier.uuid,
        "receipt_code": dossier.receipt_code,
        "hamlet": submission.hamlet,
        "procedure": procedure.code,
        "channel": dossier.channel,
        "submitted_at": dossier.submitted_at.isoformat(),
        "applicant": {
            "full_name": applicant.full_name,
            "id_number": applicant.id_number,
            "date_of_birth": born.isoformat() if born else None,
            "gender": applicant.gender,
            "address": applicant.address,
            "phone": dossier.phone,
        },
        "pages": [
            {"sha256": p.sha256, "paper": p.paper_name, "mode": p.mode, "position": p.position}
            for p in dossier.pages
        ],
        "originals": [paper_key(p) for p in procedure.papers if paper_key(p) in dossier.originals],
        "consent": {"version": submission.consent_version, "at": dossier.submitted_at.isoformat()},
    }
