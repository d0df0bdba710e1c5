"""The station kiosk: local URLs only, the station login on screen, other origins refused, and a
starting page while the web is away."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from appliance import config
from appliance.kiosk import (
    KIOSK_FILE,
    STARTING_TITLE,
    Kiosk,
    local_url_problem,
    station_url,
)
from tests.conftest import write_settings
from tests.kiosk.conftest import wait_for_beat
from tests.support.processes import clean_env, free_port, hamletbox_command, running_web

pytestmark = pytest.mark.kiosk
CHILD_SECONDS = 60


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/station",
        "http://localhost:8080/station",
        "http://[::1]:8080/station",
        "http://10.42.0.1/station",
        "http://LOCALHOST/station",
    ],
)
def test_local_station_urls_are_accepted(settings: config.Settings, url: str) -> None:
    assert local_url_problem(url, settings) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/station",
        "https://127.0.0.1:8080/station",
        "file:///etc/passwd",
        "http://10.42.0.2/station",
        "http://127.0.0.1.example.com/",
        "http://127.0.0.1:99999/station",
        "127.0.0.1:8080/station",
        "",
    ],
)
def test_other_urls_are_refused_in_both_languages(settings: config.Settings, url: str) -> None:
    problem = local_url_problem(url, settings)
    assert problem is not None
    assert "Địa chỉ kiosk" in problem and "The kiosk URL" in problem


def test_default_page_is_the_local_station(settings: config.Settings) -> None:
    assert station_url(settings, None) == f"http://127.0.0.1:{settings.web.port}/station"
    assert station_url(settings, "http://10.42.0.1/station") == "http://10.42.0.1/station"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8080/login?next=/station", True),
        ("http://127.0.0.1:8080/static/app.css", True),
        ("blob:http://127.0.0.1:8080/0d1e", True),
        ("data:text/html;charset=UTF-8,starting", True),
        ("about:blank", True),
        ("", True),
        ("http://127.0.0.1:8081/", False),
        ("http://localhost:8080/", False),
        ("https://127.0.0.1:8080/", False),
        ("http://example.invalid/", False),
        ("blob:http://example.invalid/0d1e", False),
        ("file:///etc/passwd", False),
        ("ws://127.0.0.1:9999/", False),
    ],
)
def test_the_window_may_fetch_only_from_the_station_origin(
    tmp_path: Path, url: str, allowed: bool
) -> None:
    kiosk = Kiosk("http://127.0.0.1:8080/station", tmp_path / KIOSK_FILE)
    assert kiosk.allows(url) is allowed


def test_non_local_url_exits_2_before_any_window(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, '\n[kiosk]\nurl = "http://evil.example/station"\n')
    env = clean_env()
    env.pop("DISPLAY", None)  # a window could not open: only the early refusal can answer
    for extra in ([], ["--url", "https://example.org/"]):
        done = subprocess.run(
            [*hamletbox_command(settings), "kiosk", *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=CHILD_SECONDS,
        )
        assert done.returncode == 2, done.stderr
        assert "Địa chỉ kiosk phải là trang http của chính hộp" in done.stderr
        assert "The kiosk URL must be an http page of the box itself" in done.stderr
    assert not (tmp_path / "run" / KIOSK_FILE).exists()


class _Counting(BaseHTTPRequestHandler):
    """Another local site: it must never hear from the kiosk."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<title>elsewhere</title>")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def elsewhere() -> Iterator[tuple[str, list[str]]]:
    """A site on another loopback port, and the paths it was asked for."""
    _Counting.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", _Counting.hits
    finally:
        server.shutdown()
        server.server_close()


def test_shows_station_login_and_refuses_other_origins(
    tmp_path: Path, kiosk_env: dict[str, str], elsewhere: tuple[str, list[str]]
) -> None:
    port = free_port()
    settings = write_settings(tmp_path, f'\n[kiosk]\nurl = "http://127.0.0.1:{port}/station"\n')
    other, hits = elsewhere
    drive = [sys.executable, "-m", "tests.kiosk.drive", str(settings), "http://example.invalid/"]
    with running_web(settings, tmp_path / "web.log", port) as base:
        done = subprocess.run(
            [*drive, other],
            env=kiosk_env,
            capture_output=True,
            text=True,
            timeout=CHILD_SECONDS,
        )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["station"] == f"{base}/login?next=/station"
    assert "Hamlet Box" in report["title"]
    tried = [a["url"] for a in report["attempts"]]
    assert tried == [
        "http://example.invalid/",
        "http://example.invalid/?new-window",
        other,
        other + "?new-window",
    ]
    for attempt in report["attempts"]:
        assert attempt["refused"] and attempt["back"], attempt
        assert attempt["after"] == report["station"]
        assert attempt["title"] == report["title"]
    assert hits == []  # refused before any request left the window
    assert report["own_new_window"] == f"{base}/login"


def test_starting_page_until_the_web_answers_and_again_across_a_restart(
    tmp_path: Path, kiosk_env: dict[str, str]
) -> None:
    port = free_port()
    settings = write_settings(tmp_path, f'\n[kiosk]\nurl = "http://127.0.0.1:{port}/station"\n')
    beat_path = tmp_path / "run" / KIOSK_FILE
    login = f"http://127.0.0.1:{port}/login?next=/station"
    with (tmp_path / "kiosk.log").open("wb") as log:
        kiosk = subprocess.Popen(
            [*hamletbox_command(settings), "kiosk"], env=kiosk_env, stdout=log, stderr=log
        )
        try:
            starting = wait_for_beat(beat_path, lambda b: b["showing"] == "starting")
            assert starting["title"] == STARTING_TITLE and starting["pid"] == kiosk.pid
            for _ in ("first start", "restart"):
                with running_web(settings, tmp_path / "web.log", port):
                    shown = wait_for_beat(beat_path, lambda b: b["url"] == login)
                    assert shown["showing"] == "station" and "Hamlet Box" in shown["title"]
                back = wait_for_beat(beat_path, lambda b: b["title"] == STARTING_TITLE)
                assert back["showing"] == "starting"
            assert kiosk.poll() is None
        finally:
            kiosk.terminate()
            kiosk.wait(timeout=10)
