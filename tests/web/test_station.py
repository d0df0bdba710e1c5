"""The station: a volunteer files a dossier with a resident, from procedure to receipt.

The camera is a FolderCamera over generated photos: "putting the card under the camera" is
pointing it at a folder holding the card's photo; a folder of paper photos is the copy stand.
`Desk` and the fixtures here are also used by test_page_edit.py and test_station_shutter.py.
"""

from __future__ import annotations

import io
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import segno
from flask import Flask
from PIL import Image
from sqlalchemy import select
from werkzeug.test import TestResponse

from appliance.accounts import hash_password
from appliance.capture.camera import FolderCamera
from appliance.config import Settings
from appliance.domain.dossier import paper_key
from appliance.intake import Intake
from appliance.samples.cards import Shot, card_photo, sample_card_payload
from appliance.samples.documents import make_photo
from appliance.services import Services
from appliance.store.dossier_records import DossierRecord
from appliance.store.tables import OutboxItem
from appliance.store.users import UserRepo
from tests.web.conftest import parse, text
from web import auth, create_app, csrf

BIRTH = "1.001193"
FORM = "Tờ khai đăng ký khai sinh (theo mẫu)"
HOSPITAL = "Giấy chứng sinh (bệnh viện hoặc trạm y tế cấp)"
PARENT_ID = "Căn cước (CCCD) của cha hoặc mẹ"
MARRIAGE = "Giấy chứng nhận kết hôn của cha mẹ (nếu có)"
FRAME = (1200, 900)  # small photos keep the tests quick
TOKEN = "station-test-token"


@dataclass(frozen=True)
class Photos:
    """Folders a FolderCamera can point at, and the card's QR text."""

    card: Path
    suspect_card: Path
    papers: Path
    other_qr: Path
    card_text: str
    paper_jpeg: bytes


def _save(folder: Path, name: str, image: Image.Image) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    image.save(folder / name, quality=90)
    return folder


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Photos:
    root = tmp_path_factory.mktemp("station-photos")
    payload = sample_card_payload(4)
    card = card_photo(payload, Shot(frame=FRAME), 4).image
    suspect = card_photo(sample_card_payload(1, inconsistent=True), Shot(frame=FRAME), 1).image
    poster = Image.new("RGB", FRAME, "white")
    png = io.BytesIO()
    segno.make("https://dichvucong.gov.vn/").save(png, kind="png", scale=8, border=4)
    poster.paste(Image.open(png).convert("RGB"), (100, 100))
    papers = root / "papers"
    papers.mkdir()
    paper = make_photo(2, frame=FRAME).jpeg
    (papers / "giay-1.jpg").write_bytes(paper)
    (papers / "giay-2.jpg").write_bytes(make_photo(3, frame=FRAME).jpeg)
    return Photos(
        card=_save(root / "card", "the.jpg", Image.fromarray(card)),
        suspect_card=_save(root / "suspect", "the.jpg", Image.fromarray(suspect)),
        papers=papers,
        other_qr=_save(root / "poster", "qr.png", poster),
        card_text=payload,
        paper_jpeg=paper,
    )


@pytest.fixture
def station(settings: Settings, services: Services, photos: Photos) -> Iterator[Flask]:
    services.camera = FolderCamera(photos.papers)
    app = create_app(settings, services)
    app.testing = True
    yield app
    services.camera = None


class Desk:
    """A volunteer at the station: a logged-in client with this session's CSRF token."""

    def __init__(self, app: Flask, services: Services, name: str = "lan") -> None:
        if UserRepo(services.sessions).get(name) is None:
            UserRepo(services.sessions).add(name, "volunteer", hash_password("mat-khau-dai-du"))
        self.services = services
        self.client = app.test_client()
        with self.client.session_transaction() as session:
            session.update({auth.USER: name, auth.ROLE: "volunteer", auth.SINCE: int(time.time())})
            session[csrf.SESSION_KEY] = TOKEN

    def post(self, url: str, *, follow_redirects: bool = False, **data: object) -> TestResponse:
        sent = {"csrf_token": TOKEN, **data}
        return self.client.post(url, data=sent, follow_redirects=follow_redirects)

    def page(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return text(response)

    def new_dossier(self, code: str = BIRTH) -> str:
        response = self.post("/station/new", procedure=code)
        assert response.status_code == 303
        return str(response.headers["Location"])

    def camera(self, folder: Path | None) -> None:
        """Put something else under the camera (None: no camera at all)."""
        self.services.camera = None if folder is None else FolderCamera(folder)

    def record(self, url: str) -> DossierRecord:
        """The dossier behind a workspace URL, as stored."""
        return Intake(self.services).get(uuid_of(url))


@pytest.fixture
def desk(station: Flask, services: Services) -> Desk:
    return Desk(station, services)


def uuid_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def blob_files(services: Services) -> set[Path]:
    return {p for p in services.settings.blob_dir.rglob("*") if p.is_file()}


def alert_text(html: str) -> str:
    """The text of the page's problem boxes, tags removed."""
    boxes = re.findall(r'<(div|p) class="problem"[^>]*>(.*?)</\1>', html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body) for _, body in boxes)


