"""A volunteer at the station's touchscreen files a birth registration, from login to receipt.

A second `hamletbox web` runs with the folder camera over generated photos, named so that the
first capture is the ID card (for "Quét căn cước") and the next ones are papers; the volunteer's
account is made with `hamletbox user add --password-stdin`, as a technician would.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, ViewportSize, expect

from appliance.samples.cards import Shot, card_photo, sample_card_payload
from appliance.samples.documents import make_photo
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, new_tab, running_box
from tests.conftest import write_settings
from tests.support.processes import clean_env, hamletbox_command

pytestmark = pytest.mark.browser

TOUCHSCREEN: ViewportSize = {"width": 1024, "height": 600}
PASSWORD = "mat-khau-tram-1"
FRAME = (1600, 1200)
HOSPITAL = "Giấy chứng sinh (bệnh viện hoặc trạm y tế cấp)"
CARD_SEED = 7


def _camera_folder(folder: Path) -> Path:
    """The copy stand: the card first (names sort), then two papers."""
    folder.mkdir()
    card = card_photo(sample_card_payload(CARD_SEED), Shot(frame=FRAME), CARD_SEED).image
    out = io.BytesIO()
    Image.fromarray(card).save(out, "JPEG", quality=90)
    (folder / "01-the-can-cuoc.jpg").write_bytes(out.getvalue())
    for n in (2, 3):
        (folder / f"0{n}-giay-to.jpg").write_bytes(make_photo(n, frame=FRAME).jpeg)
    return folder


@pytest.fixture(scope="session")
def station_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`hamletbox web` with a folder camera and a volunteer account "vol"; yields its base URL."""
    folder = tmp_path_factory.mktemp("station")
    camera = _camera_folder(folder / "camera")
    settings = write_settings(folder, f'\n[camera]\nbackend = "folder"\nfolder = "{camera}"\n')
    add_volunteer = ["user", "add", "vol", "--role", "volunteer", "--password-stdin"]
    subprocess.run(
        [*hamletbox_command(settings), *add_volunteer],
        input=PASSWORD + "\n",
        text=True,
        env=clean_env(),
        check=True,
        capture_output=True,
    )
    with running_box(settings, folder) as base:
        yield base


@pytest.fixture(scope="session")
def kiosk(browser: Browser) -> Iterator[Browser]:
    """Chromium without the phone tests' proxy (which sends every address to the first box),
    launched through the same Playwright as they use."""
    launched = browser.browser_type.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def screen(kiosk: Browser) -> Iterator[Page]:
    """The station's touchscreen."""
    with new_tab(kiosk, TOUCHSCREEN) as tab:
        yield tab


def log_in(page: Page, station_url: str) -> None:
    page.goto(station_url + "/station", wait_until="domcontentloaded")
    expect(page).to_have_url(re.compile(r"/login\?next=/station"))
    page.fill("#login-name", "vol")
    page.fill("#login-password", PASSWORD)
    page.click("form.login button[type=submit]")
    expect(page).to_have_url(station_url + "/station")


def test_a_volunteer_files_a_birth_registration(screen: Page, station_url: str) -> None:
    page = screen
    log_in(page, station_url)
    expect(page.locator("img.live")).to_be_visible()
    page.click("button.pick[value='1.001193']")
    expect(page.locator("h1")).to_contain_text("Đăng ký khai sinh")
    workspace = page.url

    page.get_by_role("button", name="Quét căn cước").click()
    name = sample_card_payload(CARD_SEED).split("|")[2]
    expect(page.locator("#nguoi-nop dl")).to_contain_text(name)
    confirm = page.get_by_label("Tôi đã kiểm tra với người dân / I checked with the resident")
    if confirm.count():
        confirm.check()
        page.get_by_role("button", name="Xác nhận").click()
    page.fill("#sdt", "0912 345 678")
    page.get_by_role("button", name="Lưu số điện thoại").click()
    expect(page.locator("#sdt")).to_have_value("0912345678")

    hospital = page.locator("ol.checklist > li", has=page.locator("h3", has_text=HOSPITAL))
    hospital.get_by_role("button", name="Chụp", exact=True).click()
    expect(hospital.locator("ol.pages img")).to_have_count(1)
    expect(hospital.locator("ol.pages img")).to_have_js_property("complete", True)
    assert hospital.locator("ol.pages img").evaluate("img => img.naturalWidth") > 0

    for item in page.locator("ol.checklist > li").all():
        required = item.locator(".tag.req").count() > 0
        if required and item.locator("ol.pages").count() == 0:
            item.get_by_role("button", name="Mang bản chính", exact=True).click()
    expect(page.locator("ol.checklist > li.lack")).to_have_count(0)

    page.check("input[name=consent]")
    page.get_by_role("button", name="Nộp hồ sơ").click()
    expect(page).to_have_url(re.compile(r"/bien-nhan/[A-Z0-9]+-[A-Z0-9]{6}$"))
    code = page.url.rsplit("/", 1)[1]
    expect(page.locator("body")).to_contain_text(code)
    page.goto(workspace, wait_until="domcontentloaded")  # a submitted dossier shows its receipt
    expect(page).to_have_url(re.compile(f"/bien-nhan/{code}$"))


def test_the_corners_are_dragged_on_the_touchscreen(screen: Page, station_url: str) -> None:
    page = screen
    log_in(page, station_url)
    page.click("button.pick[value='2.000815']")
    first = page.locator("ol.checklist > li").first
    first.get_by_role("button", name="Chụp", exact=True).click()
    first.get_by_role("link", name="Sửa góc").click()
    expect(page.locator("h1")).to_have_text("Sửa bốn góc của trang")
    handles = page.locator(".cut .handle")
    expect(handles).to_have_count(4)  # the script ran under the station's CSP
    expect(page.locator(".cut img")).to_have_js_property("complete", True)
    photo = page.locator(".cut img").bounding_box()
    start = handles.first.bounding_box()
    assert photo is not None and start is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(photo["x"] + photo["width"] * 0.1, photo["y"] + photo["height"] * 0.1, steps=5)
    page.mouse.up()
    x0 = int(page.input_value("input[name=x0]"))
    assert abs(x0 - FRAME[0] * 0.1) < FRAME[0] * 0.02
    page.get_by_role("button", name="Cắt lại theo bốn góc này").click()
    expect(page.locator("h1")).to_contain_text("Chứng thực bản sao")
    expect(page.locator(".problem")).to_have_count(0)
