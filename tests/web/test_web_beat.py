"""The web process's beat: runtime_dir/web.json, fresh while it serves, saying whether the station's
camera is there; and systemd hears READY=1 and WATCHDOG=1 from `hamletbox web`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from appliance import config
from appliance.box_state import STALE_SECONDS, WEB_FILE, read_box_state
from appliance.liveness import read_fresh, read_json
from appliance.services import Services, build
from tests.conftest import write_settings
from tests.support.processes import clean_env, hamletbox_command
from web.server import WebBeat

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def built(tmp_path: Path, extra: str) -> Services:
    return build(config.load(write_settings(tmp_path, extra), environ={}))


def photo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "shots"
    folder.mkdir()
    Image.new("RGB", (32, 24), (200, 200, 200)).save(folder / "a.jpg")
    return folder


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(tmp_path / "notify.sock"))
        sock.settimeout(30)
        yield sock


@pytest.mark.parametrize(
    ("camera", "expected"),
    [
        ("folder", "ok"),
        ("picamera2", "missing"),  # configured, but this is not a Pi
        ("none", "off"),
    ],
)
def test_web_json_says_how_the_camera_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, camera: str, expected: str
) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)
    folder = f'folder = "{photo_folder(tmp_path)}"\n' if camera == "folder" else ""
    services = built(tmp_path, f'[camera]\nbackend = "{camera}"\n{folder}')
    try:
        WebBeat(services, clock=lambda: NOW, environ={}).beat()
        path = services.settings.runtime_dir / WEB_FILE
        fresh = read_fresh(path, NOW + timedelta(seconds=5), STALE_SECONDS)
        assert fresh is not None
        assert fresh["camera"] == expected
        assert fresh["pid"] == os.getpid()
        state = read_box_state(services.settings, services.sessions, NOW)
        assert state.web_alive and state.camera == expected
    finally:
        services.close()


def test_an_old_beat_is_not_fresh(services: Services) -> None:
    WebBeat(services, clock=lambda: NOW, environ={}).beat()
    later = NOW + timedelta(seconds=STALE_SECONDS + 1)
    assert read_fresh(services.settings.runtime_dir / WEB_FILE, later, STALE_SECONDS) is None
    assert not read_box_state(services.settings, services.sessions, later).web_alive


def test_the_beat_thread_writes_at_once_pings_the_watchdog_and_stops(
    tmp_path: Path, services: Services, notify_socket: socket.socket
) -> None:
    environ = {"NOTIFY_SOCKET": str(tmp_path / "notify.sock")}
    beat = WebBeat(services, environ=environ, every=600)
    beat.start()
    try:
        assert notify_socket.recv(64) == b"WATCHDOG=1"
        written = read_json(beat.path)
        assert written is not None and written["camera"] == "off"
    finally:
        beat.stop()  # does not wait out the 600 s
    assert not any(thread.name == "web-beat" for thread in threading.enumerate())


def test_an_unwritable_runtime_dir_does_not_stop_the_beat(
    tmp_path: Path, services: Services, notify_socket: socket.socket
) -> None:
    blocker = services.settings.runtime_dir
    assert not blocker.exists()
    blocker.write_text("not a folder")  # the tmpfs is gone or broken
    environ = {"NOTIFY_SOCKET": str(tmp_path / "notify.sock")}
    WebBeat(services, environ=environ).beat()
    assert notify_socket.recv(64) == b"WATCHDOG=1"  # systemd still hears the process is alive


def test_hamletbox_web_tells_systemd_and_keeps_web_json(
    tmp_path: Path, notify_socket: socket.socket
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    settings_file = write_settings(tmp_path)
    env = {**clean_env(), "NOTIFY_SOCKET": str(tmp_path / "notify.sock")}
    cmd = [*hamletbox_command(settings_file), "web", "--host", "127.0.0.1", "--port", str(port)]
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        heard = {notify_socket.recv(64), notify_socket.recv(64)}
        assert heard == {b"READY=1", b"WATCHDOG=1"}
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            pass  # READY=1 came once the port listens
        written = read_json(tmp_path / "run" / WEB_FILE)
        assert written is not None
        assert written["pid"] == child.pid and written["camera"] == "off"
        child.terminate()
        assert child.wait(timeout=30) == 0, "SIGTERM is a clean stop (systemd's way)"
    finally:
        child.kill()
        child.wait(timeout=30)