def test_the_station_needs_a_login(station: Flask) -> None:
    response = station.test_client().get("/station")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=/station")


def test_the_home_screen_offers_procedures_drafts_preview_and_logout(desk: Desk) -> None:
    started = desk.new_dossier()
    html = desk.page("/station")
    assert "Hồ sơ mới" in html and "Đăng ký khai sinh" in html
    links = parse(html)
    assert "/station/camera/stream.mjpg" in links.urls
    assert "/logout" in links.urls
    assert started in links.urls  # the draft to resume
    desk.camera(None)
    assert "/station/camera/stream.mjpg" not in parse(desk.page("/station")).urls


def test_station_pages_may_run_the_boxs_own_scripts_only(desk: Desk, station: Flask) -> None:
    csp = desk.client.get("/station").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'none'" in station.test_client().get("/").headers["Content-Security-Policy"]


def test_a_new_dossier_shows_its_checklist(desk: Desk) -> None:
    html = desk.page(desk.new_dossier())
    for paper in (FORM, HOSPITAL, PARENT_ID, MARRIAGE):
        assert paper in html
    assert desk.post("/station/new", procedure="9.999").status_code == 404
    assert desk.client.get("/station/d/no-such-dossier").status_code == 404


def test_the_id_card_fills_the_applicant_and_is_never_stored(desk: Desk, photos: Photos) -> None:
    url = desk.new_dossier()
    desk.camera(photos.card)
    before = blob_files(desk.services)
    assert desk.post(url + "/scan").status_code == 303
    assert blob_files(desk.services) == before
    applicant = desk.record(url).applicant
    assert applicant is not None and applicant.id_number == photos.card_text.split("|")[0]
    html = desk.page(url)
    assert applicant.full_name in html and applicant.id_number in html
    assert HOSPITAL in html  # no warnings: the checklist is open


def test_a_suspect_card_must_be_confirmed_before_going_on(desk: Desk, photos: Photos) -> None:
    url = desk.new_dossier()
    desk.camera(photos.suspect_card)
    desk.post(url + "/scan")
    html = desk.page(url)
    assert "Năm sinh trong số định danh không khớp" in html
    assert "Tôi đã kiểm tra với người dân / I checked with the resident" in html
    assert 'action="' + url + '/submit"' not in html  # nothing further until confirmed
    refused = desk.post(url + "/submit", consent="1")
    assert refused.status_code == 422 and "Hãy xác nhận đã kiểm tra" in text(refused)
    unticked = desk.post(url + "/checked")
    assert unticked.status_code == 422 and "Tôi đã kiểm tra" in alert_text(text(unticked))
    assert desk.post(url + "/checked", checked="1").status_code == 303
    html = desk.page(url)
    assert "không khớp" not in html and HOSPITAL in html


@pytest.mark.parametrize(
    ("under_camera", "message"),
    [
        ("papers", "Không đọc được mã QR / Could not read the QR code"),
        ("other_qr", "Mã QR này không phải của thẻ căn cước"),
    ],
)
def test_a_bad_id_frame_says_so_and_keeps_the_applicant(
    desk: Desk, photos: Photos, under_camera: str, message: str
) -> None:
    url = desk.new_dossier()
    desk.post(url + "/applicant", typed="1", name="Trần Văn Đức")
    desk.camera(getattr(photos, under_camera))
    response = desk.post(url + "/scan")
    assert response.status_code == 422
    assert message in alert_text(text(response))
    applicant = desk.record(url).applicant
    assert applicant is not None and applicant.full_name == "Trần Văn Đức"


def test_scanning_without_a_camera_says_to_upload(desk: Desk) -> None:
    url = desk.new_dossier()
    desk.camera(None)
    response = desk.post(url + "/scan")
    assert response.status_code == 422
    assert "Hộp chưa có máy ảnh" in alert_text(text(response))


