"""Kiosk tests: a private Xvfb display, the real `hamletbox web` on a loopback port, and the
kiosk's window (pywebview's Qt backend) in a child process."""

from __future__ import annotations

import importlib.util
import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.liveness import read_json
from tests.support.processes import clean_env

XVFB_START_SECONDS = 30.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kiosk: opens the kiosk window under Xvfb")


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """A fresh X display (Xvfb picks a free number and writes it to us when it is ready)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("Debian's xvfb is missing: `make test` installs it (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    cmd = [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"]
    proc = subprocess.Popen(
        cmd, pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        ready, _, _ = select.select([pipe], [], [], XVFB_START_SECONDS)
        number = pipe.readline().strip() if ready else ""
    try:
        if not number:
            pytest.fail("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def kiosk_env(display: str) -> dict[str, str]:
    """The environment a kiosk child needs: the display, and Chromium's sandbox off as root."""
    if importlib.util.find_spec("webview") is None:
        pytest.fail("pywebview is missing: the dev extra installs pywebview[qt]")
    flags = ["--disable-gpu", *(["--no-sandbox"] if os.geteuid() == 0 else [])]
    return {
        **clean_env(),
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "QTWEBENGINE_CHROMIUM_FLAGS": " ".join(flags),
    }


def wait_for_beat(path: Path, check: Callable[[dict[str, Any]], bool], timeout: float = 30) -> Any:
    """The kiosk's beat file once `check` holds for it (another process writes it: polled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beat = read_json(path)
        if beat is not None and check(beat):
            return beat
        time.sleep(0.1)
    raise AssertionError(f"kiosk.json never matched; last: {read_json(path)}")
