"""The station camera: the folder stand-in, the picamera2 backend over a fake module, and the
choice between them."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy
import pytest
from PIL import Image

from appliance import config
from appliance.capture import camera as camera_module
from appliance.capture.camera import (
    CameraError,
    FolderCamera,
    PiCamera,
    open_camera,
    preview_size,
)
from tests.conftest import write_settings

COLOURS = {"a.jpg": (200, 0, 0), "b.png": (0, 200, 0), "c.JPEG": (0, 0, 200)}


def make_folder(folder: Path, size: tuple[int, int] = (1200, 900)) -> Path:
    folder.mkdir(exist_ok=True)
    for name, colour in COLOURS.items():
        kind = "PNG" if name.endswith("png") else "JPEG"
        Image.new("RGB", size, colour).save(folder / name, format=kind)
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")
    return folder


def dominant(frame: numpy.ndarray) -> int:
    """Which channel (0 red, 1 green, 2 blue) a flat test picture is made of."""
    return int(numpy.argmax(frame.reshape(-1, 3).mean(axis=0)))


def test_folder_camera_serves_images_in_name_order_and_wraps(tmp_path: Path) -> None:
    camera = FolderCamera(make_folder(tmp_path / "shots"))
    shots = [camera.capture() for _ in range(4)]
    assert [dominant(s) for s in shots] == [0, 1, 2, 0]
    assert shots[0].shape == (900, 1200, 3)
    assert shots[0].dtype == numpy.uint8


def test_folder_preview_is_the_next_capture_small(tmp_path: Path) -> None:
    camera = FolderCamera(make_folder(tmp_path / "shots"))
    preview = camera.preview()
    assert preview.shape == (480, 640, 3)
    assert dominant(preview) == 0
    assert dominant(camera.capture()) == 0
    assert dominant(camera.preview()) == 1


def test_empty_or_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CameraError, match=r"không có ảnh JPEG hay PNG nào / .* no JPEG or PNG"):
        FolderCamera(empty)
    with pytest.raises(CameraError, match="Không mở được thư mục ảnh"):
        FolderCamera(tmp_path / "missing")


def test_folder_emptied_while_running(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "shots")
    camera = FolderCamera(folder)
    for name in COLOURS:
        (folder / name).unlink()
    with pytest.raises(CameraError, match="no JPEG or PNG images"):
        camera.capture()


def test_broken_sample_image_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    (folder / "bad.jpg").write_bytes(b"%PDF-1.4 not a photo")
    with pytest.raises(CameraError, match=r"bad\.jpg: Tệp này là tài liệu PDF"):
        FolderCamera(folder).capture()


class FakePicamera2:
    """Just enough of picamera2.Picamera2 to record what the backend asks of it."""

    instances: list[FakePicamera2] = []  # noqa: RUF012 - the test reads what was built
    sensor_resolution = (4608, 2592)

    def __init__(self, camera_num: int = 0) -> None:
        self.calls: list[tuple[str, Any]] = [("open", camera_num)]
        self.config: dict[str, Any] | None = None
        FakePicamera2.instances.append(self)

    def create_still_configuration(self, main: dict[str, Any]) -> dict[str, Any]:
        return {"use": "still", "main": main}

    def create_preview_configuration(self, main: dict[str, Any]) -> dict[str, Any]:
        return {"use": "preview", "main": main}

    def configure(self, config: dict[str, Any]) -> None:
        self.calls.append(("configure", config))
        self.config = config

    def start(self) -> None:
        self.calls.append(("start", None))

    def _frame(self, config: dict[str, Any]) -> numpy.ndarray:
        width, height = config["main"]["size"]
        frame = numpy.zeros((height, width, 3), dtype=numpy.uint8)
        frame[..., 0] = 255  # "RGB888" is B, G, R in memory: this picture is blue
        return frame

    def capture_array(self, name: str = "main") -> numpy.ndarray:
        self.calls.append(("capture_array", name))
        assert self.config is not None
        return self._frame(self.config)

    def switch_mode_and_capture_array(self, config: dict[str, Any], name: str) -> numpy.ndarray:
        self.calls.append(("switch_mode_and_capture_array", (config["use"], name)))
        return self._frame(config)

    def stop(self) -> None:
        self.calls.append(("stop", None))

    def close(self) -> None:
        self.calls.append(("close", None))


@pytest.fixture
def fake_picamera2(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakePicamera2]]:
    module = types.ModuleType("picamera2")
    module.Picamera2 = FakePicamera2  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picamera2", module)
    FakePicamera2.instances = []
    yield FakePicamera2


def test_modules_import_without_picamera2_numpy_or_pillow() -> None:
    """The web process starts light: nothing heavy loads until a camera is opened."""
    code = (
        "import sys, appliance.services, appliance.capture.camera, appliance.capture.images\n"
        "heavy = {'picamera2', 'numpy', 'PIL', 'cv2'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_picamera_previews_small_and_captures_full_resolution_in_rgb(
    fake_picamera2: type[FakePicamera2],
) -> None:
    camera = PiCamera()
    (fake,) = fake_picamera2.instances
    assert fake.calls[:3] == [
        ("open", 0),
        ("configure", {"use": "preview", "main": {"size": (640, 360), "format": "RGB888"}}),
        ("start", None),
    ]

    preview = camera.preview()
    assert preview.shape == (360, 640, 3)
    assert preview[0, 0].tolist() == [0, 0, 255]  # blue stays blue

    still = camera.capture()
    assert still.shape == (2592, 4608, 3)
    assert still[0, 0].tolist() == [0, 0, 255]
    assert still.flags["C_CONTIGUOUS"]
    assert fake.calls[3:] == [
        ("capture_array", "main"),
        ("switch_mode_and_capture_array", ("still", "main")),
    ]

    camera.close()
    camera.close()
    assert fake.calls[-2:] == [("stop", None), ("close", None)]
    with pytest.raises(CameraError, match="đã tắt"):
        camera.capture()


def test_picamera_is_used_under_its_lock(fake_picamera2: type[FakePicamera2]) -> None:
    """waitress's threads and the shutter's thread never talk to picamera2 at the same time."""
    camera = PiCamera()
    (fake,) = fake_picamera2.instances
    held: list[bool] = []
    preview, still = fake.capture_array, fake.switch_mode_and_capture_array

    def guarded_preview(name: str = "main") -> numpy.ndarray:
        held.append(camera._lock.locked())
        return preview(name)

    def guarded_still(config: dict[str, Any], name: str) -> numpy.ndarray:
        held.append(camera._lock.locked())
        return still(config, name)

    fake.capture_array = guarded_preview  # type: ignore[method-assign]
    fake.switch_mode_and_capture_array = guarded_still  # type: ignore[method-assign]
    threads = [threading.Thread(target=camera.preview) for _ in range(4)]
    threads.append(threading.Thread(target=camera.capture))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert held == [True] * 5


def test_picamera_that_fails_to_start_is_closed(
    fake_picamera2: type[FakePicamera2], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: FakePicamera2) -> None:
        raise RuntimeError("Failed to start camera: Device or resource busy")

    monkeypatch.setattr(FakePicamera2, "start", broken)
    with pytest.raises(RuntimeError, match="busy"):
        PiCamera()
    assert fake_picamera2.instances[0].calls[-1] == ("close", None)


def test_preview_size_follows_the_sensor_shape() -> None:
    assert preview_size((4608, 2592)) == (640, 360)  # Camera Module 3, 16:9
    assert preview_size((4056, 3040)) == (640, 478)  # HQ camera, 4:3
    assert preview_size((320, 240)) == (320, 240)


def settings_with(tmp_path: Path, extra: str) -> config.Settings:
    return config.load(write_settings(tmp_path, extra), environ={})


def test_open_camera_follows_the_settings(
    tmp_path: Path, fake_picamera2: type[FakePicamera2]
) -> None:
    assert open_camera(settings_with(tmp_path, "")) is None
    folder = make_folder(tmp_path / "shots")
    chosen = open_camera(
        settings_with(tmp_path, f'[camera]\nbackend = "folder"\nfolder = "{folder}"\n')
    )
    assert isinstance(chosen, FolderCamera)
    pi = open_camera(settings_with(tmp_path, '[camera]\nbackend = "picamera2"\n'))
    assert isinstance(pi, PiCamera)
    pi.close()


def test_camera_that_will_not_open_is_logged_and_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # not installed: import fails
    caplog.set_level(logging.WARNING, logger=camera_module.log.name)
    assert open_camera(settings_with(tmp_path, '[camera]\nbackend = "picamera2"\n')) is None
    assert "cannot import picamera2" in caplog.text
    assert "hộp vẫn chạy tiếp" in caplog.text

    empty = tmp_path / "empty"
    empty.mkdir()
    extra = f'[camera]\nbackend = "folder"\nfolder = "{empty}"\n'
    assert open_camera(settings_with(tmp_path, extra)) is None
    assert "no JPEG or PNG images" in caplog.text
