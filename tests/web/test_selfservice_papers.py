"""The phone flow's paper screens: photos (good and bad), originals, ID cards, page edits."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from appliance.domain.dossier import paper_key
from appliance.intake import Intake
from appliance.services import Services
from tests.web.conftest import parse, text
from tests.web.test_auth import csrf_token_of
from tests.web.test_selfservice import (
    BIRTH,
    bring,
    file_dossier,
    fill_applicant,
    sample_photo,
    start,
    upload,
)

MARRIAGE_CERT = 4  # the birth procedure's optional paper: a photo is enough, no original
ID_CARD = 3


def huge_png() -> bytes:
    """A real, valid PNG of 100 megapixels: small on disk, enormous once decoded."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000), 1).save(out, format="PNG")
    return out.getvalue()


BAD_FILES = {
    "a PDF renamed .jpg": (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "Tệp này là tài liệu PDF"),
    "an iPhone HEIC": (
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
        "Ảnh HEIC chưa được hỗ trợ",
    ),
    "an empty file": (b"", "Tệp trống"),
}


@pytest.fixture
def photo() -> bytes:
    return sample_photo()


@pytest.fixture
def draft(phone: FlaskClient) -> str:
    uuid = start(phone)
    fill_applicant(phone, uuid)
    return uuid


def pages(services: Services, uuid: str) -> list[str]:
    return [p.paper_name for p in Intake(services).get(uuid).pages]


def marriage_cert(services: Services) -> str:
    return paper_key(Intake(services).procedure(BIRTH).papers[MARRIAGE_CERT - 1])


def test_a_paper_screen_asks_for_a_camera_photo(phone: FlaskClient, draft: str) -> None:
    response = phone.get(f"/nop/hs/{draft}/giay/1")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = text(response)
    assert "Tờ khai đăng ký khai sinh (theo mẫu)" in html and "Bước 2/6" in html
    inputs = [v for tag, v in parse(html).tags if tag == "input" and v.get("type") == "file"]
    assert inputs == [
        {
            "id": "photo",
            "name": "photo",
            "type": "file",
            "accept": "image/*",
            "capture": "environment",
            "multiple": None,
            "aria-describedby": "photo-hint",
        }
    ]
    assert "Tôi sẽ mang bản chính đến" in html


def test_a_photo_becomes_a_page_shown_with_its_tools(
    phone: FlaskClient, services: Services, draft: str, photo: bytes
) -> None:
    response = upload(phone, draft, 1, (photo, "IMG_0001.jpg"))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/nop/hs/{draft}/giay/1"
    assert pages(services, draft) == [paper_key(Intake(services).procedure(BIRTH).papers[0])]
    html = text(phone.get(f"/nop/hs/{draft}/giay/1"))
    assert "Đã có 1 trang" in html and "Xoay phải" in html and "Xóa trang" in html
    thumb = re.search(r'<img src="([^"]+)"', html)
    assert thumb
    image = phone.get(thumb.group(1).replace("&amp;", "&"))
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert "Tiếp tục" in html


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_a_bad_file_is_explained_on_the_same_screen(
    phone: FlaskClient, services: Services, draft: str, kind: str
) -> None:
    body, message = BAD_FILES[kind]
    response = upload(phone, draft, 1, (body, "anh.jpg"))
    assert response.status_code == 400
    html = text(response)
    assert message in html and 'role="alert"' in html
    assert "Tờ khai đăng ký khai sinh" in html  # still the same paper's screen
    assert pages(services, draft) == []


