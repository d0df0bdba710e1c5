"""Browser tests: the real `hamletbox web` in a subprocess, driven by Chromium via Playwright.

The browser goes through the box as its HTTP proxy, so every host name reaches the box — as on the
hotspot, where dnsmasq answers every name with the box's address.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.conftest import write_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: ViewportSize = {"width": 360, "height": 740}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hamletbox_command(settings: Path) -> list[str]:
    """The installed `hamletbox` of this virtualenv, with the given settings file."""
    hamletbox = shutil.which("hamletbox", path=str(Path(sys.executable).parent)) or "hamletbox"
    return [hamletbox, "--config", str(settings)]


def clean_env() -> dict[str, str]:
    """This environment without HAMLETBOX_* overrides, so the settings file alone decides."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HAMLETBOX_")}


@contextmanager
def running_box(settings: Path, folder: Path) -> Iterator[str]:
    """`hamletbox web` on a free loopback port until the block ends; yields its base URL."""
    port = _free_port()
    cmd = [*hamletbox_command(settings), "web", "--host", "127.0.0.1", "--port", str(port)]
    log_path = folder / "web.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=clean_env(), stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(base + "/", proc, log_path)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@contextmanager
def new_tab(browser: Browser, viewport: ViewportSize) -> Iterator[Page]:
    """A fresh browser context (no cookies) with one tab at the given screen size."""
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def box_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The box as residents meet it: sample settings, no camera."""
    folder = tmp_path_factory.mktemp("box")
    with running_box(write_settings(folder), folder) as base:
        yield base


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hamletbox web exited: {log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"hamletbox web did not answer at {url}")


@pytest.fixture(scope="session")
def browser(box_url: str) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            proxy={"server": box_url},
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_tab(browser, PHONE) as tab:
        yield tab
