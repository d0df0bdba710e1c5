"""Filing a dossier, step by step: the one service the station, the phone flow and the CLI share.

Every step checks its input before writing, so a refused step (an empty name, a phone number
with letters) leaves what was saved untouched. Every refusal is a ValueError whose
message reads "Vietnamese / English": DossierError, PhoneError, IdCardError, UploadError.
New dossiers and new pages wait while the card is nearly full (StorageFullError).
Photo processing (OpenCV) is imported only when a photo arrives: the web process starts light.
"""

from __future__ import annotations

import argparse
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from appliance.config import Settings
from appliance.domain.catalog import Procedure
from appliance.domain.citizen_id import CitizenId, parse_citizen_qr
from appliance.domain.consent import consent_notice
from appliance.domain.dossier import (
    Applicant,
    DossierError,
    PaperState,
    checklist,
    clean_name,
    paper_key,
)
from appliance.domain.phone import normalize_vn_mobile
from appliance.intake_pages import NO_SOURCE, PageCutter
from appliance.store.blobs import check_room, full_is_refused
from appliance.store.dossier_records import Corners
from appliance.store.dossiers import (
    DossierRecord,
    DossierRepo,
    DraftSummary,
    PageRecord,
    StatusSummary,
    Submission,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from appliance.capture.pages import Mode
    from appliance.services import Services

log = logging.getLogger(__name__)
MB = 1024 * 1024
CONSENT_REQUIRED = "Cần có sự đồng ý của người dân / The resident's consent is required"
CARD_BUDGET_S = 1.5  # reading a card's QR: a volunteer waits this long at most for an answer
NOT_DRAFT = "Hồ sơ đã nộp, không sửa được nữa / This dossier was submitted"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Submitted:
    receipt_code: str
    printed: bool
    print_error: str | None  # why the receipt did not print; the dossier is queued regardless


class Intake:
    """Drafts, applicant, pages, submit, receipt, lookup: the steps of filing, over `services`."""

    def __init__(
        self,
        services: Services,
        *,
        clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = services.settings
        self.repo = DossierRepo(services.sessions, services.blobs)
        self._services = services
        self._clock = clock
        self._rng = rng or random.SystemRandom()
        self._cutter = PageCutter(services.blobs, self.settings.intake.max_dossier_mb)

    def procedure(self, code: str) -> Procedure:
        found = self._services.catalog.current().get(code)
        if found is None:
            raise DossierError(
                "unknown_procedure",
                f"Không có thủ tục mã {code} / No procedure with code {code}",
            )
        return found

    def start_draft(self, procedure_code: str, channel: str) -> str:
        code = self.procedure(procedure_code).code
        self._check_room()
        with full_is_refused():
            return self.repo.create_draft(code, channel, self._clock())

    def _check_room(self) -> None:
        """Refuse a new dossier or page below settings.intake.min_free_mb free on the data dir:
        the space left keeps the dossiers already saved, and the queue, working."""
        check_room(self.settings.data_dir, self.settings.intake.min_free_mb * MB)

    def get(self, uuid: str) -> DossierRecord:
        found = self.repo.get(uuid)
        if found is None:
            raise DossierError("not_found", "Không tìm thấy hồ sơ / Dossier not found")
        return found

    def list_drafts(self, channel: str) -> list[DraftSummary]:
        """Unfinished drafts of a channel, latest first (the station's "continue" list)."""
        return self.repo.list_drafts(channel)

    def checklist(self, uuid: str) -> list[PaperState]:
        """The procedure's papers with this dossier's pages and originals, for the form."""
        dossier = self.get(uuid)
        procedure = self.procedure(dossier.procedure_code)
        return checklist(procedure, dossier.pages_by_paper(), dossier.originals)

    def set_applicant_from_qr(self, uuid: str, text: str, phone: str | None = None) -> CitizenId:
        """The applicant from the ID card's QR; its `warnings` are for the volunteer to check."""
        card = parse_citizen_qr(text, today=self._clock().date())
        self._save_card(uuid, card, phone)
        return card

    def set_applicant_from_frame(
        self, uuid: str, frame: NDArray[np.uint8], phone: str | None = None
    ) -> CitizenId:
        """The applicant from a camera frame of the ID card. The frame is only read, in memory:
        a picture of an ID card is never stored."""
        from appliance.capture.idcard import read_id

        card = read_id(frame, CARD_BUDGET_S, today=self._clock().date())
        self._save_card(uuid, card, phone)
        return card

    def _save_card(self, uuid: str, card: CitizenId, phone: str | None) -> None:
        applicant = Applicant(
            card.full_name, card.id_number, card.date_of_birth, card.gender, card.address
        )
        self._save_applicant(uuid, applicant, phone)

    def set_applicant_typed(self, uuid: str, name: str, phone: str | None = None) -> Applicant:
        applicant = Applicant(clean_name(name))
        self._save_applicant(uuid, applicant, phone)
        return applicant

    def dossier_pdf(self, uuid: str) -> bytes:
        """The dossier's pages as one PDF in their order, the stored G4/JPEG data not re-encoded."""
        from appliance.capture.pages import pdf_of

        pages = sorted(self.get(uuid).pages, key=lambda page: page.position)
        if not pages:
            raise DossierError("no_pages", "Hồ sơ chưa có trang nào / The dossier has no pages yet")
        return pdf_of([self._services.blobs.read(page.sha256) for page in pages])

    def set_phone(self, uuid: str, phone: str) -> str:
        number = normalize_vn_mobile(phone)
        self.repo.set_phone(uuid, number, self._clock())
        return number

    def _save_applicant(self, uuid: str, applicant: Applicant, phone: str | None) -> None:
        number = None if phone is None else normalize_vn_mobile(phone)  # check both, then write
        self.repo.set_applicant(uuid, applicant, self._clock())
        if number is not None:
            self.repo.set_phone(uuid, number, self._clock())

    def add_photo(self, uuid: str, paper_name: str, data: bytes, mode: Mode = "auto") -> PageRecord:
        """An uploaded photo (phone or file) as a new page of `paper_name`."""
        dossier = self._check_paper(uuid, paper_name)
        self._check_room()
        added = self._cutter.cut(dossier, self._upload(data), mode)
        return self.repo.add_page(uuid, paper_name, added.meta, self._clock(), added.cut)

    def add_image(
        self,
        uuid: str,
        paper_name: str,
        image: NDArray[np.uint8],
        mode: Mode = "auto",
        corners: Corners | None = None,
    ) -> PageRecord:
        """A camera frame (H×W×3 RGB) as a new page: flattened, cleaned, stored, then listed."""
        dossier = self._check_paper(uuid, paper_name)
        self._check_room()
        added = self._cutter.cut(dossier, image, mode, corners)
        return self.repo.add_page(uuid, paper_name, added.meta, self._clock(), added.cut)

    def replace_image(
        self,
        uuid: str,
        page_id: int,
        image: NDArray[np.uint8],
        mode: Mode = "auto",
        corners: Corners | None = None,
        rotate: int = 0,
    ) -> None:
        """A retake: a new frame processed into the page's place, which keeps its position."""
        dossier, page = self.page(uuid, page_id)
        added = self._cutter.cut(dossier, image, mode, corners, rotate, replacing=page)
        self.repo.replace_page(uuid, page_id, added.meta, self._clock(), added.cut)

    def replace_photo(self, uuid: str, page_id: int, data: bytes, mode: Mode = "auto") -> None:
        """A retake from an uploaded photo."""
        self.page(uuid, page_id)  # an unknown page is refused before the upload is decoded
        self.replace_image(uuid, page_id, self._upload(data), mode)

    def rotate_page(self, uuid: str, page_id: int, quarter_turns: int) -> None:
        """Turn a page by quarter turns (1: a quarter clockwise, -1: anticlockwise), cut again
        from its source photo with its corners as they were."""
        dossier, page = self.page(uuid, page_id)
        rotation = (page.cut.rotation if page.cut else 0) + 90 * quarter_turns
        again = self._cutter.recut(dossier, page, rotation=rotation % 360)
        self.repo.replace_page(uuid, page_id, again.meta, self._clock(), again.cut)

    def recrop_page(self, uuid: str, page_id: int, corners: Corners) -> None:
        """Cut a page again from its source photo along four corners a person set (source
        pixels, any order), keeping its turn."""
        dossier, page = self.page(uuid, page_id)
        again = self._cutter.recut(dossier, page, corners=corners)
        self.repo.replace_page(uuid, page_id, again.meta, self._clock(), again.cut)

    def source_photo(self, uuid: str, page_id: int) -> tuple[PageRecord, bytes]:
        """A draft's page and the JPEG of the photo it was cut from (for setting its corners)."""
        _, page = self.page(uuid, page_id)
        if page.cut is None or not self._services.blobs.exists(page.cut.source_sha256):
            raise DossierError("no_source", NO_SOURCE)
        return page, self._services.blobs.read(page.cut.source_sha256)

    def page(self, uuid: str, page_id: int) -> tuple[DossierRecord, PageRecord]:
        """A draft and one of its pages; refused for a submitted dossier or another's page."""
        dossier = self.get(uuid)
        if dossier.status != "draft":
            raise DossierError("not_draft", NOT_DRAFT)
        found = next((p for p in dossier.pages if p.id == page_id), None)
        if found is None:
            raise DossierError("page_not_found", "Không tìm thấy trang / Page not found")
        return dossier, found

    def _upload(self, data: bytes) -> NDArray[np.uint8]:
        from appliance.capture.images import load_upload

        return load_upload(data, self.settings.intake.max_image_mb * MB)

    def _check_paper(self, uuid: str, paper_name: str) -> DossierRecord:
        dossier = self.get(uuid)
        names = {paper_key(p) for p in self.procedure(dossier.procedure_code).papers}
        if paper_name not in names:
            raise DossierError(
                "unknown_paper",
                f"Thủ tục này không có giấy tờ “{paper_name}” / "
                f"This procedure has no paper “{paper_name}”",
            )
        if dossier.status != "draft":
            raise DossierError("not_draft", NOT_DRAFT)
        return dossier

    def remove_page(self, uuid: str, page_id: int) -> None:
        self.repo.remove_page(uuid, page_id, self._clock())

    def move_page(self, uuid: str, page_id: int, position: int) -> None:
        self.repo.move_page(uuid, page_id, position, self._clock())

    def mark_bring_original(self, uuid: str, paper_name: str, bring: bool = True) -> None:
        self._check_paper(uuid, paper_name)
        self.repo.mark_bring_original(uuid, paper_name, bring, self._clock())

    def discard(self, uuid: str) -> None:
        self.repo.delete_draft(uuid, self._clock())

    def submit(
        self, uuid: str, consent: bool, actor: str = "resident", lang: str = "vi"
    ) -> Submitted:
        """Queue the dossier (its SMS in `lang`) and print its receipt if a printer is set.

        A printer that fails is logged and reported in the result: the dossier is queued.
        """
        if not consent:
            raise DossierError("no_consent", CONSENT_REQUIRED)
        procedure = self.procedure(self.get(uuid).procedure_code)
        intake = self.settings.intake
        submission = Submission(
            intake.consent_version, intake.receipt_prefix, self.settings.box.hamlet, actor, lang
        )
        with full_is_refused():
            code = self.repo.submit(uuid, procedure, submission, self._clock(), self._rng)
        if not intake.printer:
            return Submitted(code, False, None)
        return Submitted(code, *self._print(uuid, intake.printer))

    def _print(self, uuid: str, printer: str) -> tuple[bool, str | None]:
        from appliance.receipts import print_receipt

        try:
            print_receipt(self.receipt(uuid), printer)
        except Exception as exc:
            log.warning("receipt for %s not printed / không in được biên nhận: %s", uuid, exc)
            return False, str(exc)
        return True, None

    def receipt(self, uuid: str, lang: str = "vi") -> bytes:
        """The submitted dossier's A5 receipt as PDF bytes."""
        from appliance.receipts import receipt_pdf

        dossier = self.get(uuid)
        return receipt_pdf(self.settings, dossier, self.procedure(dossier.procedure_code), lang)

    def lookup(self, receipt_code: str, last4: str) -> StatusSummary | None:
        """Status by receipt code and the phone's last 4 digits (rate-limit the caller)."""
        return self.repo.lookup(receipt_code, last4)


def create_command(settings: Settings, args: argparse.Namespace) -> int:
    """`hamletbox dossier create`: see appliance.intake_cli (loaded only for the command)."""
    from appliance.intake_cli import create_command as run

    return run(settings, args)


def notice(settings: Settings, lang: str = "vi") -> str:
    """The plain-language notice the consent box stands for (settings.intake.consent_version)."""
    intake = settings.intake
    return consent_notice(
        intake.consent_version,
        lang,
        office=settings.box.office,
        retention_days=intake.retention_days,
    )
