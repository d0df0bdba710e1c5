"""Browser tests: the real `hamletbox web` in a subprocess, driven by Chromium via Playwright.

The browser goes through the box as its HTTP proxy, so every host name reaches the box — as on the
hotspot, where dnsmasq answers every name with the box's address.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.conftest import write_settings
from tests.support.processes import running_web

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


@contextmanager
def running_box(settings: Path, folder: Path) -> Iterator[str]:
    """`hamletbox web` on a free loopback port until the block ends; yields its base URL."""
    with running_web(settings, folder / "web.log") as base:
        yield base


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
