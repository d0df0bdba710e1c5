"""The technician's diagnostics page: the checks on request, the camera's test capture, the
virtual LED panel (mirrored from panel.json, or computed while the panel daemon is down) and the
support bundle."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from appliance.capture.camera import FolderCamera
from appliance.config import Settings
from appliance.doctor.run import NAMES
from appliance.liveness import write_beat
from appliance.services import Services
from tests.appliance.relay.helpers import APPLICANT, PHONE, queue_dossier
from tests.web.conftest import text
from tests.web.test_auth import csrf_token_of
from tests.web.test_camera import logged_in
from web import create_app

PAGE = "/tech/chan-doan/"


def now() -> datetime:
    return datetime.now(UTC)


def test_only_a_technician_gets_in(app: Flask, client: FlaskClient, services: Services) -> None:
    for path in (PAGE, PAGE + "den", PAGE + "goi-ho-tro.zip", PAGE + "anh-thu.jpg"):
        assert client.get(path).status_code in (302, 303), path
        assert logged_in(app, services, "volunteer").get(path).status_code == 403, path


def test_the_other_technician_pages_link_here(technician: FlaskClient) -> None:
    for path in ("/tech/posters", "/tech/outbox", "/tech/sms/"):
        assert 'href="/tech/chan-doan/"' in text(technician.get(path)), path


def test_checks_run_on_request_and_show(technician: FlaskClient) -> None:
    html = text(technician.get(PAGE))
    assert "Chưa kiểm tra lần nào" in html and 'id="ket-qua"' not in html
    response = technician.post(
        PAGE + "kiem-tra", data={"csrf_token": csrf_token_of(technician, PAGE)}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
    html = text(technician.get(PAGE))
    found = re.findall(r"<code>(\w+)</code>", html.split('id="ket-qua"')[1])
    assert found == list(NAMES)
    assert "✗ Không đạt" in html and "web, relay, panel không chạy" in html


def test_a_check_run_needs_the_forms_token(technician: FlaskClient) -> None:
    assert technician.post(PAGE + "kiem-tra").status_code in (400, 403)


def test_without_the_panel_daemon_the_panel_is_computed(
    technician: FlaskClient, services: Services
) -> None:
    queue_dossier(services, "a", now())
    html = text(technician.get(PAGE))
    assert "The panel daemon is not running: computed here" in html
    leds = dict(re.findall(r'class="led led-(\w+) led-\w+"[^>]*data-pattern="(\w+)"', html))
    assert leds == {"green": "on", "blue": "off", "amber": "on", "red": "off"}
    assert "The relay to the commune is not running" in html


def test_the_panel_mirrors_the_panel_daemon(technician: FlaskClient, settings: Settings) -> None:
    leds = {"green": "slow", "blue": "on", "amber": "fast", "red": "on"}
    reason = "Thẻ nhớ sắp đầy / The SD card is almost full"
    write_beat(settings.runtime_dir / "panel.json", {"leds": leds, "reasons": [reason]}, now())
    html = text(technician.get(PAGE + "den"))
    assert "Mirroring the box's LEDs" in html
    shown = dict(re.findall(r'class="led led-(\w+) led-\w+"[^>]*data-pattern="(\w+)"', html))
    assert shown == leds and reason in html
    assert re.search(r'<meta http-equiv="refresh" content="\d"', html)
    css = re.search(r'href="(/static/diagnostics\.css[^"]*)"', html)
    assert css is not None
    sheet = technician.get(css[1].replace("&amp;", "&")).get_data(as_text=True)
    assert "@keyframes" in sheet and ".led-fast" in sheet and ".led-slow" in sheet


@pytest.fixture
def with_camera(settings: Settings, services: Services, tmp_path: Path) -> Iterator[FlaskClient]:
    folder = tmp_path / "shots"
    folder.mkdir()
    Image.new("RGB", (1600, 1200), (30, 30, 220)).save(folder / "1.png")
    services.camera = FolderCamera(folder)
    app = create_app(settings, services)
    app.testing = True
    yield logged_in(app, services, "technician")
    services.camera = None


def test_the_web_takes_the_test_capture_with_its_own_camera(with_camera: FlaskClient) -> None:
    html = text(with_camera.get(PAGE))
    assert 'src="/tech/chan-doan/anh-thu.jpg"' in html
    response = with_camera.get(PAGE + "anh-thu.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(response.get_data())) as image:
        assert image.size == (480, 360)
    with_camera.post(PAGE + "kiem-tra", data={"csrf_token": csrf_token_of(with_camera, PAGE)})
    assert "test capture 1600×1200" in text(with_camera.get(PAGE))


def test_without_a_camera_there_is_no_test_capture(technician: FlaskClient) -> None:
    assert "anh-thu.jpg" not in text(technician.get(PAGE))
    response = technician.get(PAGE + "anh-thu.jpg")
    assert response.status_code == 503 and "No camera" in response.get_data(as_text=True)


def test_the_support_bundle_downloads_without_personal_data(
    technician: FlaskClient, services: Services
) -> None:
    queue_dossier(services, "a", now())
    response = technician.get(PAGE + "goi-ho-tro.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as bundle:
        names = bundle.namelist()
        everything = "\n".join(bundle.read(name).decode("utf-8") for name in names)
    assert {"doctor.json", "store.json", "settings.json", "version.txt"} <= set(names)
    assert '"queued": 1' in everything
    for personal in (APPLICANT.full_name, APPLICANT.id_number or "", PHONE):
        assert personal not in everything
