"""The volunteers' list of a day's bookings: by time, against capacity, cancelled ones greyed."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask

from appliance.receipts import VIETNAM
from appliance.services import Services
from appliance.store.booking_repo import Request
from tests.web.conftest import parse, text
from tests.web.test_station import Desk
from web import booking

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=VIETNAM)
PAGE = "/station/lich-hen"


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    return Desk(app, services)


def seed(app: Flask, services: Services) -> dict[str, str]:
    """Three bookings on Thursday 26/11 (one cancelled), one on Friday; name -> code."""
    app.extensions[booking.CLOCK] = lambda: NOW
    codes = {}
    with app.test_request_context("/"):
        repo = booking.repo()
        catalog = services.catalog.current()
        schedule = booking.schedule()
        for name, phone, slot_id, procedure in (
            ("Nguyễn Thị Lan", "0912345678", "202611261900", "1.001193"),
            ("Trần Văn Đức", "0987654321", "202611260830", None),
            ("Lê Hoàng Yến", "0934567890", "202611261900", None),
            ("Phạm Văn Bình", "0976543210", "202611271900", None),
        ):
            slot = schedule.slot(slot_id, NOW)
            codes[name] = repo.book(
                slot, Request(name, phone, procedure), catalog, NOW
            ).booking.code
        repo.cancel(codes["Lê Hoàng Yến"], "7890", NOW)
    return codes


def test_today_by_time_with_capacity(app: Flask, desk: Desk, services: Services) -> None:
    seed(app, services)
    html = desk.page(PAGE)
    assert "Thứ Năm 26/11" in html and "hôm nay" in html
    assert html.index("Trần Văn Đức") < html.index("Nguyễn Thị Lan") < html.index("Lê Hoàng Yến")
    assert "0912 345 678" in html and "Đăng ký khai sinh" in html
    assert "19:00–19:30 · 1/3 chỗ đã đặt" in html and "08:30–09:00 · 1/3 chỗ đã đặt" in html
    assert "20:30–21:00 · 0/3 chỗ đã đặt" in html
    assert "<del>Lê Hoàng Yến</del> · đã hủy" in html
    assert "Đặt lúc 07:00 26/11" in html
    assert "Phạm Văn Bình" not in html


def test_another_day(app: Flask, desk: Desk, services: Services) -> None:
    seed(app, services)
    html = desk.page(PAGE + "?ngay=2026-11-27")
    assert "Thứ Sáu 27/11" in html and "Phạm Văn Bình" in html and "Nguyễn Thị Lan" not in html
    assert "08:30" not in html  # no morning hours on Fridays
    urls = parse(html).urls
    assert f"{PAGE}?ngay=2026-11-26" in urls and f"{PAGE}?ngay=2026-11-28" in urls and PAGE in urls


def test_a_bad_day_falls_back_to_today(app: Flask, desk: Desk, services: Services) -> None:
    seed(app, services)
    html = desk.page(PAGE + "?ngay=26/11/2026")
    assert "Ngày không đúng dạng" in html and "Nguyễn Thị Lan" in html


def test_the_station_home_links_here(desk: Desk) -> None:
    assert PAGE in parse(desk.page("/station")).urls


def test_residents_cannot_see_bookings(app: Flask, services: Services) -> None:
    seed(app, services)
    response = app.test_client().get(PAGE)
    assert response.status_code in (302, 303) and "Nguyễn Thị Lan" not in text(response)


def test_english(app: Flask, desk: Desk, services: Services) -> None:
    seed(app, services)
    desk.client.get("/lang/en")
    html = desk.page(PAGE)
    assert "Help-slot bookings" in html and "Thursday 26 Nov" in html and "cancelled" in html
