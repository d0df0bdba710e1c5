"""A draft's pages edited through web.page_edit, as the station mounts it: preview, turn, move,
delete, retake and re-crop, each from the page's kept source photo."""

from __future__ import annotations

import io
import re

import pytest
from flask import Blueprint
from PIL import Image

from appliance.services import Services
from appliance.store.dossier_records import PageRecord
from tests.web.conftest import text
from tests.web.test_station import FORM, HOSPITAL, TOKEN, Desk, Photos, photos, station
from tests.web.test_station import desk as desk
from web import create_app, page_edit

__all__ = ["photos", "station"]  # fixtures shared with test_station.py


def jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert not image.getexif()
    return image


def page_url(url: str, page: PageRecord, action: str = "") -> str:
    return f"{url}/page/{page.id}{action}"


@pytest.fixture
def draft(desk: Desk) -> str:
    """A draft with two pages of the form and one of the hospital's paper between them."""
    url = desk.new_dossier()
    for paper in (FORM, HOSPITAL, FORM):
        assert desk.post(url + "/capture", paper=paper).status_code == 303
    return url


def test_a_page_preview_is_a_small_private_jpeg(desk: Desk, draft: str) -> None:
    page = desk.record(draft).pages[0]
    assert page.mode == "text"  # a G4 TIFF underneath
    small = desk.client.get(page_url(draft, page, ".jpg"))
    assert small.headers["Cache-Control"] == "private, no-cache"
    assert max(jpeg(small.get_data()).size) == page_edit.THUMB_PX
    named = desk.client.get(page_url(draft, page, f".jpg?v={page.sha256[:12]}&size=l"))
    assert named.headers["Cache-Control"].startswith("private, max-age=")
    assert max(jpeg(named.get_data()).size) <= page_edit.LARGE_PX
    workspace = desk.page(draft)
    assert page_url(draft, page, f".jpg?v={page.sha256[:12]}") in workspace


def test_the_source_photo_is_served_small_for_the_corners(desk: Desk, draft: str) -> None:
    page = desk.record(draft).pages[0]
    assert page.cut is not None
    shown = jpeg(desk.client.get(page_url(draft, page, "/source.jpg")).get_data())
    assert shown.size == (1200, 900)  # the frame, under the 1280 px cap


def test_turning_a_page_starts_again_from_its_photo(desk: Desk, draft: str) -> None:
    page = desk.record(draft).pages[0]
    response = desk.post(page_url(draft, page, "/rotate"), turns="1")
    assert response.status_code == 303 and "#giay-" in response.headers["Location"]
    turned = desk.record(draft).pages[0]
    assert (turned.id, turned.width, turned.height) == (page.id, page.height, page.width)
    assert turned.cut is not None and turned.cut.rotation == 90
    desk.post(page_url(draft, page, "/rotate"), turns="-1")
    back = desk.record(draft).pages[0]
    assert (back.width, back.height, back.cut) == (page.width, page.height, page.cut)
    assert desk.post(page_url(draft, page, "/rotate"), turns="3").status_code == 400


def test_pages_move_within_their_paper(desk: Desk, draft: str) -> None:
    first, hospital, last = desk.record(draft).pages

    def form_pages() -> list[int]:
        return [p.id for p in desk.record(draft).pages if p.paper_name == FORM]

    desk.post(page_url(draft, last, "/move"), to="up")
    assert form_pages() == [last.id, first.id]
    desk.post(page_url(draft, last, "/move"), to="up")  # already the paper's first: stays
    assert form_pages() == [last.id, first.id]
    desk.post(page_url(draft, last, "/move"), to="down")
    assert form_pages() == [first.id, last.id]
    assert hospital.id in [p.id for p in desk.record(draft).pages]
    assert desk.post(page_url(draft, last, "/move"), to="sideways").status_code == 400


def test_a_page_is_deleted_and_the_rest_close_up(desk: Desk, draft: str) -> None:
    first, hospital, last = desk.record(draft).pages
    desk.post(page_url(draft, first, "/delete"))
    assert [(p.id, p.position) for p in desk.record(draft).pages] == [
        (hospital.id, 1),
        (last.id, 2),
    ]
    assert desk.client.get(page_url(draft, first, ".jpg")).status_code == 404