def test_a_typed_name_with_html_is_kept_as_text_and_shown_escaped(desk: Desk) -> None:
    url = desk.new_dossier()
    name = "<b>Lê</b> <script>alert(1)</script> Yến"
    assert desk.post(url + "/applicant", typed="1", name=name).status_code == 303
    html = desk.page(url)
    assert "<script>alert" not in html and "<b>Lê" not in html
    assert "&lt;b&gt;Lê&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt; Yến" in html
    applicant = desk.record(url).applicant
    assert applicant is not None and applicant.full_name == name


def test_an_empty_name_is_refused_with_a_message(desk: Desk) -> None:
    url = desk.new_dossier()
    response = desk.post(url + "/applicant", typed="1", name="   ")
    assert response.status_code == 422
    assert "Cần nhập họ và tên" in alert_text(text(response))


def test_a_phone_number_with_letters_gets_a_message_and_keeps_the_old_one(desk: Desk) -> None:
    url = desk.new_dossier()
    assert desk.post(url + "/applicant", phone="0912 345 678").status_code == 303
    response = desk.post(url + "/applicant", phone="09l2abc678")
    assert response.status_code == 422
    html = text(response)
    assert alert_text(html).strip()
    assert 'value="09l2abc678"' in html  # what was typed is shown again to correct
    assert desk.record(url).phone == "0912345678"


def test_capture_adds_a_page_to_the_paper_and_arms_the_shutter(desk: Desk) -> None:
    url = desk.new_dossier()
    response = desk.post(url + "/capture", paper=HOSPITAL)
    assert response.status_code == 303 and "#giay-" in response.headers["Location"]
    pages = desk.record(url).pages
    assert [p.paper_name for p in pages] == [HOSPITAL]
    assert pages[0].cut is not None  # the source photo is kept for re-cropping
    html = desk.page(url)
    assert "1 trang" in html
    assert f"/page/{pages[0].id}.jpg" in html


def test_the_id_card_paper_offers_no_camera_and_no_upload(desk: Desk) -> None:
    html = desk.page(desk.new_dossier())
    item = html.split(PARENT_ID, 1)[1].split("</li>", 1)[0]
    assert "hộp không lưu ảnh thẻ" in item
    assert "/capture" not in item and 'type="file"' not in item


