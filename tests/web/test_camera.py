"""The station camera's preview: logged-in volunteers only, one frame or a bounded live stream."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import numpy
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from appliance.accounts import hash_password
from appliance.capture.camera import CameraError, FolderCamera
from appliance.config import Settings
from appliance.services import Services
from appliance.store.users import UserRepo
from web import auth, create_app
from web import camera as camera_view
from web.camera import BOUNDARY, capture_still, mjpeg_parts
from web.context import services as current_services

PREVIEW = "/station/camera/preview.jpg"
STREAM = "/station/camera/stream.mjpg"


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = tmp_path / "shots"
    folder.mkdir()
    Image.new("RGB", (1600, 1200), (220, 30, 30)).save(folder / "1.jpg")
    Image.new("RGB", (1600, 1200), (30, 30, 220)).save(folder / "2.png")
    return folder


@pytest.fixture
def station(settings: Settings, services: Services, shots: Path) -> Iterator[Flask]:
    services.camera = FolderCamera(shots)
    app = create_app(settings, services)
    app.testing = True
    yield app
    services.camera = None


def logged_in(app: Flask, services: Services, role: str = "volunteer") -> FlaskClient:
    """A client whose session holds an account, as web.auth stores it after a login."""
    name = f"{role}-1"
    if UserRepo(services.sessions).get(name) is None:
        UserRepo(services.sessions).add(name, role, hash_password("mat-khau-dai-du"))
    client = app.test_client()
    with client.session_transaction() as session:
        session.update({auth.USER: name, auth.ROLE: role, auth.SINCE: int(time.time())})
    return client


def jpeg_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        return image.size


@pytest.mark.parametrize("path", [PREVIEW, STREAM])
def test_anonymous_visitors_are_sent_to_login(station: Flask, path: str) -> None:
    response = station.test_client().get(path)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=/station/camera/")


def test_volunteer_gets_a_fresh_small_frame(station: Flask, services: Services) -> None:
    response = logged_in(station, services).get(PREVIEW)
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"
    assert jpeg_size(response.get_data()) == (640, 480)


def test_technician_may_look_too(station: Flask, services: Services) -> None:
    assert logged_in(station, services, "technician").get(PREVIEW).status_code == 200


def test_no_camera_is_said_plainly(app: Flask, services: Services) -> None:
    client = logged_in(app, services)
    for path in (PREVIEW, STREAM):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["Cache-Control"] == "no-store"
        assert response.get_data(as_text=True).startswith("Hộp chưa có máy ảnh")


def test_camera_failure_is_a_503_with_its_message(
    station: Flask, services: Services, shots: Path
) -> None:
    for image in shots.iterdir():
        image.unlink()
    response = logged_in(station, services).get(PREVIEW)
    assert response.status_code == 503
    assert "không có ảnh JPEG hay PNG nào" in response.get_data(as_text=True)


def parts(body: bytes) -> list[bytes]:
    """The JPEGs of a multipart/x-mixed-replace body, checked against their Content-Length."""
    found = []
    for chunk in body.split(f"--{BOUNDARY}\r\n".encode())[1:]:
        head, _, rest = chunk.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1])
        assert head.startswith(b"Content-Type: image/jpeg")
        assert rest[length:] == b"\r\n"
        found.append(rest[:length])
    return found


def test_stream_runs_for_a_bounded_time_and_ends_dimmed(
    station: Flask, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(camera_view, "STREAM_SECONDS", 0.3)
    monkeypatch.setattr(camera_view, "FPS", 20.0)
    started = time.monotonic()
    response = logged_in(station, services).get(STREAM, buffered=True)
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert response.content_type == f"multipart/x-mixed-replace; boundary={BOUNDARY}"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Encoding" not in response.headers
    frames = parts(response.get_data())
    assert 3 <= len(frames) <= 8
    live, last = (numpy.asarray(Image.open(io.BytesIO(f))) for f in (frames[0], frames[-1]))
    assert live.shape == (480, 640, 3)
    assert last.mean() < live.mean() / 2  # a stopped picture never looks live


def test_streams_are_capped_and_give_their_slot_back(station: Flask, services: Services) -> None:
    client = logged_in(station, services)
    open_streams = [client.get(STREAM, buffered=False) for _ in range(camera_view.MAX_STREAMS)]
    first_part = next(iter(open_streams[0].response))
    assert isinstance(first_part, bytes)
    assert first_part.startswith(f"--{BOUNDARY}".encode())
    refused = client.get(STREAM)
    assert refused.status_code == 503
    assert refused.get_data(as_text=True).startswith("Màn xem trước đang mở")
    open_streams[0].close()  # the browser went away
    again = client.get(STREAM, buffered=False)
    assert again.status_code == 200
    for response in (*open_streams[1:], again):
        response.close()
    head = client.head(STREAM)  # a stream that never starts gives its slot back too
    assert head.status_code == 200
    head.close()
    streams = [client.get(STREAM, buffered=False) for _ in range(camera_view.MAX_STREAMS)]
    assert [r.status_code for r in streams] == [200] * camera_view.MAX_STREAMS
    for response in streams:
        response.close()


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Flaky:
    """A camera whose preview fails after `good` frames (the ribbon cable came loose)."""

    name = "flaky"

    def __init__(self, good: int) -> None:
        self.good = good

    def preview(self) -> numpy.ndarray:
        if self.good == 0:
            raise CameraError("Máy ảnh không trả lời / The camera does not answer")
        self.good -= 1
        return numpy.full((48, 64, 3), 200, dtype=numpy.uint8)

    def capture(self) -> numpy.ndarray:
        return self.preview()

    def close(self) -> None:
        return None


def test_frames_are_paced_and_bounded() -> None:
    fake = FakeTime()
    sent = list(mjpeg_parts(Flaky(100), seconds=2.0, fps=4.0, clock=fake.clock, sleep=fake.sleep))
    assert len(sent) == 8 + 1  # two seconds at four a second, then the dimmed last frame
    assert fake.slept == [0.25] * 8


def test_camera_error_ends_the_stream_with_the_last_good_frame_dimmed() -> None:
    fake = FakeTime()
    sent = list(mjpeg_parts(Flaky(3), seconds=60.0, fps=4.0, clock=fake.clock, sleep=fake.sleep))
    assert len(sent) == 3 + 1
    assert list(mjpeg_parts(Flaky(0), seconds=60.0, fps=4.0, clock=fake.clock)) == []


def test_capture_still(station: Flask, services: Services) -> None:
    with station.app_context():
        still = capture_still(current_services())
    assert still.shape == (1200, 1600, 3)
    services.camera = None
    with pytest.raises(CameraError, match="Hộp chưa có máy ảnh"):
        capture_still(services)