def test_a_retake_from_an_upload_keeps_the_place(desk: Desk, draft: str, photos: Photos) -> None:
    page = desk.record(draft).pages[1]
    response = desk.client.post(
        page_url(draft, page, "/retake"),
        data={"csrf_token": TOKEN, "photo": (io.BytesIO(photos.paper_jpeg), "moi.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    retaken = desk.record(draft).pages[1]
    assert (retaken.id, retaken.position) == (page.id, page.position)
    assert retaken.cut is not None and page.cut is not None
    assert retaken.cut.source_sha256 != page.cut.source_sha256


def test_a_bad_retake_is_explained_and_the_page_kept(desk: Desk, draft: str) -> None:
    page = desk.record(draft).pages[1]
    pdf = (io.BytesIO(b"%PDF-1.4\n" + b"x" * 100), "scan.jpg")
    response = desk.client.post(
        page_url(draft, page, "/retake"),
        data={"csrf_token": TOKEN, "photo": pdf},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Tệp này là tài liệu PDF" in text(response)
    assert desk.record(draft).pages[1] == page
    empty = desk.post(page_url(draft, page, "/retake"), follow_redirects=True)
    assert "Chưa chọn ảnh nào" in text(empty)


def test_a_retake_from_the_camera(desk: Desk, draft: str, photos: Photos) -> None:
    page = desk.record(draft).pages[0]
    assert desk.post(page_url(draft, page, "/retake"), camera="1").status_code == 303
    retaken = desk.record(draft).pages[0]
    assert retaken.id == page.id and retaken.sha256 != page.sha256


def test_the_corners_page_works_with_and_without_script(desk: Desk, draft: str) -> None:
    page = desk.record(draft).pages[0]
    html = desk.page(page_url(draft, page, "/corners"))
    assert page_url(draft, page, "/source.jpg") in html and "corners.js" in html
    for name in ("x0", "y0", "x1", "y1", "x2", "y2", "x3", "y3"):
        assert f'name="{name}"' in html
    assert page.cut is not None and page.cut.corners is not None
    x0 = re.search(r'name="x0" value="(\d+)"', html)
    assert x0 is not None and int(x0.group(1)) == round(page.cut.corners[0][0])


def test_new_corners_cut_the_page_again(desk: Desk, draft: str) -> None:
    page = desk.record(draft).pages[0]
    # Any order will do: the corners are put in TL, TR, BR, BL order.
    corners = {"x0": 900, "y0": 700, "x1": 300, "y1": 200, "x2": 900, "y2": 200, "x3": 300}
    response = desk.post(page_url(draft, page, "/corners"), **corners, y3=700)
    assert response.status_code == 303
    cut = desk.record(draft).pages[0]
    assert cut.cut is not None
    assert cut.cut.corners == ((300.0, 200.0), (900.0, 200.0), (900.0, 700.0), (300.0, 700.0))
    assert cut.sha256 != page.sha256 and cut.id == page.id


def test_the_whole_photo_can_be_used(desk: Desk, draft: str) -> None:
    page = desk.record(draft).pages[0]
    names = ("x0", "y0", "x1", "y1", "x2", "y2", "x3", "y3")
    whole = dict(zip(names, (0, 0, 1199, 0, 1199, 899, 0, 899), strict=True))
    assert desk.post(page_url(draft, page, "/corners"), **whole).status_code == 303
    cut = desk.record(draft).pages[0].cut
    assert cut is not None and cut.corners == page_edit.whole_photo(1200, 900)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"x0": "a"}, "Tọa độ các góc phải là số"),
        ({"x0": 10, "y0": 10, "x1": 20, "y1": 20, "x2": 30, "y2": 30, "x3": 40}, "Bốn góc không"),
    ],
)
def test_corners_that_make_no_page_are_refused(
    desk: Desk, draft: str, fields: dict[str, object], message: str
) -> None:
    page = desk.record(draft).pages[0]
    sent = {"y3": 40, **fields}
    response = desk.post(page_url(draft, page, "/corners"), **sent, follow_redirects=True)
    assert message in text(response)
    assert desk.record(draft).pages[0] == page


def test_another_dossiers_page_is_not_found(desk: Desk, draft: str) -> None:
    other = desk.new_dossier()
    page = desk.record(draft).pages[0]
    assert desk.client.get(page_url(other, page, ".jpg")).status_code == 404
    assert desk.post(page_url(other, page, "/delete")).status_code == 404
    assert len(desk.record(draft).pages) == 3


def test_a_blueprint_decides_whose_drafts_it_may_touch(services: Services, photos: Photos) -> None:
    bp = Blueprint("elsewhere", __name__, url_prefix="/elsewhere")
    page_edit.register(
        bp,
        prefix="/x/<uuid>",
        allowed=lambda uuid: False,
        back=lambda uuid: "/",
        corners_template="station/corners.html",
    )
    app = create_app(services.settings, services)
    app.register_blueprint(bp)
    desk = Desk(app, services)
    desk.camera(photos.papers)
    url = desk.new_dossier()
    desk.post(url + "/capture", paper=FORM)
    page = desk.record(url).pages[0]
    uuid = url.rsplit("/", 1)[1]
    assert desk.client.get(f"/elsewhere/x/{uuid}/page/{page.id}.jpg").status_code == 404
    assert desk.post(f"/elsewhere/x/{uuid}/page/{page.id}/delete").status_code == 404
    assert desk.record(url).pages == (page,)
    with pytest.raises(ValueError, match="<uuid>"):
        page_edit.register(
            bp, prefix="/x", allowed=bool, back=str, corners_template="station/corners.html"
        )