def test_uploads_add_pages_and_bad_files_are_named_without_losing_any(
    desk: Desk, photos: Photos
) -> None:
    url = desk.new_dossier()
    desk.post(url + "/capture", paper=FORM)
    truncated = photos.paper_jpeg[: len(photos.paper_jpeg) // 2]
    files = [
        (io.BytesIO(photos.paper_jpeg), "trang-1.jpg"),
        (io.BytesIO(b"%PDF-1.7\n" + b"0" * 500), "giay-khai-sinh.jpg"),
        (io.BytesIO(truncated), "trang-2.jpg"),
    ]
    response = desk.client.post(
        url + "/upload",
        data={"csrf_token": TOKEN, "paper": FORM, "photos": files},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    problems = alert_text(text(response))
    assert "giay-khai-sinh.jpg: Tệp này là tài liệu PDF" in problems
    assert "trang-2.jpg: Ảnh bị hỏng hoặc chưa tải lên hết" in problems
    assert len(desk.record(url).pages) == 2  # the capture and trang-1


def test_an_upload_without_a_file_asks_for_one(desk: Desk) -> None:
    url = desk.new_dossier()
    response = desk.post(url + "/upload", paper=FORM)
    assert response.status_code == 422 and "Chưa chọn ảnh nào" in alert_text(text(response))


def test_bring_the_original_is_a_toggle(desk: Desk) -> None:
    url = desk.new_dossier()
    desk.post(url + "/original", paper=PARENT_ID, bring="1")
    assert desk.record(url).originals == {PARENT_ID}
    assert 'aria-pressed="true"' in desk.page(url)
    desk.post(url + "/original", paper=PARENT_ID, bring="0")
    assert desk.record(url).originals == frozenset()
    refused = desk.post(url + "/original", paper="Giấy phép lái xe", bring="1")
    assert refused.status_code == 422 and "không có giấy tờ" in alert_text(text(refused))


def test_submitting_with_papers_missing_highlights_them(desk: Desk) -> None:
    url = desk.new_dossier()
    desk.post(url + "/applicant", typed="1", name="Nguyễn Thị Lan")
    desk.post(url + "/applicant", phone="0912345678")
    desk.post(url + "/capture", paper=FORM)
    response = desk.post(url + "/submit", consent="1")
    assert response.status_code == 422
    html = text(response)
    assert "Còn thiếu giấy tờ" in alert_text(html)
    lacking = {attrs.get("id") for tag, attrs in parse(html).tags if attrs.get("class") == "lack"}
    assert len(lacking) == 2  # the hospital's paper and the parent's ID; the form has a page
    assert 'name="consent" value="1" checked' in html


def test_submitting_without_consent_is_refused(desk: Desk) -> None:
    url = desk.new_dossier()
    response = desk.post(url + "/submit")
    assert response.status_code == 422
    assert "Cần có sự đồng ý" in alert_text(text(response))


def fill(desk: Desk, url: str) -> None:
    desk.post(url + "/applicant", typed="1", name="Nguyễn Thị Lan")
    desk.post(url + "/applicant", phone="0912345678")
    desk.post(url + "/capture", paper=HOSPITAL)
    for paper in (FORM, PARENT_ID):
        desk.post(url + "/original", paper=paper, bring="1")


def test_submit_queues_the_dossier_with_its_outbox_and_shows_the_receipt(desk: Desk) -> None:
    url = desk.new_dossier()
    fill(desk, url)
    response = desk.post(url + "/submit", consent="1")
    assert response.status_code == 303
    found = desk.record(url)
    assert found.status == "queued" and found.receipt_code
    assert response.headers["Location"] == f"/bien-nhan/{found.receipt_code}"
    with desk.services.sessions() as session:
        rows = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        kinds = [(row.kind, row.key) for row in rows]
    assert kinds == [
        ("blob", found.pages[0].sha256),
        ("manifest", found.uuid),
        ("sms", f"receipt:{found.uuid}"),
    ]
    again = desk.client.get(url)  # the workspace of a submitted dossier is its receipt
    assert again.status_code == 303 and again.headers["Location"] == response.headers["Location"]
    assert uuid_of(url) not in [d.uuid for d in Intake(desk.services).list_drafts("station")]


def test_the_version_tells_a_script_when_pages_were_added(desk: Desk) -> None:
    url = desk.new_dossier()
    first = desk.client.get(url + "/version").get_json()
    desk.post(url + "/capture", paper=FORM)
    second = desk.client.get(url + "/version")
    assert second.headers["Cache-Control"] == "no-store"
    assert (first["pages"], second.get_json()["pages"]) == (0, 1)
    assert desk.client.get("/station/d/nope/version").status_code == 404


def test_a_draft_can_be_discarded(desk: Desk) -> None:
    url = desk.new_dossier()
    response = desk.post(url + "/discard")
    assert response.status_code == 303 and response.headers["Location"] == "/station"
    assert desk.client.get(url).status_code == 404


def test_every_station_post_needs_the_token(desk: Desk) -> None:
    url = desk.new_dossier()
    for action in ("/scan", "/capture", "/applicant", "/original", "/submit", "/discard"):
        response = desk.client.post(url + action, data={"paper": FORM})
        assert response.status_code == 400, action
    assert desk.record(url).status == "draft"


def test_a_resident_page_lists_paper_keys_the_station_uses(desk: Desk) -> None:
    """The checklist's keys are the catalog's Vietnamese names, whatever the page language."""
    url = desk.new_dossier()
    desk.client.set_cookie("lang", "en")
    html = desk.page(url)
    procedure = Intake(desk.services).procedure(BIRTH)
    for paper in procedure.papers:
        assert f'name="paper" value="{paper_key(paper)}"' in html
    assert procedure.name.en in html


def test_the_dossier_pdf_copies_the_stored_pages_in_order(
    desk: Desk, services: Services, tmp_path: Path
) -> None:
    url = desk.new_dossier()
    assert desk.client.get(url + "/ho-so.pdf").status_code == 404  # no pages yet
    desk.post(url + "/capture", paper=HOSPITAL)
    desk.post(url + "/capture", paper=HOSPITAL)
    pages = desk.record(url).pages
    assert "/ho-so.pdf" in desk.page(url)
    response = desk.client.get(url + "/ho-so.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "ho-so.pdf"
    pdf.write_bytes(response.get_data())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+(\d+)$", info.stdout, re.M).group(1) == str(len(pages))  # type: ignore[union-attr]
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True)
    encodings = [line.split()[8] for line in listing.stdout.splitlines()[2:]]
    assert encodings == [{"text": "ccitt", "color": "jpeg"}[p.mode] for p in pages]
