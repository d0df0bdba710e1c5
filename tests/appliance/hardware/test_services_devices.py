"""services.build picks the station's devices from settings, and a device that fails to come up
never stops the box from serving."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy
import pytest
from gpiozero import Button
from gpiozero.pins.mock import MockFactory
from PIL import Image

from appliance import config, services
from appliance.capture.camera import FolderCamera
from appliance.hardware.fakes import press
from appliance.services import Services, build
from tests.appliance.relay.helpers import wait_for
from tests.conftest import write_settings

PIN = 17


def settings_with(tmp_path: Path, extra: str) -> config.Settings:
    return config.load(write_settings(tmp_path, extra), environ={})


@contextmanager
def built(tmp_path: Path, extra: str, *, devices: bool = True) -> Iterator[Services]:
    made = build(settings_with(tmp_path, extra), devices=devices)
    try:
        yield made
    finally:
        made.close()


def sample_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "shots"
    folder.mkdir()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(folder / "page.jpg", quality=95)
    return folder


def test_defaults_have_no_devices_but_a_blob_store(services: Services) -> None:
    assert services.camera is None
    assert services.shutter is None
    assert services.pin_factory is None
    assert services.blobs.root == services.settings.data_dir / "blobs"
    sha = services.blobs.put(b"page")
    assert services.blobs.read(sha) == b"page"


def test_folder_camera_and_mock_shutter(tmp_path: Path) -> None:
    extra = (
        f'[camera]\nbackend = "folder"\nfolder = "{sample_folder(tmp_path)}"\n'
        f'[gpio]\npin_factory = "mock"\nshutter_pin = {PIN}\n'
    )
    with built(tmp_path, extra) as box:
        assert isinstance(box.camera, FolderCamera)
        assert box.camera.capture().shape == (48, 64, 3)
        assert isinstance(box.pin_factory, MockFactory)
        assert box.shutter is not None
        shots: list[numpy.ndarray] = []
        taken = threading.Event()
        camera = box.camera

        def shoot() -> None:
            shots.append(camera.capture())
            taken.set()

        box.shutter.when_pressed(shoot)
        press(box.pin_factory, PIN)
        assert taken.wait(2.0)
        assert shots[0].shape == (48, 64, 3)


def test_close_lets_go_of_the_shutter(tmp_path: Path) -> None:
    box = build(settings_with(tmp_path, f"[gpio]\nshutter_pin = {PIN}\n"))
    assert box.shutter is not None
    assert isinstance(box.pin_factory, MockFactory)
    pressed = threading.Event()
    box.shutter.when_pressed(pressed.set)
    pin = box.pin_factory.pin(PIN)
    box.close()
    pin.drive_low()
    assert not pressed.is_set()


def test_devices_false_opens_nothing(tmp_path: Path) -> None:
    extra = (
        f'[camera]\nbackend = "folder"\nfolder = "{sample_folder(tmp_path)}"\n'
        f"[gpio]\nshutter_pin = {PIN}\n"
    )
    with built(tmp_path, extra, devices=False) as box:
        assert box.camera is None
        assert box.shutter is None


def test_missing_camera_and_busy_pin_are_logged_and_the_box_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # not a Pi
    taken = MockFactory()
    holder = Button(PIN, pin_factory=taken)  # another program already holds the pin
    monkeypatch.setattr(services, "pin_factory", lambda name: taken)
    caplog.set_level(logging.WARNING)
    extra = f'[camera]\nbackend = "picamera2"\n[gpio]\nshutter_pin = {PIN}\n'
    try:
        with built(tmp_path, extra) as box:
            assert box.camera is None
            assert box.shutter is None
            assert box.catalog.current().procedures  # residents are still served
    finally:
        holder.close()
        taken.close()
    assert "camera picamera2 did not open" in caplog.text
    assert f"shutter button on GPIO {PIN} did not open" in caplog.text


def test_buzzer_opens_beeps_and_closes(tmp_path: Path) -> None:
    box = build(settings_with(tmp_path, f"[gpio]\nshutter_pin = {PIN}\nbuzzer_pin = 12\n"))
    assert box.buzzer is not None and box.shutter is not None
    assert isinstance(box.pin_factory, MockFactory)
    pin = box.pin_factory.pin(12)
    box.buzzer.beep()
    wait_for(lambda: [state.state for state in pin.states] == [False, True, False], 2.0)
    box.close()
    Button(12, pin_factory=box.pin_factory).close()  # the buzzer let go of its pin


def test_no_buzzer_pin_no_buzzer(services: Services) -> None:
    assert services.buzzer is None


def test_a_pin_named_twice_leaves_the_shutter_out_and_the_box_serves(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    extra = f"[gpio]\nshutter_pin = {PIN}\ngreen_pin = {PIN}\nbuzzer_pin = 12\n"
    with built(tmp_path, extra) as box:
        assert box.shutter is None
        assert box.buzzer is not None  # its pin is its own
        assert box.catalog.current().procedures
    assert "shutter button left out" in caplog.text
    assert f"GPIO {PIN}" in caplog.text and "gpio.green_pin" in caplog.text
