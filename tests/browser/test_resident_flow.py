"""A resident on a cheap phone: search without accents, read the checklist, switch to English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser


@pytest.fixture
def no_js_page(browser: Browser) -> Iterator[Page]:
    """The UI must work with JavaScript off (some residents' browsers, captive mini-browsers)."""
    context = browser.new_context(viewport=PHONE, locale="vi-VN", java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_search_without_accents_opens_checklist(no_js_page: Page, box_url: str) -> None:
    page = no_js_page
    page.goto(box_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.fill("#q", "khai sinh")
    page.press("#q", "Enter")
    first = page.locator("a.proc").first
    expect(first).to_contain_text("Đăng ký khai sinh")
    first.click()
    expect(page).to_have_url(f"{box_url}/p/1.001193")
    expect(page.locator("h1")).to_have_text("Đăng ký khai sinh")
    papers = page.locator(".papers li")
    assert papers.count() >= 3
    expect(page.locator(".papers")).to_contain_text("Giấy chứng sinh")


def test_typo_search_still_finds_marriage(page: Page, box_url: str) -> None:
    page.goto(box_url + "/search?q=ket+hon")
    expect(page.locator("a.proc").first).to_contain_text("Đăng ký kết hôn")
    page.goto(box_url + "/search?q=xac+nhan+tinh+trang+hon+nhan")
    expect(page.locator("a.proc").first).to_contain_text("tình trạng hôn nhân")


def test_switch_to_english_and_back(page: Page, box_url: str) -> None:
    page.goto(box_url + "/p/1.000894")
    page.click("a[hreflang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Marriage registration")
    page.goto(box_url + "/")  # the choice sticks across pages
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click("a[hreflang=vi]")
    expect(page.locator("html")).to_have_attribute("lang", "vi")


def test_readable_and_tappable_on_a_small_phone(page: Page, box_url: str) -> None:
    for path in ("/", "/p/1.001193", "/search?q=chung+thuc"):
        page.goto(box_url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        body_px = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert body_px >= 18, path
        targets = page.locator("a.proc, button, a[hreflang], input#q")
        for i in range(targets.count()):
            box = targets.nth(i).bounding_box()
            assert box is not None and box["height"] >= 44, (path, targets.nth(i).inner_text())


def test_unknown_procedure_is_a_friendly_404(page: Page, box_url: str) -> None:
    response = page.goto(box_url + "/p/9.999999")
    assert response is not None and response.status == 404
    expect(page.locator("main")).to_contain_text("Không tìm thấy thủ tục này")
    page.locator("main a[href='/']").first.click()
    expect(page.locator("a.proc").first).to_be_visible()
