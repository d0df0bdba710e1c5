"""A resident on a small phone with JavaScript off: books a help slot, keeps the code, cancels it;
then rates a dossier whose result was handed back, from the status page.

A box of its own: `hamletbox dossier create` files a dossier, which is then marked returned in its
store before `hamletbox web` starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from appliance import config
from appliance.samples.documents import make_photo
from appliance.store.db import make_engine
from appliance.store.tables import Dossier
from tests.browser.conftest import PHONE, running_box
from tests.browser.test_queue_browser import _hamletbox
from tests.conftest import write_settings

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Box:
    url: str
    receipt_code: str


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Box]:
    folder = tmp_path_factory.mktemp("booking")
    settings = write_settings(folder)
    photo = folder / "giay.jpg"
    photo.write_bytes(make_photo(4, frame=(1200, 900)).jpeg)
    dossier = ["dossier", "create", "--procedure", "1.001193", "--name", "Lê Thị Hoa"]
    extra = ["--phone", "0912345678", "--page", str(photo), "--consent", "--json"]
    filed = json.loads(_hamletbox(settings, *dossier, *extra))
    engine = make_engine(config.load(settings, environ={}).database_path)
    with engine.begin() as conn:
        code = filed["receipt_code"]
        conn.execute(update(Dossier).where(Dossier.receipt_code == code).values(status="returned"))
    engine.dispose()
    with running_box(settings, folder) as base:
        yield Box(base, filed["receipt_code"])


@pytest.fixture
def phone(browser: Browser, box: Box) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE, locale="vi-VN", java_script_enabled=False, proxy={"server": box.url}
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def test_book_a_slot_keep_the_code_and_cancel_it(phone: Page, box: Box) -> None:
    page = phone
    page.goto(box.url + "/")
    page.get_by_role("link", name="Đặt lịch hỗ trợ").click()
    expect(page.locator("h1")).to_have_text("Đặt lịch hỗ trợ")
    fits(page)
    last = page.locator("a.proc").last  # the last day: far enough ahead for a reminder
    expect(last).to_contain_text("còn 3 chỗ")
    last.click()
    expect(page).to_have_url(re.compile(r"/dat-lich/\d{12}$"))
    when = page.locator("#gio").inner_text()
    page.fill("#ten", "Nguyễn Thị Lan")
    page.fill("#so", "0987 654 321")
    page.get_by_label("Đăng ký khai sinh", exact=True).check()
    fits(page)
    page.get_by_role("button", name="Đặt lịch").click()
    expect(page.locator("h1")).to_have_text("Đã đặt lịch")
    code = page.locator("#ma-dat-lich").inner_text()
    assert re.fullmatch(r"LH-[2-9A-Z]{4}", code)
    expect(page.locator(".receipt")).to_contain_text(when)
    expect(page.locator("main")).to_contain_text("Bạn sẽ nhận tin nhắn nhắc lịch.")
    fits(page)

    page.get_by_role("link", name="Hủy lịch này").click()
    expect(page.locator("#ma")).to_have_value(code)
    page.fill("#so", "4321")
    page.get_by_role("button", name="Hủy lịch hẹn").click()
    expect(page.locator("h1")).to_have_text("Đã hủy lịch hẹn")
    expect(page.locator(".status")).to_contain_text(when)
    page.goto(box.url + "/dat-lich")
    expect(page.locator("a.proc").last).to_contain_text("còn 3 chỗ")


def test_a_wrong_number_is_explained_on_the_form(phone: Page, box: Box) -> None:
    page = phone
    page.goto(box.url + "/dat-lich")
    page.locator("a.proc").first.click()
    page.fill("#ten", "Trần Văn Đức")
    page.fill("#so", "0241 234 5678")
    page.get_by_role("button", name="Đặt lịch").click()
    expect(page.locator(".problem")).to_contain_text("Đây là số máy bàn")
    expect(page.locator("#ten")).to_have_value("Trần Văn Đức")


def test_rate_a_returned_dossier_from_the_status_page(phone: Page, box: Box) -> None:
    page = phone
    page.goto(f"{box.url}/tra-cuu?ma={box.receipt_code}")
    page.fill("#so", "5678")
    page.get_by_role("button", name="Xem tình trạng").click()
    expect(page.locator("#status")).to_contain_text("Đã trả kết quả")
    page.get_by_role("link", name="Đánh giá dịch vụ").click()
    page.fill("#so", "5678")
    page.get_by_role("button", name="Tiếp tục").click()
    page.locator("label", has_text="5 · Rất hài lòng").click()
    page.fill("#gop-y", "Cán bộ hướng dẫn rất tận tình")
    fits(page)
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.locator("#loi-nhan")).to_contain_text("Cảm ơn bạn đã đánh giá!")
    page.goto(f"{box.url}/tra-cuu?ma={box.receipt_code}")
    page.fill("#so", "5678")
    page.get_by_role("button", name="Xem tình trạng").click()
    expect(page.get_by_role("link", name="Đánh giá dịch vụ")).to_have_count(0)
