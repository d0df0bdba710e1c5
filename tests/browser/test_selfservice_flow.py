"""A resident files a birth registration from a small phone: photo upload, originals, consent,
the receipt with its QR, then the status lookup — every screen tappable and without sideways
scrolling."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from pyzbar import pyzbar

from appliance.samples.documents import make_photo
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

TAP_PX = 44
# Everything a finger presses; a thumbnail's link is as large as its picture.
TAPPABLE = "a, button, input:not([type=hidden]), label[for=consent]"
SMALL_TARGETS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.offsetParent !== null)
  .map((el) => ({el, box: el.getBoundingClientRect()}))
  .filter(({box}) => box.height < 44 || box.width < 44)
  .map(({el, box}) => `${el.outerHTML.slice(0, 80)} ${box.width | 0}×${box.height | 0}`)"""


def check_screen(page: Page) -> None:
    """Fits the 360 px screen and every control is at least 44 × 44 px."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways ({width} px)"
    small = page.evaluate(SMALL_TARGETS, TAPPABLE)
    assert small == [], f"{page.url}: tap targets under {TAP_PX} px: {small}"


def qr_text(page: Page) -> str:
    shot = page.locator(".qr svg").screenshot()
    found = pyzbar.decode(Image.open(io.BytesIO(shot)).convert("L"))
    assert len(found) == 1
    return found[0].data.decode("utf-8")


def test_a_resident_files_from_a_phone_and_looks_up_the_status(
    page: Page, box_url: str, tmp_path: Path
) -> None:
    photo = tmp_path / "to-khai.jpg"
    photo.write_bytes(make_photo(5, frame=(1600, 1200)).jpeg)

    page.goto(box_url + "/p/1.001193")
    page.get_by_role("link", name="Nộp hồ sơ từ điện thoại").click()
    expect(page.locator("h1")).to_have_text("Nộp hồ sơ: Đăng ký khai sinh")
    check_screen(page)
    page.get_by_role("button", name="Bắt đầu").click()

    expect(page.locator("h1")).to_have_text("Họ tên và số điện thoại của bạn")
    check_screen(page)
    page.fill("#name", "Trần Thị Bình")
    page.fill("#phone", "0912 345 678")
    page.get_by_role("button", name="Tiếp tục").click()

    expect(page.locator("h1")).to_have_text("Tờ khai đăng ký khai sinh (theo mẫu)")
    check_screen(page)
    page.set_input_files("#photo", str(photo))
    page.get_by_role("button", name="Gửi ảnh").click()
    expect(page.get_by_role("heading", name="Đã có 1 trang")).to_be_visible()
    thumb = page.locator(".pages img").first
    expect(thumb).to_be_visible()
    assert thumb.evaluate("(img) => img.complete && img.naturalWidth > 0")
    check_screen(page)
    page.get_by_role("link", name=re.compile("^Tiếp tục")).click()

    for paper in ("Giấy chứng sinh", "Căn cước (CCCD) của cha hoặc mẹ"):
        expect(page.locator("h1")).to_contain_text(paper)
        check_screen(page)
        page.get_by_role("button", name="Tôi sẽ mang bản chính đến").click()

    expect(page.locator("h1")).to_contain_text("Giấy chứng nhận kết hôn của cha mẹ")
    check_screen(page)
    page.get_by_role("link", name=re.compile("^Bỏ qua, tôi không có giấy này")).click()

    expect(page.locator("h1")).to_have_text("Xem lại và nộp")
    check_screen(page)
    page.get_by_role("button", name="Nộp hồ sơ").click()
    expect(page.locator(".problem")).to_contain_text("Hãy đánh dấu vào ô “Tôi đồng ý”")
    page.check("#consent")
    page.get_by_role("button", name="Nộp hồ sơ").click()

    expect(page.locator("h1")).to_have_text("Đã nộp hồ sơ")
    code = page.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"HB-[2-9A-Z]{6}", code), code
    expect(page.locator(".qr svg")).to_be_visible()
    assert qr_text(page) == f"http://10.42.0.1/tra-cuu?ma={code}"
    check_screen(page)

    page.goto(f"{box_url}/tra-cuu?ma={code}")
    check_screen(page)
    expect(page.locator("#ma")).to_have_value(code)
    page.fill("#so", "5678")
    page.get_by_role("button", name="Xem tình trạng").click()
    expect(page.locator("#status")).to_contain_text("Đã nộp tại thôn, chờ gửi lên xã")
    check_screen(page)
