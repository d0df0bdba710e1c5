"""The technician's SMS page: modem state, templates with their parts, sent and stopped messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.domain.notify import BUILTIN
from appliance.hardware.modem_api import ModemStatus
from appliance.relay.modem_status import write_status
from appliance.services import Services
from appliance.store.sms_queue import queue_sms
from appliance.store.sms_repo import SmsRepo
from tests.web.conftest import text
from tests.web.test_auth import add_user, csrf_token_of, log_in
from tests.web.test_selfservice import file_dossier

PAGE = "/tech/sms/"


def post(client: FlaskClient, path: str, **form: str) -> tuple[int, str]:
    response = client.post(path, data={"csrf_token": csrf_token_of(client, PAGE), **form})
    return response.status_code, text(response)


def queue(services: Services, key: str, to: str = "0912345678") -> int:
    now = datetime.now(UTC)
    with services.sessions.begin() as session:
        queue_sms(
            session,
            key=key,
            event="receipt",
            to=to,
            params={"code": "XB1-4K7P", "procedure": "1.001193", "date": None},
            lang="vi",
            now=now,
        )
    return next(item.id for item in SmsRepo(services.sessions).due(now) if item.key == key)


def test_the_modem_state_is_told_in_plain_words_with_its_age(
    technician: FlaskClient, services: Services
) -> None:
    html = text(technician.get(PAGE))
    assert "Chưa có thông tin modem" in html and "Chưa cấu hình modem" in html
    checked = datetime.now(UTC) - timedelta(seconds=30)
    status = ModemStatus("ready", "home", -71, "Viettel")
    write_status(services.settings.runtime_dir, status, checked, None)
    html = text(technician.get(PAGE))
    assert "sẵn sàng / ready" in html and "đã vào mạng" in html and "Viettel" in html
    assert "mạnh / strong (-71 dBm)" in html
    assert re.search(r"\d+ giây trước", html) and "relay có thể đã dừng" not in html
    write_status(services.settings.runtime_dir, None, checked - timedelta(hours=1), "Chưa lắp SIM")
    html = text(technician.get(PAGE))
    assert "Chưa lắp SIM" in html and "relay có thể đã dừng" in html


def test_every_template_is_shown_with_its_preview_and_parts(technician: FlaskClient) -> None:
    html = text(technician.get(PAGE))
    assert html.count("<textarea") == len(BUILTIN)
    assert "Hộp hỗ trợ Thôn Đông: đã nhận hồ sơ Đăng ký khai sinh, mã TD-7K3M." in html
    assert "2 tin nhắn · Unicode (có dấu)" in html


def test_a_saved_wording_is_used_and_reset_brings_back_the_builtin(
    technician: FlaskClient, services: Services
) -> None:
    status, _ = post(
        technician, "/tech/sms/mau/receipt/vi", text="Ho so {code} da nhan", action="save"
    )
    assert status == 303
    assert SmsRepo(services.sessions).templates() == {("receipt", "vi"): "Ho so {code} da nhan"}
    html = text(technician.get(PAGE))
    assert "Ho so TD-7K3M da nhan" in html and "1 tin nhắn · không dấu" in html
    status, _ = post(technician, "/tech/sms/mau/receipt/vi/mac-dinh")
    assert status == 303 and SmsRepo(services.sessions).templates() == {}


def test_a_broken_wording_is_refused_next_to_its_field_and_nothing_is_saved(
    technician: FlaskClient, services: Services
) -> None:
    post(technician, "/tech/sms/mau/done/en", text="Ready {code}", action="save")
    status, html = post(technician, "/tech/sms/mau/done/en", text="Ready {ma} {code", action="save")
    assert status == 422
    assert "Chưa lưu / Not saved" in html and "ngoặc" in html
    assert "Ready {ma} {code</textarea>" in html  # kept in the field to be fixed
    assert SmsRepo(services.sessions).templates() == {("done", "en"): "Ready {code}"}
    status, html = post(technician, "/tech/sms/mau/done/en", text="Ready {ma}", action="save")
    assert status == 422 and "{ma}" in html and "{link}" in html  # says which, and what is allowed


def test_preview_shows_a_wording_without_saving_it(
    technician: FlaskClient, services: Services
) -> None:
    status, html = post(technician, "/tech/sms/mau/booking/vi", text="Hẹn {time}", action="preview")
    assert status == 200 and "Hẹn 19:30 Thứ Năm 26/11" in html
    assert SmsRepo(services.sessions).templates() == {}


def test_unknown_event_or_language_is_not_found(technician: FlaskClient) -> None:
    assert post(technician, "/tech/sms/mau/birthday/vi", text="x")[0] == 404
    assert post(technician, "/tech/sms/mau/receipt/fr", text="x")[0] == 404


def test_sent_waiting_and_stopped_messages_are_listed_with_masked_numbers(
    technician: FlaskClient, services: Services
) -> None:
    repo = SmsRepo(services.sessions)
    now = datetime.now(UTC)
    sent, waiting, stopped = queue(services, "a"), queue(services, "b"), queue(services, "c")
    for item_id in (sent, stopped):
        repo.claim(item_id, now)
    done = repo.get(sent)
    assert done is not None
    repo.delivered(done, now, "Hộp hỗ trợ: đã nhận hồ sơ XB1-4K7P", 1, [3])
    repo.unsure(stopped, now, "Modem ngừng giữa lúc gửi / The modem stopped mid-send")
    html = text(technician.get(PAGE))
    assert "0912 *** 678" in html and "0912345678" not in html
    assert "Hộp hỗ trợ: đã nhận hồ sơ XB1-4K7P" in html
    assert "Modem ngừng giữa lúc gửi" in html and "Chưa rõ" in html
    assert f"/tech/sms/gui-lai/{stopped}" in html
    assert f"/tech/sms/gui-lai/{waiting}" not in html
    status, _ = post(technician, f"/tech/sms/gui-lai/{stopped}")
    assert status == 303
    again = repo.get(stopped)
    assert again is not None and again.state == "pending"
    assert post(technician, f"/tech/sms/gui-lai/{sent}")[0] == 409  # a sent one is never resent


def test_the_technician_pages_link_to_it(technician: FlaskClient) -> None:
    for page in ("/tech/posters", "/tech/outbox"):
        assert 'href="/tech/sms/"' in text(technician.get(page))


def test_volunteers_and_visitors_are_kept_out(app: Flask, services: Services) -> None:
    assert app.test_client().get(PAGE).headers["Location"].startswith("/login?next=")
    volunteer = app.test_client()
    add_user(services, "lan", "volunteer")
    log_in(volunteer, "lan")
    assert volunteer.get(PAGE).status_code == 403


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_phone_dossier_gets_its_receipt_sms_in_the_residents_language(
    phone: FlaskClient, services: Services, lang: str
) -> None:
    phone.set_cookie("lang", lang)  # the resident's choice of language
    uuid, code = file_dossier(phone)
    [item] = SmsRepo(services.sessions).due(datetime.now(UTC) + timedelta(seconds=1))
    assert (item.key, item.lang, item.params["code"]) == (f"receipt:{uuid}", lang, code)
