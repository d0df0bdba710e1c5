"""The officer's inbox: dossiers by hamlet and status, a dossier's page, its page images and PDF.

Dossiers arrive as a box delivers them, through the signed device API. `file_dossier`, `plain`
and `rows` are shared with the tests of the officer's decisions.
"""

from __future__ import annotations

import hashlib
import html
import io
import random
import re
import subprocess
import uuid as uuids
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from appliance.domain.dossier import new_receipt_code
from tests.support.upstream_server import EnrolledDevice, FakeClock, Signer, enroll, make_token
from tests.upstream.test_officers import officer_client, sessions_of
from upstream import inbox_store
from upstream.inbox_store import Decision

PROCEDURE = "1.001193"  # birth registration
FORM, BIRTH, ID_CARD, MARRIAGE = (
    "Tờ khai đăng ký khai sinh (theo mẫu)",
    "Giấy chứng sinh (bệnh viện hoặc trạm y tế cấp)",
    "Căn cước (CCCD) của cha hoặc mẹ",
    "Giấy chứng nhận kết hôn của cha mẹ (nếu có)",
)
APPLICANT = {
    "full_name": "Nguyễn Thị Hoa",
    "phone": "0912345678",
    "id_number": "079190001234",
    "date_of_birth": "1990-05-01",
    "gender": "female",
    "address": "Ấp 3, xã Xà Bang",
}


def text_page(width: int = 240, height: int = 320) -> bytes:
    """A black-and-white page as the box stores text pages: TIFF with CCITT Group 4."""
    image = Image.new("1", (width, height), 1)
    image.paste(0, (20, 20, width - 20, 40))
    out = io.BytesIO()
    image.save(out, "TIFF", compression="group4", dpi=(200, 200))
    return out.getvalue()


def colour_page(width: int = 300, height: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, "JPEG", quality=80)
    return out.getvalue()


def put_blob(signed: Signer, data: bytes, media_type: str) -> str:
    sha = hashlib.sha256(data).hexdigest()
    answer = signed("PUT", f"/v1/blobs/{sha}", data, content_type=media_type)
    assert answer.status_code in (200, 201), answer.text
    return sha


def file_dossier(
    signed: Signer,
    *,
    name: str = "Nguyễn Thị Hoa",
    pages: Sequence[tuple[str, bytes, str]] = (
        (BIRTH, b"", "text"),
        (ID_CARD, b"", "color"),
    ),
    originals: Sequence[str] = (FORM,),
    seed: int = 1,
) -> tuple[str, str]:
    """Deliver a dossier as `signed`'s box would (blobs, then the manifest): (uuid, receipt code).

    A page given with empty bytes gets a fresh text or colour page for its mode.
    """
    listed = []
    for position, (paper, data, mode) in enumerate(pages, 1):
        body = data or (text_page() if mode == "text" else colour_page())
        media = "image/tiff" if body.startswith((b"II", b"MM")) else "image/jpeg"
        sha = put_blob(signed, body, media)
        listed.append({"sha256": sha, "paper": paper, "mode": mode, "position": position})
    uuid = str(uuids.UUID(int=random.Random(seed).getrandbits(128), version=4))
    code = new_receipt_code("XB1", random.Random(seed))
    moment = datetime.fromtimestamp(signed.clock(), UTC).isoformat()
    manifest = {
        "version": 1,
        "uuid": uuid,
        "receipt_code": code,
        "hamlet": signed.device.hamlet,
        "procedure": PROCEDURE,
        "channel": "station",
        "submitted_at": moment,
        "applicant": {**APPLICANT, "full_name": name},
        "pages": listed,
        "originals": list(originals),
        "consent": {"version": "2025-01", "at": moment},
    }
    answer = signed.put_json(f"/v1/dossiers/{uuid}", manifest)
    assert answer.status_code == 201, answer.text
    return uuid, code


def plain(fragment: str) -> str:
    """What a person reads in a piece of HTML: tags gone, entities decoded, spaces collapsed."""
    spaced = re.sub(r"<br>", " ", fragment)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", spaced)).split())


