"""A volunteer on a small phone opens the queue: the waiting dossier, no sideways scroll, send now.

A box of its own: `hamletbox user add` makes the volunteer and `hamletbox dossier create` files a
dossier with one photographed page, so it waits in the queue (no relay runs). The browser reaches
this box through a context of its own that uses it as the proxy, as the phone tests do.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from appliance.samples.documents import make_photo
from tests.browser.conftest import PHONE, running_box
from tests.browser.test_station_flow import PASSWORD, log_in
from tests.conftest import write_settings
from tests.support.processes import clean_env, hamletbox_command

pytestmark = pytest.mark.browser

NAME = "Nguyễn Thị Phương Thảo"


@dataclass(frozen=True)
class QueueBox:
    url: str
    receipt_code: str


def _hamletbox(settings: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [*hamletbox_command(settings), *args],
        input=stdin,
        text=True,
        env=clean_env(),
        check=True,
        capture_output=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def queue_box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueBox]:
    folder = tmp_path_factory.mktemp("queue")
    settings = write_settings(folder)
    photo = folder / "giay.jpg"
    photo.write_bytes(make_photo(4, frame=(1200, 900)).jpeg)
    volunteer = ["user", "add", "vol", "--role", "volunteer", "--password-stdin"]
    _hamletbox(settings, *volunteer, stdin=PASSWORD + "\n")
    dossier = ["dossier", "create", "--procedure", "1.001193", "--name", NAME]
    filed = _hamletbox(
        settings, *dossier, "--phone", "0912345678", "--page", str(photo), "--consent", "--json"
    )
    with running_box(settings, folder) as base:
        yield QueueBox(base, json.loads(filed)["receipt_code"])


@pytest.fixture
def phone(browser: Browser, queue_box: QueueBox) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="vi-VN", proxy={"server": queue_box.url})
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_queue_on_a_small_phone(phone: Page, queue_box: QueueBox) -> None:
    page = phone
    log_in(page, queue_box.url)
    page.get_by_role("link", name=re.compile("Hồ sơ chờ gửi lên xã: 1")).click()
    expect(page.locator("h1")).to_have_text("Hồ sơ chờ gửi lên xã")
    item = page.locator(f"#ho-so-{queue_box.receipt_code}")
    expect(item).to_contain_text(NAME)
    expect(item).to_contain_text("Còn 1 trang chưa gửi")
    expect(page.locator("#dem")).to_have_text("1 hồ sơ đang chờ gửi")
    expect(page.locator("#ket-noi")).to_contain_text("Chưa rõ tình trạng kết nối")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("button", name="Gửi ngay").click()
    expect(page.locator("p.done")).to_contain_text("Hộp sẽ gửi ngay các hồ sơ đang chờ")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    item.get_by_role("link", name=queue_box.receipt_code).click()
    expect(page.locator("#dien-bien li")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
