"""Rating the service: the last 4 digits first, then five big choices; only for a returned
dossier, once; the channel from the link; the status page offers it; limited like the lookup."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from appliance.ratelimit import RateLimiter
from appliance.services import Services
from appliance.store.tables import Feedback
from tests.web.conftest import parse, text
from tests.web.test_auth import csrf_token_of
from tests.web.test_lookup import ask, set_status
from tests.web.test_selfservice import file_dossier
from web import lookup

THANKS = "Cảm ơn bạn đã đánh giá!"


@pytest.fixture
def returned(phone: FlaskClient, services: Services) -> str:
    _uuid, code = file_dossier(phone)
    set_status(services, code, "returned")
    return code


def send(client: FlaskClient, code: str, **data: str) -> tuple[int, str]:
    token = csrf_token_of(client, f"/danh-gia/{code}")
    response = client.post(f"/danh-gia/{code}", data={"csrf_token": token, **data})
    return response.status_code, text(response)


def stored(services: Services) -> list[tuple[int, str | None, str]]:
    with services.sessions() as session:
        rows = session.scalars(select(Feedback))
        return [(row.rating, row.comment, row.channel) for row in rows]


def test_digits_first_then_five_choices_with_words(phone: FlaskClient, returned: str) -> None:
    page = text(phone.get(f"/danh-gia/{returned}"))
    assert 'name="so"' in page and 'name="diem"' not in page
    status, html = send(phone, returned, so="5678")
    assert status == 200
    radios = [v for tag, v in parse(html).tags if tag == "input" and v.get("type") == "radio"]
    assert sorted(str(v["value"]) for v in radios) == ["1", "2", "3", "4", "5"]
    assert all(v["name"] == "diem" and "required" in v for v in radios)
    for words in (
        "Rất không hài lòng",
        "Không hài lòng",
        "Bình thường",
        "Hài lòng",
        "Rất hài lòng",
    ):
        assert words in html
    assert "<script" not in html


def test_a_rating_is_recorded_once(phone: FlaskClient, services: Services, returned: str) -> None:
    status, html = send(phone, returned, so="5678", diem="4", **{"gop-y": " Cán bộ nhiệt tình "})
    assert status == 200 and THANKS in html
    assert stored(services) == [(4, "Cán bộ nhiệt tình", "status")]
    status, html = send(phone, returned, so="5678", diem="1")
    assert "Bạn đã đánh giá rồi. Cảm ơn!" in html
    assert "Bạn đã đánh giá rồi. Cảm ơn!" in send(phone, returned, so="5678")[1]
    assert stored(services) == [(4, "Cán bộ nhiệt tình", "status")]


def test_the_sms_link_records_its_channel(
    phone: FlaskClient, services: Services, returned: str
) -> None:
    page = text(phone.get(f"/danh-gia/{returned.lower()}?tu=sms"))
    assert 'name="tu" value="sms"' in page
    send(phone, returned, so="5678", tu="sms", diem="5")
    assert stored(services) == [(5, None, "sms")]


@pytest.mark.parametrize("rating", ["0", "6", "tốt", ""])
def test_a_rating_out_of_range_is_explained(
    phone: FlaskClient, services: Services, returned: str, rating: str
) -> None:
    status, html = send(phone, returned, so="5678", diem=rating, **{"gop-y": "giữ lại"})
    assert status == 400 and "Hãy chọn một mức từ 1 đến 5" in html and "giữ lại" in html
    assert stored(services) == []


def test_a_long_comment_is_refused(phone: FlaskClient, services: Services, returned: str) -> None:
    status, html = send(phone, returned, so="5678", diem="3", **{"gop-y": "x" * 1001})
    assert status == 400 and "Góp ý dài quá 1000 ký tự" in html
    assert stored(services) == []


def test_not_returned_yet_is_a_kind_message(phone: FlaskClient, services: Services) -> None:
    _uuid, code = file_dossier(phone)
    set_status(services, code, "done")
    status, html = send(phone, code, so="5678", diem="5")
    assert status == 200 and "sau khi đã nhận kết quả" in html and 'name="diem"' not in html
    assert stored(services) == []


def test_wrong_digits_find_nothing(phone: FlaskClient, services: Services, returned: str) -> None:
    status, html = send(phone, returned, so="0000", diem="5")
    assert status == 200 and "Không tìm thấy hồ sơ với mã và 4 số này" in html
    assert send(phone, returned, so="12")[0] == 400
    status, html = send(phone, "HB-ABC", so="5678")
    assert status == 404 and "Mã biên nhận có dạng" in html
    assert stored(services) == []


def test_guessing_shares_the_lookups_limit(app: Flask, phone: FlaskClient, returned: str) -> None:
    app.extensions[lookup.EXTENSION] = RateLimiter(2, 600.0)
    assert send(phone, returned, so="0000")[0] == 200
    ask(phone, returned, "0000")
    status, _html = send(phone, returned, so="5678")
    assert status == 429


def test_rating_needs_the_csrf_token(phone: FlaskClient, services: Services, returned: str) -> None:
    response = phone.post(f"/danh-gia/{returned}", data={"so": "5678", "diem": "5"})
    assert response.status_code in (400, 403) and stored(services) == []


def test_the_status_page_offers_rating_until_it_is_done(
    phone: FlaskClient, services: Services
) -> None:
    _uuid, code = file_dossier(phone)
    set_status(services, code, "done")
    assert f"/danh-gia/{code}" not in parse(ask(phone, code, "5678")[1]).urls
    set_status(services, code, "returned")
    _status, html = ask(phone, code, "5678")
    assert f"/danh-gia/{code}" in parse(html).urls and "Đánh giá dịch vụ" in html
    send(phone, code, so="5678", diem="5")
    assert f"/danh-gia/{code}" not in parse(ask(phone, code, "5678")[1]).urls


def test_english(phone: FlaskClient, returned: str) -> None:
    phone.get("/lang/en")
    _status, html = send(phone, returned, so="5678")
    assert "Rate the service" in html and "Very satisfied" in html
    _status, html = send(phone, returned, so="5678", diem="9")
    assert "Choose a rating from 1 to 5" in html