def rows(page: str) -> list[list[str]]:
    """The cells of the page's first table body, row by row."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    assert body, "no table on the page"
    return [
        [plain(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body[1], re.S)
    ]


def counts(page: str, heading: str) -> dict[str, str]:
    """The filter links under a heading ("by-hamlet", "by-status"): text -> its link."""
    block = re.search(rf'<nav aria-labelledby="{heading}">(.*?)</nav>', page, re.S)
    assert block, heading
    links = re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', block[1], re.S)
    return {plain(text): html.unescape(href) for href, text in links}


def box_for(app: Flask, client: FlaskClient, clock: FakeClock, hamlet: str) -> Signer:
    token = make_token(sessions_of(app).sessions, hamlet, now=clock.now)
    device: EnrolledDevice = enroll(client, token, hostname=f"box-{len(hamlet)}")
    return Signer(client, device, clock)


def receive(app: Flask, uuid: str, clock: FakeClock, then: str | None = None) -> None:
    """An officer's decisions made directly in the store, to set a dossier's status up."""
    sessions, now = sessions_of(app).sessions, datetime.fromtimestamp(clock.now, UTC)
    inbox_store.decide(sessions, uuid, "sent", Decision("received", None, now.date()), "x", now)
    if then is not None:
        inbox_store.decide(sessions, uuid, "received", Decision(then, "vì sao"), "x", now)


@pytest.fixture
def officer(upstream_app: Flask, upstream_client: FlaskClient) -> FlaskClient:
    return officer_client(upstream_app, upstream_client)


def test_the_list_counts_by_hamlet_and_status_and_filters(
    upstream_app: Flask, officer: FlaskClient, signed: Signer, clock: FakeClock
) -> None:
    other = box_for(upstream_app, officer, clock, "Thôn Xà Bang 2")
    first, _ = file_dossier(signed, name="Lê Văn An", seed=1)
    clock.advance(60)
    second, _ = file_dossier(signed, name="Trần Thị Bình", seed=2)
    clock.advance(60)
    third, _ = file_dossier(other, name="Phạm Văn Cường", seed=3)
    receive(upstream_app, second, clock)
    page = officer.get("/ho-so").text
    hamlets, statuses = counts(page, "by-hamlet"), counts(page, "by-status")
    assert set(hamlets) == {"Tất cả thôn All 3", "Thôn Xà Bang 1 2", "Thôn Xà Bang 2 1"}
    assert set(statuses) == {
        "Mọi trạng thái All 3",
        "Chờ tiếp nhận Awaiting receipt 2",
        "Đã tiếp nhận Received 1",
    }
    assert [row[1] for row in rows(page)] == ["Phạm Văn Cường", "Trần Thị Bình", "Lê Văn An"]
    # Filtering by hamlet narrows the list and the status counts, not the hamlet counts.
    narrowed = officer.get(hamlets["Thôn Xà Bang 1 2"]).text
    assert [row[1] for row in rows(narrowed)] == ["Trần Thị Bình", "Lê Văn An"]
    assert "Chờ tiếp nhận Awaiting receipt 1" in counts(narrowed, "by-status")
    assert "Thôn Xà Bang 2 1" in counts(narrowed, "by-hamlet")
    received = officer.get(counts(narrowed, "by-status")["Đã tiếp nhận Received 1"]).text
    assert [row[1] for row in rows(received)] == ["Trần Thị Bình"]
    assert third and first


def test_a_list_row_shows_what_the_officer_sorts_by(
    upstream_app: Flask, officer: FlaskClient, signed: Signer, clock: FakeClock
) -> None:
    uuid, code = file_dossier(signed)
    receive(upstream_app, uuid, clock)
    (row,) = rows(officer.get("/ho-so").text)
    assert row == [
        code,
        "Nguyễn Thị Hoa",
        "Đăng ký khai sinh",
        "Thôn Xà Bang 1",
        "09/10/2025 15:53",  # the commune's time, UTC+7
        "Đã tiếp nhận Received",
        "09/10/2025",
    ]


def test_the_list_is_paged(
    officer: FlaskClient, signed: Signer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_store, "PAGE_SIZE", 2)
    for seed in range(5):
        file_dossier(signed, name=f"Người {seed}", seed=seed)
        clock.advance(1)
    first = officer.get("/ho-so").text
    assert [row[1] for row in rows(first)] == ["Người 4", "Người 3"]
    assert "Trang 1 / 3" in first
    last = officer.get("/ho-so?trang=3").text
    assert [row[1] for row in rows(last)] == ["Người 0"]
    assert [row[1] for row in rows(officer.get("/ho-so?trang=abc").text)] == ["Người 4", "Người 3"]


def test_an_empty_inbox_says_so(officer: FlaskClient) -> None:
    page = officer.get("/ho-so?status=done&hamlet=Không+có")
    assert page.status_code == 200 and "Không có hồ sơ nào ở đây" in page.text


def test_the_dossier_page_shows_applicant_procedure_and_checklist(
    officer: FlaskClient, signed: Signer
) -> None:
    uuid, code = file_dossier(
        signed,
        name="Nguyễn Thị <b>Hoa</b>",
        pages=((BIRTH, b"", "text"), (BIRTH, b"", "color")),
        originals=(FORM,),
    )
    page = officer.get(f"/ho-so/{uuid}")
    assert page.status_code == 200
    text = plain(page.text)
    assert code in text
    assert "Nguyễn Thị <b>Hoa</b>" in text and "<b>Hoa" not in page.text  # escaped, shown as typed
    for shown in ("079190001234", "01/05/1990", "Nữ Female", "Ấp 3, xã Xà Bang", "0912345678"):
        assert shown in text
    assert "Đăng ký khai sinh Birth registration · mã / code 1.001193" in text
    checklist = re.findall(r'<ul class="checklist">(.*?)</ul>', page.text, re.S)[0]
    lines = [plain(item) for item in re.findall(r"<li[^>]*>(.*?)</li>", checklist, re.S)]
    assert lines == [
        f"{FORM} Bắt buộc required Bản chính sẽ mang đến The original will be brought",
        f"{BIRTH} Bắt buộc required Đã nhận 2 trang 2 page(s) received: trang 1, trang 2",
        f"{ID_CARD} Bắt buộc required Thiếu Missing",
        f"{MARRIAGE} Không bắt buộc optional Không có Not given",
    ]
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', page.text)
    assert images == [
        (f"/ho-so/{uuid}/trang/1", f"Trang 1: {BIRTH}"),
        (f"/ho-so/{uuid}/trang/2", f"Trang 2: {BIRTH}"),
    ]
    assert f'href="/ho-so/{uuid}.pdf"' in page.text


def test_a_page_for_a_paper_the_catalog_lacks_is_listed_too(
    officer: FlaskClient, signed: Signer
) -> None:
    uuid, _ = file_dossier(
        signed, pages=((BIRTH, b"", "text"), ("Giấy xác nhận cư trú", b"", "text"))
    )
    text = plain(officer.get(f"/ho-so/{uuid}").text)
    assert "Giấy xác nhận cư trú Không bắt buộc optional Đã nhận 1 trang" in text


def test_an_unknown_dossier_is_not_found(officer: FlaskClient) -> None:
    for url in (f"/ho-so/{uuids.uuid4()}", f"/ho-so/{uuids.uuid4()}.pdf", "/ho-so/khong-phai"):
        answer = officer.get(url)
        assert answer.status_code == 404, url


def test_a_text_page_is_shown_as_png_and_a_colour_page_as_it_came(
    officer: FlaskClient, signed: Signer
) -> None:
    tiff, jpeg = text_page(240, 320), colour_page(300, 200)
    uuid, _ = file_dossier(signed, pages=((BIRTH, tiff, "text"), (ID_CARD, jpeg, "color")))
    first = officer.get(f"/ho-so/{uuid}/trang/1")
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert first.headers["Cache-Control"] == "private, max-age=86400"
    with Image.open(io.BytesIO(first.data)) as image:
        assert image.format == "PNG" and image.size == (240, 320)
    second = officer.get(f"/ho-so/{uuid}/trang/2")
    assert second.mimetype == "image/jpeg" and second.data == jpeg
    again = officer.get(f"/ho-so/{uuid}/trang/1", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert officer.get(f"/ho-so/{uuid}/trang/3").status_code == 404


def test_the_pdf_has_every_page_in_order(
    officer: FlaskClient, signed: Signer, tmp_path: Path
) -> None:
    pages = ((BIRTH, text_page(240, 320), "text"), (ID_CARD, colour_page(300, 200), "color"))
    uuid, code = file_dossier(signed, pages=pages)
    answer = officer.get(f"/ho-so/{uuid}.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="ho-so-{code}.pdf"'
    path = tmp_path / "ho-so.pdf"
    path.write_bytes(answer.data)
    info = _pdfinfo(path)
    assert info["Pages"] == "2"
    sizes = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "2", str(path)], capture_output=True, text=True, check=True
    ).stdout
    portrait, landscape = re.findall(r"Page +\d size: +([\d.]+) x ([\d.]+)", sizes)
    assert float(portrait[0]) < float(portrait[1]) and float(landscape[0]) > float(landscape[1])


def _pdfinfo(path: Path) -> dict[str, Any]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return {
        k.strip(): v.strip()
        for k, _, v in (line.partition(":") for line in out.stdout.splitlines())
    }


def test_a_damaged_page_is_reported_not_crashed_on(officer: FlaskClient, signed: Signer) -> None:
    uuid, _ = file_dossier(signed, pages=((BIRTH, b"\xff\xd8 not really a photo", "color"),))
    for url in (f"/ho-so/{uuid}/trang/1", f"/ho-so/{uuid}.pdf"):
        answer = officer.get(url)
        assert answer.status_code == 422, url
        assert "Không mở được trang / The page cannot be opened" in answer.text
