"""The station's buzzer: one short beep when an ID card is read, none when the frame holds no card
(the buzzer is gpiozero's Buzzer on a MockFactory pin; its timeline is what a volunteer hears)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from gpiozero.pins.mock import MockFactory

from appliance.hardware.gpio import GpioBuzzer
from appliance.services import Services
from tests.appliance.relay.helpers import wait_for
from tests.support.leds import changes
from tests.web.test_station import Desk, Photos, photos, station  # noqa: F401  (fixtures)

BUZZER_PIN = 12


@dataclass
class Stand:
    desk: Desk
    photos: Photos
    services: Services


@pytest.fixture
def stand(station: Flask, services: Services, photos: Photos) -> Stand:  # noqa: F811
    return Stand(Desk(station, services), photos, services)


@pytest.fixture
def buzzer_pin(services: Services) -> Iterator[Any]:
    factory = MockFactory()
    services.buzzer = GpioBuzzer(BUZZER_PIN, factory)
    yield factory.pin(BUZZER_PIN)
    services.buzzer.close()
    services.buzzer = None
    factory.close()


def test_reading_an_id_card_beeps_once(stand: Stand, buzzer_pin: Any) -> None:
    url = stand.desk.new_dossier()
    stand.desk.camera(stand.photos.card)
    assert stand.desk.post(url + "/scan").status_code == 303
    wait_for(lambda: len(buzzer_pin.states) >= 3, 2.0)
    assert changes(buzzer_pin) == [False, True, False]


def test_a_frame_without_a_card_does_not_beep(stand: Stand, buzzer_pin: Any) -> None:
    url = stand.desk.new_dossier()
    stand.desk.camera(stand.photos.papers)
    assert stand.desk.post(url + "/scan").status_code == 422
    assert changes(buzzer_pin) == [False]


def test_without_a_buzzer_the_card_is_read_all_the_same(stand: Stand) -> None:
    assert stand.services.buzzer is None
    url = stand.desk.new_dossier()
    stand.desk.camera(stand.photos.card)
    assert stand.desk.post(url + "/scan").status_code == 303
    assert stand.desk.record(url).applicant is not None
