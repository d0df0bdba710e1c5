"""The receipt page and its A5 PDF: for the phone that filed the dossier, and nobody else."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time

import segno
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Settings
from appliance.domain.dossier import new_receipt_code
from appliance.receipts import lookup_url
from appliance.services import Services
from tests.web.conftest import parse, text
from tests.web.test_auth import add_user
from tests.web.test_selfservice import file_dossier
from web import auth
from web.ownership import RECEIPTS


def test_the_receipt_shows_the_code_its_qr_and_what_comes_next(
    phone: FlaskClient, settings: Settings
) -> None:
    _, code = file_dossier(phone)
    response = phone.get(f"/bien-nhan/{code}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = text(response)
    assert re.search(rf'<p class="code" id="receipt-code">{code}</p>', html)
    assert "tin nhắn SMS" in html and "Mang bản chính các giấy tờ này" in html
    assert "Giấy chứng sinh (bệnh viện hoặc trạm y tế cấp)" in html
    assert "http://10.42.0.1/tra-cuu" in html and "HamletBox-XaBang1" in html
    urls = parse(html).urls
    assert f"/bien-nhan/{code}.pdf" in urls and f"/tra-cuu?ma={code}" in urls
    assert all(not url.startswith(("http:", "https:", "//")) for url in urls)
    assert "<script" not in html and "<img" not in html


def test_the_qr_is_inline_svg_of_the_status_address(phone: FlaskClient, settings: Settings) -> None:
    _, code = file_dossier(phone)
    html = text(phone.get(f"/bien-nhan/{code}"))
    drawn = re.search(r'<svg viewBox="[^"]+" class="segno">.*?</svg>', html, re.S)
    assert drawn
    expected = segno.make(lookup_url(settings, code), error="m").svg_inline(omitsize=True)
    path = re.search(r' d="([^"]+)"', expected)
    assert path and f'd="{path.group(1)}"' in drawn.group(0)
    assert lookup_url(settings, code) == f"http://10.42.0.1/tra-cuu?ma={code}"


def test_the_pdf_receipt_is_a5(phone: FlaskClient) -> None:
    _, code = file_dossier(phone)
    response = phone.get(f"/bien-nhan/{code}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == f'attachment; filename="bien-nhan-{code}.pdf"'
    info = subprocess.run(
        ["pdfinfo", "-"], input=response.data, capture_output=True, check=True
    ).stdout.decode()
    assert re.search(r"Page size:\s+419\.53 x 595\.28 pts", info), info  # A5, 148 × 210 mm
    assert re.search(r"Pages:\s+1\n", info)


def test_the_pdf_follows_the_page_language(phone: FlaskClient) -> None:
    _, code = file_dossier(phone)
    words = {}
    for lang in ("vi", "en"):
        pdf = phone.get(f"/bien-nhan/{code}.pdf?lang={lang}").data
        done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
        words[lang] = done.stdout.decode()
    assert "GIẤY BIÊN NHẬN HỒ SƠ" in words["vi"] and "DOSSIER RECEIPT" in words["en"]


def test_nobody_else_can_tell_that_a_code_exists(app: Flask, phone: FlaskClient) -> None:
    _, code = file_dossier(phone)
    unknown = new_receipt_code("HB", random.Random(9))
    stranger = app.test_client()
    answers = []
    for asked in (code, unknown):
        for path in (f"/bien-nhan/{asked}", f"/bien-nhan/{asked}.pdf"):
            response = stranger.get(path)
            assert response.status_code == 404, path
            answers.append(text(response).replace(asked, "CODE"))
    assert answers[0] == answers[2] and answers[1] == answers[3]
    assert stranger.get("/bien-nhan/not-a-code").status_code == 404


def test_a_lowercase_code_opens_the_same_receipt(phone: FlaskClient) -> None:
    _, code = file_dossier(phone)
    assert phone.get(f"/bien-nhan/{code.lower()}").status_code == 200


def test_the_station_volunteers_session_opens_the_receipt_it_was_sent_to(
    app: Flask, phone: FlaskClient, services: Services
) -> None:
    """The station remembers the code in the volunteer's session before redirecting here."""
    uuid, code = file_dossier(phone)
    add_user(services, "lan", "volunteer")
    volunteer = app.test_client()
    with volunteer.session_transaction() as session:
        session.update({auth.USER: "lan", auth.ROLE: "volunteer", auth.SINCE: int(time.time())})
        session[RECEIPTS] = [[code, uuid]]
    assert volunteer.get(f"/bien-nhan/{code}").status_code == 200
    assert volunteer.get(f"/bien-nhan/{code}.pdf").data.startswith(b"%PDF")


def test_the_web_process_loads_segno_only_for_a_receipt() -> None:
    code = "import sys, web, web.receipt; print('segno' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert done.stdout.strip() == b"False"