def test_bad_photos_never_cost_the_pages_already_added(
    phone: FlaskClient, services: Services, draft: str, photo: bytes
) -> None:
    upload(phone, draft, MARRIAGE_CERT, (photo, "trang-1.jpg"))
    kept = pages(services, draft)
    bad = {
        "truncated": (photo[: len(photo) // 2], "Ảnh bị hỏng hoặc chưa tải lên hết"),
        "100 MP": (huge_png(), "Ảnh có quá nhiều điểm ảnh"),
        "PDF": (BAD_FILES["a PDF renamed .jpg"][0], "tài liệu PDF"),
        "too big": (photo[:3] + bytes(16 * 1024 * 1024), "Ảnh quá lớn (16.0 MB, tối đa 15 MB)"),
    }
    for kind, (body, message) in bad.items():
        response = upload(phone, draft, MARRIAGE_CERT, (body, "anh.jpg"))
        assert response.status_code == 400, kind
        html = text(response)
        assert message in html, kind
        assert "Đã có 1 trang" in html, kind  # the page already added is still on the screen
        assert pages(services, draft) == kept, kind


def test_of_several_photos_the_good_ones_are_kept_and_the_bad_one_named(
    phone: FlaskClient, services: Services, draft: str, photo: bytes
) -> None:
    response = upload(phone, draft, MARRIAGE_CERT, (photo, "1.jpg"), (b"%PDF-1.4", "2.jpg"))
    assert response.status_code == 400
    assert "Ảnh 2: Tệp này là tài liệu PDF" in text(response)
    assert pages(services, draft) == [marriage_cert(services)]


def test_sending_without_a_photo_says_what_to_do(phone: FlaskClient, draft: str) -> None:
    response = upload(phone, draft, 1)
    assert response.status_code == 400
    assert "Chưa chọn ảnh nào" in text(response)


def test_promising_the_original_moves_on_and_can_be_undone(
    phone: FlaskClient, services: Services, draft: str
) -> None:
    response = bring(phone, draft, 1)
    assert response.headers["Location"] == f"/nop/hs/{draft}/giay/2"
    first = paper_key(Intake(services).procedure(BIRTH).papers[0])
    assert Intake(services).get(draft).originals == {first}
    html = text(phone.get(f"/nop/hs/{draft}/giay/1"))
    assert "Bạn sẽ mang bản chính đến xã" in html and "Bỏ chọn mang bản chính" in html
    response = bring(phone, draft, 1, yes=False)
    assert response.headers["Location"] == f"/nop/hs/{draft}/giay/1"
    assert Intake(services).get(draft).originals == frozenset()


def test_the_last_paper_leads_to_the_review(phone: FlaskClient, draft: str) -> None:
    html = text(phone.get(f"/nop/hs/{draft}/giay/{MARRIAGE_CERT}"))
    assert f'href="/nop/hs/{draft}/xem-lai"' in html
    assert "Bỏ qua, tôi không có giấy này" in html  # optional: it may be skipped


def test_an_id_card_is_never_photographed_on_the_phone(
    phone: FlaskClient, services: Services, draft: str, photo: bytes
) -> None:
    html = text(phone.get(f"/nop/hs/{draft}/giay/{ID_CARD}"))
    assert 'type="file"' not in html
    assert "hộp không lưu ảnh thẻ" in html and "Tôi sẽ mang bản chính đến" in html
    response = upload(phone, draft, ID_CARD, (photo, "cccd.jpg"))
    assert response.status_code == 404
    assert pages(services, draft) == []


def test_a_photo_only_paper_offers_no_original(
    phone: FlaskClient, services: Services, draft: str
) -> None:
    html = text(phone.get(f"/nop/hs/{draft}/giay/{MARRIAGE_CERT}"))
    assert "Tôi sẽ mang bản chính đến" not in html
    assert bring(phone, draft, MARRIAGE_CERT).status_code == 404
    assert Intake(services).get(draft).originals == frozenset()


def test_a_paper_number_beyond_the_checklist_is_not_found(phone: FlaskClient, draft: str) -> None:
    assert phone.get(f"/nop/hs/{draft}/giay/0").status_code == 404
    assert phone.get(f"/nop/hs/{draft}/giay/5").status_code == 404


def test_deleting_a_page_returns_to_its_papers_screen(
    phone: FlaskClient, services: Services, draft: str, photo: bytes
) -> None:
    upload(phone, draft, 2, (photo, "a.jpg"))
    page = Intake(services).get(draft).pages[0]
    token = csrf_token_of(phone, f"/nop/hs/{draft}/giay/2")
    response = phone.post(f"/nop/hs/{draft}/page/{page.id}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/nop/hs/{draft}/giay/2#giay-")
    assert pages(services, draft) == []
    assert phone.get(f"/nop/hs/{draft}/page/{page.id}.jpg").status_code == 404


def test_page_images_are_this_phones_alone(
    app: Flask, phone: FlaskClient, services: Services, draft: str, photo: bytes
) -> None:
    upload(phone, draft, 2, (photo, "a.jpg"))
    page = Intake(services).get(draft).pages[0]
    path = f"/nop/hs/{draft}/page/{page.id}.jpg"
    assert "private" in phone.get(path).headers["Cache-Control"]
    assert app.test_client().get(path).status_code == 404


def test_after_submitting_no_paper_can_be_added(
    phone: FlaskClient, services: Services, photo: bytes
) -> None:
    uuid, code = file_dossier(phone)
    token = csrf_token_of(phone, f"/nop/{BIRTH}")
    data = {"csrf_token": token, "photo": (io.BytesIO(photo), "late.jpg")}
    response = phone.post(
        f"/nop/hs/{uuid}/giay/1/anh", data=data, content_type="multipart/form-data"
    )
    assert response.headers["Location"] == f"/bien-nhan/{code}"
    assert pages(services, uuid) == []
