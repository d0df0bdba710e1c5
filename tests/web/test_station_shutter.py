"""The shutter button on gpiozero's MockFactory: each press photographs the armed paper."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from appliance import config
from appliance.capture.camera import FolderCamera
from appliance.hardware.fakes import press
from appliance.services import Services, build
from tests.conftest import write_settings
from tests.web.conftest import text
from tests.web.test_station import FORM, HOSPITAL, Desk, Photos, photos, station
from web import create_app
from web.station_shutter import NOTHING_ARMED, armed_shutter

__all__ = ["photos", "station"]  # fixtures shared with test_station.py

PIN = 17
WAIT_S = 10.0  # a press is handled on gpiozero's thread; processing a page takes a moment


@pytest.fixture
def box(tmp_path: Path, photos: Photos) -> Iterator[Services]:
    extra = f'\n[gpio]\npin_factory = "mock"\nshutter_pin = {PIN}\n'
    built = build(config.load(write_settings(tmp_path, extra), environ={}))
    built.camera = FolderCamera(photos.papers)
    yield built
    built.close()


@pytest.fixture
def app(box: Services) -> Flask:
    made = create_app(box.settings, box)
    made.testing = True
    return made


def press_and_wait(app: Flask, box: Services, presses: int) -> None:
    press(box.pin_factory, PIN)
    with app.app_context():
        assert armed_shutter().wait_for(presses, WAIT_S)


def test_a_press_adds_a_page_to_the_paper_last_photographed(app: Flask, box: Services) -> None:
    desk = Desk(app, box)
    url = desk.new_dossier()
    desk.post(url + "/capture", paper=HOSPITAL)
    html = desk.page(url)
    assert "Nút chụp trên hộp đang chụp cho:" in html and f"<strong>{HOSPITAL}</strong>" in html
    before = desk.client.get(url + "/version").get_json()

    press_and_wait(app, box, 1)

    assert [p.paper_name for p in desk.record(url).pages] == [HOSPITAL, HOSPITAL]
    after = desk.client.get(url + "/version").get_json()
    assert (after["pages"], after["presses"]) == (before["pages"] + 1, before["presses"] + 1)


def test_choosing_a_paper_for_the_button_moves_it_there(app: Flask, box: Services) -> None:
    desk = Desk(app, box)
    url = desk.new_dossier()
    desk.post(url + "/capture", paper=HOSPITAL)
    assert desk.post(url + "/arm", paper=FORM).status_code == 303
    press_and_wait(app, box, 1)
    assert [p.paper_name for p in desk.record(url).pages] == [HOSPITAL, FORM]


def test_a_press_with_nothing_armed_is_explained_on_the_page(app: Flask, box: Services) -> None:
    desk = Desk(app, box)
    url = desk.new_dossier()
    press_and_wait(app, box, 1)
    assert desk.record(url).pages == ()
    assert NOTHING_ARMED in text(desk.client.get(url))


def test_a_discarded_dossier_no_longer_takes_presses(app: Flask, box: Services) -> None:
    desk = Desk(app, box)
    url = desk.new_dossier()
    desk.post(url + "/capture", paper=HOSPITAL)
    desk.post(url + "/discard")
    press_and_wait(app, box, 1)
    with app.app_context():
        assert armed_shutter().target() is None


def test_without_a_button_the_page_does_not_mention_it(
    station: Flask, services: Services, photos: Photos
) -> None:
    desk = Desk(station, services)
    url = desk.new_dossier()
    desk.post(url + "/capture", paper=HOSPITAL)
    html = desk.page(url)
    assert "Nút chụp trên hộp" not in html and "station.js" in html
