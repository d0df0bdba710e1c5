"""The resident's booking pages on a phone: days and free places, the form and its errors, the
confirmation with the code, cancelling; Vietnamese and English; a limit per phone address."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from appliance.ratelimit import RateLimiter
from appliance.receipts import VIETNAM
from appliance.services import Services
from appliance.store.tables import Appointment, OutboxItem
from tests.web.conftest import parse, text
from tests.web.test_auth import csrf_token_of
from web import booking

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=VIETNAM)  # a Thursday morning
MORNING = "202611260800"
EVENING = "202611261900"
BIRTH = "1.001193"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app: Flask) -> Clock:
    fake = Clock()
    app.extensions[booking.CLOCK] = fake
    return fake


def post(client: FlaskClient, url: str, **data: str) -> tuple[int, str]:
    token = csrf_token_of(client, url if "huy" in url else "/dat-lich/" + url.rsplit("/", 1)[1])
    response = client.post(url, data={"csrf_token": token, **data})
    return response.status_code, text(response)


def book(client: FlaskClient, slot: str = EVENING, **data: str) -> tuple[int, str]:
    fields = {"ten": "Nguyễn Thị Lan", "so": "0912 345 678", **data}
    return post(client, f"/dat-lich/{slot}", **fields)


def code_in(html: str) -> str:
    match = re.search(r'id="ma-dat-lich">(LH-[A-Z0-9]{4})<', html)
    assert match, html
    return match.group(1)


def count(services: Services, table: type[Appointment] | type[OutboxItem]) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_the_help_section_leads_to_booking(client: FlaskClient) -> None:
    html = text(client.get("/"))
    assert "/dat-lich" in parse(html).urls and "Đặt lịch hỗ trợ" in html


def test_the_days_ahead_with_their_free_places(phone: FlaskClient, clock: Clock) -> None:
    book(phone)
    response = phone.get("/dat-lich")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = text(response)
    assert "Thứ Năm 26/11" in html and "Thứ Năm 10/12" in html and "Thứ Sáu 11/12" not in html
    assert f"/dat-lich/{MORNING}" in parse(html).urls
    assert "19:00–19:30 · còn 2 chỗ" in html and "19:30–20:00 · còn 3 chỗ" in html
    assert "<script" not in html


def test_started_slots_are_not_offered(phone: FlaskClient, clock: Clock) -> None:
    clock.now = NOW + timedelta(hours=12, minutes=10)  # 19:10
    urls = parse(text(phone.get("/dat-lich"))).urls
    assert f"/dat-lich/{EVENING}" not in urls and "/dat-lich/202611261930" in urls


def test_a_full_slot_says_so(phone: FlaskClient, app: Flask, clock: Clock) -> None:
    for number in ("0912345678", "0987654321", "0934567890"):
        assert book(phone, so=number)[0] == 200
    html = text(phone.get("/dat-lich"))
    assert "19:00–19:30 · hết chỗ" in html and f"/dat-lich/{EVENING}" not in parse(html).urls
    status, html = book(phone, so="0976543210")
    assert status == 409 and "Giờ này đã hết chỗ, xin chọn giờ khác" in html
    assert 'value="0976543210"' in html  # what was typed stays


def test_booking_shows_the_code_and_queues_the_sms(
    phone: FlaskClient, services: Services, clock: Clock
) -> None:
    status, html = book(phone, **{"thu-tuc": BIRTH})
    assert status == 200
    code = code_in(html)
    assert "Thứ Năm 26/11 · 19:00–19:30" in html
    assert "Bạn sẽ nhận tin nhắn nhắc lịch" in html
    assert f"/dat-lich/huy?ma={code}" in parse(html).urls
    with services.sessions() as session:
        row = session.scalars(select(Appointment)).one()
        keys = set(session.scalars(select(OutboxItem.key)))
    assert (row.code, row.phone, row.procedure_code, row.lang) == (code, "0912345678", BIRTH, "vi")
    assert keys == {f"booking:{code}", f"reminder:{code}"}


def test_the_same_phone_again_gets_its_code_back(
    phone: FlaskClient, services: Services, clock: Clock
) -> None:
    first = code_in(book(phone)[1])
    status, html = book(phone, so="+84912345678")
    assert status == 200 and code_in(html) == first and "Bạn đã đặt giờ này rồi" in html
    assert count(services, Appointment) == 1


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("0241 234 5678", "Đây là số máy bàn"),
        ("0912", "Số di động có 10 chữ số"),
        ("", "Cần nhập số điện thoại di động"),
        ("09123abc78", "Số điện thoại chỉ gồm chữ số"),
    ],
)
def test_a_bad_number_reshows_the_form(
    phone: FlaskClient, services: Services, clock: Clock, number: str, message: str
) -> None:
    status, html = book(phone, so=number, ten="Trần <b>Văn</b> Đức")
    assert status == 400 and message in html
    assert "Trần &lt;b&gt;Văn&lt;/b&gt; Đức" in html  # kept, and escaped
    assert count(services, Appointment) == 0 and count(services, OutboxItem) == 0


def test_no_name_or_an_unknown_procedure_reshows_the_form(
    phone: FlaskClient, services: Services, clock: Clock
) -> None:
    status, html = book(phone, ten="  ")
    assert status == 400 and "Cần nhập họ và tên" in html
    status, html = book(phone, **{"thu-tuc": "9.999999"})
    assert status == 400 and "Không có thủ tục này" in html
    assert count(services, Appointment) == 0


@pytest.mark.parametrize(
    "slot_id", ["202611260815", "202611251900", "202612111900", "abc", "2026112619"]
)
def test_unknown_slots_are_explained(
    phone: FlaskClient, services: Services, clock: Clock, slot_id: str
) -> None:
    response = phone.get(f"/dat-lich/{slot_id}")
    assert response.status_code == 404 and "Không có giờ hỗ trợ này" in text(response)
    token = csrf_token_of(phone, "/dat-lich/huy")
    response = phone.post(
        f"/dat-lich/{slot_id}", data={"csrf_token": token, "ten": "Lan", "so": "0912345678"}
    )
    assert response.status_code == 404 and count(services, Appointment) == 0


def test_a_slot_that_started_while_the_form_was_open(
    phone: FlaskClient, services: Services, clock: Clock
) -> None:
    token = csrf_token_of(phone, f"/dat-lich/{EVENING}")
    clock.now = NOW + timedelta(hours=12, minutes=1)
    response = phone.post(
        f"/dat-lich/{EVENING}", data={"csrf_token": token, "ten": "Lan", "so": "0912345678"}
    )
    assert response.status_code == 410 and "Giờ này đã bắt đầu hoặc đã qua" in text(response)
    assert count(services, Appointment) == 0


def test_booking_needs_the_csrf_token(phone: FlaskClient, services: Services, clock: Clock) -> None:
    response = phone.post(f"/dat-lich/{EVENING}", data={"ten": "Lan", "so": "0912345678"})
    assert response.status_code in (400, 403)
    assert count(services, Appointment) == 0


def test_one_phone_cannot_fill_every_slot(
    phone: FlaskClient, app: Flask, services: Services, clock: Clock
) -> None:
    for _ in range(booking.BOOKINGS_PER_HOUR + 1):  # mistakes and repeats take no place
        assert book(phone, EVENING, so="0912")[0] == 400
    assert book(phone, EVENING)[0] == 200
    assert "Bạn đã đặt giờ này rồi" in book(phone, EVENING)[1]
    slots = [f"2026112{d}1930" for d in range(6, 10)] + [f"2026112{d}2000" for d in range(6, 10)]
    results = [book(phone, slot)[0] for slot in slots]
    left = booking.BOOKINGS_PER_HOUR - 1
    assert results[:left] == [200] * left
    assert set(results[left:]) == {429}
    assert count(services, Appointment) == booking.BOOKINGS_PER_HOUR
    other = app.test_client()
    other.environ_base.update(REMOTE_ADDR="10.42.0.99")
    assert book(other, slots[-1], so="0987654321")[0] == 200


def test_cancelling_with_the_code_and_digits(
    phone: FlaskClient, services: Services, clock: Clock
) -> None:
    code = code_in(book(phone)[1])
    form = text(phone.get(f"/dat-lich/huy?ma={code}"))
    assert f'value="{code}"' in form
    status, html = post(phone, "/dat-lich/huy", ma=code.lower(), so="5678")
    assert status == 200 and "Đã hủy lịch hẹn" in html and "Thứ Năm 26/11 · 19:00–19:30" in html
    with services.sessions() as session:
        states = set(session.scalars(select(OutboxItem.state)))
    assert states == {"cancelled"}
    status, html = post(phone, "/dat-lich/huy", ma=code, so="5678")
    assert "Lịch hẹn này đã được hủy trước đó" in html


def test_wrong_digits_and_a_wrong_code_get_the_same_answer(
    phone: FlaskClient, clock: Clock
) -> None:
    code = code_in(book(phone)[1])
    other = "LH-2222" if code != "LH-2222" else "LH-3333"
    answers = []
    for asked, digits in ((code, "0000"), (other, "5678")):
        status, html = post(phone, "/dat-lich/huy", ma=asked, so=digits)
        assert status == 200 and "Không tìm thấy lịch hẹn với mã và 4 số này" in html
        answers.append(html.replace(asked, "CODE").replace(digits, "DIGITS"))
    assert answers[0] == answers[1]


def test_cancel_form_mistakes(phone: FlaskClient, clock: Clock) -> None:
    assert "Hãy nhập mã đặt lịch" in post(phone, "/dat-lich/huy", ma="", so="5678")[1]
    assert "4 chữ số cuối" in post(phone, "/dat-lich/huy", ma="LH-7K3Q", so="56")[1]
    status, html = post(phone, "/dat-lich/huy", ma="XB1-K7M4QD", so="5678")
    assert status == 400 and "Mã đặt lịch có dạng LH-7K3Q" in html


def test_a_started_slot_cannot_be_cancelled(phone: FlaskClient, clock: Clock) -> None:
    code = code_in(book(phone)[1])
    clock.now = NOW + timedelta(hours=12)
    assert "không hủy được nữa" in post(phone, "/dat-lich/huy", ma=code, so="5678")[1]


def test_guessing_digits_is_limited(phone: FlaskClient, app: Flask, clock: Clock) -> None:
    app.extensions[booking.CANCEL_LIMIT] = RateLimiter(2, 600.0)
    for _ in range(2):
        assert post(phone, "/dat-lich/huy", ma="LH-7K3Q", so="1234")[0] == 200
    status, _html = post(phone, "/dat-lich/huy", ma="LH-7K3Q", so="1234")
    assert status == 429


def test_english_pages(phone: FlaskClient, clock: Clock) -> None:
    phone.get("/lang/en")
    html = text(phone.get("/dat-lich"))
    assert "Thursday 26 Nov" in html and "Book a help slot" in html and "places left: 3" in html
    form = text(phone.get(f"/dat-lich/{EVENING}"))
    assert "Thursday 26 Nov · 19:00–19:30" in form and "Birth registration" in form
    status, html = book(phone, so="0241 234 5678")
    assert status == 400 and "This is a landline" in html
    status, html = book(phone)
    assert status == 200 and "You will get a reminder by SMS" in html
