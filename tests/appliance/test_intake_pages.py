"""Pages keep their source photo while a draft, so turning and re-cropping start from the photo;
the ID card's frame is read in memory and never stored."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime

import numpy as np
import pytest
import segno
from PIL import Image

from appliance.domain.citizen_id import IdCardError
from appliance.domain.dossier import DossierError, PageMeta
from appliance.intake import Intake
from appliance.intake_pages import checked_corners
from appliance.samples.cards import Shot, card_photo, sample_card_payload
from appliance.samples.documents import make_photo
from appliance.services import Services

NOW = datetime(2025, 6, 5, 8, 0, tzinfo=UTC)
BIRTH = "1.001193"
FORM = "Tờ khai đăng ký khai sinh (theo mẫu)"
FRAME = (1200, 900)


@pytest.fixture
def intake(services: Services) -> Intake:
    return Intake(services, clock=lambda: NOW, rng=random.Random(5))


@pytest.fixture(scope="module")
def photo() -> bytes:
    return make_photo(6, frame=FRAME).jpeg


def blob_count(services: Services) -> int:
    return sum(1 for p in services.settings.blob_dir.rglob("*") if p.is_file())


def test_a_page_keeps_its_source_photo_as_a_plain_jpeg(
    intake: Intake, services: Services, photo: bytes
) -> None:
    uuid = intake.start_draft(BIRTH, "station")
    page = intake.add_photo(uuid, FORM, photo)
    assert page.cut is not None and page.cut.rotation == 0
    assert page.cut.corners is not None  # the sample page's edges were found
    source = services.blobs.read(page.cut.source_sha256)
    with Image.open(io.BytesIO(source)) as image:
        assert image.format == "JPEG" and image.size == FRAME
        assert not image.getexif() and "exif" not in image.info
    listed = intake.get(uuid).pages[0]
    assert listed.cut == page.cut


def test_source_photos_do_not_count_against_the_dossier_cap(intake: Intake, photo: bytes) -> None:
    uuid = intake.start_draft(BIRTH, "station")
    page = intake.add_photo(uuid, FORM, photo)
    assert intake.get(uuid).total_bytes == page.bytes
    assert intake.source_photo(uuid, page.id)[1]  # kept, yet not counted


def test_turns_add_up_and_keep_the_corners(intake: Intake, photo: bytes) -> None:
    uuid = intake.start_draft(BIRTH, "station")
    page = intake.add_photo(uuid, FORM, photo)
    intake.rotate_page(uuid, page.id, 1)
    intake.rotate_page(uuid, page.id, 2)
    turned = intake.get(uuid).pages[0]
    assert turned.cut is not None and page.cut is not None
    assert (turned.cut.rotation, turned.cut.corners) == (270, page.cut.corners)
    assert (turned.width, turned.height) == (page.height, page.width)
    assert turned.mode == page.mode


def test_recropping_keeps_the_turn(intake: Intake, photo: bytes) -> None:
    uuid = intake.start_draft(BIRTH, "station")
    page = intake.add_photo(uuid, FORM, photo)
    intake.rotate_page(uuid, page.id, 1)
    intake.recrop_page(uuid, page.id, ((100, 100), (1100, 100), (1100, 800), (100, 800)))
    cut = intake.get(uuid).pages[0].cut
    assert cut is not None and cut.rotation == 90
    assert cut.corners == ((100, 100), (1100, 100), (1100, 800), (100, 800))


def test_a_page_without_a_source_cannot_be_turned(intake: Intake) -> None:
    uuid = intake.start_draft(BIRTH, "station")
    old = intake.repo.add_page(uuid, FORM, PageMeta("b" * 64, "text", 10, 20, 30), NOW)
    with pytest.raises(DossierError) as caught:
        intake.rotate_page(uuid, old.id, 1)
    assert caught.value.code == "no_source"
    with pytest.raises(DossierError):
        intake.source_photo(uuid, old.id)


def test_a_submitted_dossiers_pages_cannot_be_edited(intake: Intake, photo: bytes) -> None:
    uuid = intake.start_draft(BIRTH, "station")
    page = intake.add_photo(uuid, FORM, photo)
    intake.set_applicant_typed(uuid, "Nguyễn Thị Lan", "0912345678")
    for paper in intake.procedure(BIRTH).papers[1:]:
        intake.mark_bring_original(uuid, paper.name.vi)
    intake.submit(uuid, consent=True)
    with pytest.raises(DossierError) as caught:
        intake.rotate_page(uuid, page.id, 1)
    assert caught.value.code == "not_draft"


@pytest.mark.parametrize(
    "given",
    [
        ((10, 10), (90, 10), (90, 90), (10, 90)),
        ((90, 90), (10, 10), (10, 90), (90, 10)),
        ((10, 90), (90, 90), (90, 10), (10, 10)),
    ],
)
def test_corners_come_back_in_order_whatever_order_they_came(
    given: tuple[tuple[float, float], ...],
) -> None:
    assert checked_corners(given, 100, 100) == ((10, 10), (90, 10), (90, 90), (10, 90))


def test_corners_outside_the_photo_are_pulled_in() -> None:
    found = checked_corners(((-5, -5), (120, 0), (99, 130), (0, 99)), 100, 100)
    assert found == ((0, 0), (99, 0), (99, 99), (0, 99))


@pytest.mark.parametrize(
    "given",
    [
        ((10, 10), (20, 20), (30, 30), (40, 40)),  # on one line
        ((10, 10), (90, 10), (20, 20), (10, 90)),  # one corner folded inside
        ((10, 10), (12, 10), (12, 12), (10, 12)),  # a speck, not a page
        ((10, 10), (90, 10), (90, 90)),
        ((float("nan"), 10), (90, 10), (90, 90), (10, 90)),
    ],
)
def test_corners_that_make_no_page_are_refused(given: tuple[tuple[float, float], ...]) -> None:
    with pytest.raises(DossierError) as caught:
        checked_corners(given, 100, 100)
    assert caught.value.code == "bad_corners"


def test_the_card_is_read_from_a_frame_and_nothing_is_written(
    intake: Intake, services: Services
) -> None:
    payload = sample_card_payload(2)
    frame = card_photo(payload, Shot(frame=FRAME), 2).image
    uuid = intake.start_draft(BIRTH, "station")
    before = blob_count(services)
    card = intake.set_applicant_from_frame(uuid, frame, "0912345678")
    assert card.id_number == payload.split("|")[0]
    applicant = intake.get(uuid).applicant
    assert applicant is not None and applicant.full_name == card.full_name
    assert blob_count(services) == before


def test_a_frame_with_another_qr_beside_the_card_uses_the_cards(intake: Intake) -> None:
    payload = sample_card_payload(3)
    frame = card_photo(payload, Shot(frame=FRAME, centre=(0.65, 0.5)), 3).image.copy()
    png = io.BytesIO()
    segno.make("https://example.org/").save(png, kind="png", scale=6, border=4)
    other = np.asarray(Image.open(png).convert("RGB"))
    frame[20 : 20 + other.shape[0], 20 : 20 + other.shape[1]] = other
    uuid = intake.start_draft(BIRTH, "station")
    assert intake.set_applicant_from_frame(uuid, frame).id_number == payload.split("|")[0]


@pytest.mark.parametrize(("text", "code"), [(None, "no_qr"), ("https://example.org/", "not_id_qr")])
def test_a_frame_without_a_card_is_refused(intake: Intake, text: str | None, code: str) -> None:
    frame = np.full((FRAME[1], FRAME[0], 3), 200, np.uint8)
    if text is not None:
        png = io.BytesIO()
        segno.make(text).save(png, kind="png", scale=8, border=4)
        qr = np.asarray(Image.open(png).convert("RGB"))
        frame[100 : 100 + qr.shape[0], 100 : 100 + qr.shape[1]] = qr
    uuid = intake.start_draft(BIRTH, "station")
    with pytest.raises(IdCardError) as caught:
        intake.set_applicant_from_frame(uuid, frame)
    assert caught.value.code == code
    assert intake.get(uuid).applicant is None
