"""Status lookup by receipt code + last 4 digits: plain words, one answer for every miss, and a
limit per phone that a fake clock walks through."""

from __future__ import annotations

import random

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from appliance.domain.dossier import STATUSES, new_receipt_code
from appliance.ratelimit import RateLimiter
from appliance.services import Services
from appliance.store.tables import Dossier
from tests.web.conftest import PHONE, parse, text
from tests.web.test_auth import csrf_token_of
from tests.web.test_selfservice import file_dossier
from web import lookup
from web.wording import STATUS_LABELS, status_label

QUEUED = "Đã nộp tại thôn, chờ gửi lên xã"
NOT_FOUND = "Không tìm thấy hồ sơ với mã và 4 số này."
TOO_MANY = "Bạn đã tra cứu quá nhiều lần, vui lòng thử lại sau ít phút"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: Flask) -> FakeClock:
    fake = FakeClock()
    app.extensions[lookup.EXTENSION] = RateLimiter(lookup.LIMIT, lookup.WINDOW_S, clock=fake)
    return fake


def ask(client: FlaskClient, code: str, digits: str) -> tuple[int, str]:
    token = csrf_token_of(client, "/tra-cuu")
    response = client.post("/tra-cuu", data={"csrf_token": token, "ma": code, "so": digits})
    return response.status_code, text(response)


def set_status(services: Services, code: str, status: str) -> None:
    with services.sessions.begin() as session:
        session.execute(update(Dossier).where(Dossier.receipt_code == code).values(status=status))


def test_the_form_takes_the_code_from_the_receipts_qr(phone: FlaskClient) -> None:
    response = phone.get("/tra-cuu?ma=HB-K7M4QD")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    inputs = {v["name"]: v for tag, v in parse(text(response)).tags if tag == "input"}
    assert inputs["ma"]["value"] == "HB-K7M4QD"
    assert inputs["so"]["inputmode"] == "numeric" and "autofocus" in inputs["so"]
    assert "csrf_token" in inputs


def test_the_home_page_leads_to_the_lookup(client: FlaskClient) -> None:
    assert "/tra-cuu" in parse(text(client.get("/"))).urls


def test_the_right_code_and_digits_show_the_status_in_plain_words(phone: FlaskClient) -> None:
    _, code = file_dossier(phone)
    status, html = ask(phone, code, "5678")
    assert status == 200
    assert QUEUED in html and "Đăng ký khai sinh" in html and code in html
    status, html = ask(phone, f" {code.lower().replace('-', ' ')} ", "5678")  # as typed
    assert QUEUED in html


def test_english_readers_get_the_english_status(phone: FlaskClient) -> None:
    _, code = file_dossier(phone)
    phone.get("/lang/en")
    _status, html = ask(phone, code, "5678")
    assert "Filed at the hamlet, waiting to be sent to the commune" in html
    assert "Birth registration" in html


@pytest.mark.parametrize("status", ["received", "needs_more", "done", "rejected"])
def test_each_status_has_its_words(phone: FlaskClient, services: Services, status: str) -> None:
    _, code = file_dossier(phone)
    set_status(services, code, status)
    _status, html = ask(phone, code, "5678")
    assert STATUS_LABELS[status] in html


def test_every_status_has_a_label_in_both_languages(app: Flask) -> None:
    assert set(STATUS_LABELS) == set(STATUSES)
    with app.test_request_context("/?lang=en"):
        english = {status_label(s) for s in STATUSES}
    assert len(english) == len(STATUSES)
    assert not english & set(STATUS_LABELS.values())  # every one translated
    with app.test_request_context("/"):
        assert status_label("paused-upstream") == "paused-upstream"  # a newer status, as is


def test_a_wrong_code_and_wrong_digits_get_the_same_answer(phone: FlaskClient) -> None:
    _, code = file_dossier(phone)
    unknown = next(
        c for seed in range(9) if (c := new_receipt_code("HB", random.Random(seed))) != code
    )
    answers = []
    for asked, digits in ((code, "0000"), (unknown, "5678")):
        status, html = ask(phone, asked, digits)
        assert status == 200 and NOT_FOUND in html and QUEUED not in html
        answers.append(html.replace(asked, "CODE").replace(digits, "DIGITS"))
    assert answers[0] == answers[1]


def test_a_code_that_cannot_be_one_is_explained_without_a_lookup(
    app: Flask, phone: FlaskClient, clock: FakeClock
) -> None:
    for _ in range(lookup.LIMIT + 2):  # never counted: no lookup is made
        status, html = ask(phone, "HB-ABC", "5678")
        assert status == 400 and "Mã biên nhận có dạng XB1-K7M4QD" in html
    good = new_receipt_code("HB", random.Random(1))
    status, html = ask(phone, good[:-1] + ("2" if good[-1] != "2" else "3"), "5678")  # a typo
    assert status == 400 and "Mã biên nhận không đúng" in html
    status, html = ask(phone, "", "5678")
    assert status == 400 and "Hãy nhập mã biên nhận" in html
    status, html = ask(phone, "HB-K7M4QD", "56a8")
    assert status == 400 and "4 chữ số cuối" in html and 'value="56a8"' in html
    assert len(app.extensions[lookup.EXTENSION]) == 0  # none of these counted against the phone


def test_guessing_is_slowed_per_phone_and_lifted_after_the_window(
    app: Flask, phone: FlaskClient, clock: FakeClock
) -> None:
    _, code = file_dossier(phone)
    for digits in range(lookup.LIMIT):
        status, _html = ask(phone, code, f"{digits:04d}")
        assert status == 200
    token = csrf_token_of(phone, "/tra-cuu")
    response = phone.post("/tra-cuu", data={"csrf_token": token, "ma": code, "so": "5678"})
    assert response.status_code == 429 and TOO_MANY in text(response)
    assert QUEUED not in text(response)  # not even the right digits get through now
    assert 0 < int(response.headers["Retry-After"]) <= lookup.WINDOW_S
    neighbour = app.test_client()
    neighbour.environ_base.update(REMOTE_ADDR="10.42.0.77")
    assert QUEUED in ask(neighbour, code, "5678")[1]  # another phone is not held up
    clock.now += lookup.WINDOW_S + 1
    assert QUEUED in ask(phone, code, "5678")[1]
    assert phone.environ_base["REMOTE_ADDR"] == PHONE


def test_the_lookup_needs_the_token(phone: FlaskClient) -> None:
    csrf_token_of(phone, "/tra-cuu")
    response = phone.post("/tra-cuu", data={"ma": "HB-K7M4QD", "so": "5678"})
    assert response.status_code == 400
