"""A resident files from their own phone: start, name and phone, review, consent, submit.

The helpers at the top (start, fill_applicant, upload, bring, submit, file_dossier) are also used
by the paper, receipt and lookup tests.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from appliance.config import Settings
from appliance.domain.consent import AGREE
from appliance.domain.dossier import paper_key
from appliance.intake import Intake, notice
from appliance.samples.documents import make_photo
from appliance.services import Services, build
from tests.web.conftest import parse, text
from tests.web.test_auth import csrf_token_of
from web import create_app
from web.ownership import DRAFTS, KEPT_DRAFTS

BIRTH = "1.001193"  # papers: form, birth notice, parent's ID card (all "original"), marriage cert.
FRAME = (1200, 900)  # small photos keep the tests quick
NAME = "Nguyễn Văn An"
PHONE = "0912 345 678"


@functools.cache
def sample_photo() -> bytes:
    """A synthetic photo of a form on a table, made once per test run."""
    return make_photo(3, frame=FRAME).jpeg


@pytest.fixture
def photo() -> bytes:
    return sample_photo()


def start(client: FlaskClient, code: str = BIRTH) -> str:
    """Open the start screen, press "Bắt đầu"; the new draft's UUID."""
    response = client.post(
        f"/nop/{code}", data={"csrf_token": csrf_token_of(client, f"/nop/{code}")}
    )
    assert response.status_code == 303, text(response)
    found = re.fullmatch(r"/nop/hs/([0-9a-f-]{36})/nguoi-nop", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


def fill_applicant(
    client: FlaskClient, uuid: str, name: str = NAME, phone: str = PHONE
) -> TestResponse:
    path = f"/nop/hs/{uuid}/nguoi-nop"
    data = {"csrf_token": csrf_token_of(client, path), "name": name, "phone": phone}
    return client.post(path, data=data)


def upload(client: FlaskClient, uuid: str, number: int, *files: tuple[bytes, str]) -> TestResponse:
    path = f"/nop/hs/{uuid}/giay/{number}"
    return post_files(client, path + "/anh", path, files)


def post_files(
    client: FlaskClient, url: str, form_page: str, files: Iterable[tuple[bytes, str]]
) -> TestResponse:
    """A multipart POST as a phone sends it, encoded in memory (big files included)."""
    fields = MultiDict([("csrf_token", csrf_token_of(client, form_page))])
    for body, name in files:
        fields.add("photo", FileStorage(io.BytesIO(body), name, content_type="image/jpeg"))
    boundary, data = encode_multipart(fields)
    return client.post(url, data=data, content_type=f"multipart/form-data; boundary={boundary}")


def bring(client: FlaskClient, uuid: str, number: int, yes: bool = True) -> TestResponse:
    path = f"/nop/hs/{uuid}/giay/{number}"
    data = {"csrf_token": csrf_token_of(client, path), "bring": "yes" if yes else "no"}
    return client.post(path + "/ban-chinh", data=data)


def submit(client: FlaskClient, uuid: str, consent: bool = True) -> TestResponse:
    data = {"csrf_token": csrf_token_of(client, f"/nop/hs/{uuid}/xem-lai")}
    if consent:
        data["consent"] = "yes"
    return client.post(f"/nop/hs/{uuid}/nop", data=data)


def ready(client: FlaskClient) -> str:
    """A draft with an applicant and every required paper promised as an original."""
    uuid = start(client)
    assert fill_applicant(client, uuid).status_code == 303
    for number in (1, 2, 3):
        assert bring(client, uuid, number).status_code == 303
    return uuid


def file_dossier(client: FlaskClient) -> tuple[str, str]:
    """A submitted dossier: (uuid, receipt code)."""
    uuid = ready(client)
    response = submit(client, uuid)
    assert response.status_code == 303, text(response)
    return uuid, response.headers["Location"].rsplit("/", 1)[1]


def record(services: Services, uuid: str) -> object:
    return Intake(services).get(uuid)


def test_the_procedure_page_links_to_the_phone_flow_without_a_session(client: FlaskClient) -> None:
    for _ in range(2):  # rendered, then served from the page cache
        response = client.get(f"/p/{BIRTH}")
        links = [v for tag, v in parse(text(response)).tags if tag == "a"]
        assert any(v.get("href") == f"/nop/{BIRTH}" for v in links)
        assert "Nộp hồ sơ từ điện thoại" in text(response)
        assert "Set-Cookie" not in response.headers


def test_the_start_screen_says_what_to_bring_and_what_happens(phone: FlaskClient) -> None:
    response = phone.get(f"/nop/{BIRTH}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = text(response)
    assert "Giấy chứng sinh (bệnh viện hoặc trạm y tế cấp)" in html
    assert "Bạn nhận mã biên nhận" in html and "Bắt đầu" in html
    forms = [v for tag, v in parse(html).tags if tag == "form"]
    assert forms == [{"method": "post", "action": f"/nop/{BIRTH}"}]


def test_an_unknown_procedure_is_a_friendly_404(phone: FlaskClient) -> None:
    assert phone.get("/nop/9.999").status_code == 404
    token = csrf_token_of(phone, f"/nop/{BIRTH}")
    assert phone.post("/nop/9.999", data={"csrf_token": token}).status_code == 404


def test_starting_makes_a_phone_draft_kept_in_a_lasting_cookie(
    phone: FlaskClient, services: Services
) -> None:
    phone.get(f"/nop/{BIRTH}")
    token = csrf_token_of(phone, f"/nop/{BIRTH}")
    response = phone.post(f"/nop/{BIRTH}", data={"csrf_token": token})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Expires=" in cookie  # permanent: closing the browser does not lose the draft
    uuid = response.headers["Location"].split("/")[3]
    draft = Intake(services).get(uuid)
    assert (draft.channel, draft.status, draft.procedure_code) == ("phone", "draft", BIRTH)


def test_name_and_phone_are_saved_then_the_first_paper_comes(
    phone: FlaskClient, services: Services
) -> None:
    uuid = start(phone)
    response = fill_applicant(phone, uuid, phone="+84 912.345.678")
    assert response.headers["Location"] == f"/nop/hs/{uuid}/giay/1"
    draft = Intake(services).get(uuid)
    assert draft.applicant is not None and draft.applicant.full_name == NAME
    assert draft.phone == "0912345678"
    html = text(phone.get(f"/nop/hs/{uuid}/nguoi-nop"))  # back again: the values are there
    assert f'value="{NAME}"' in html and 'value="0912 345 678"' in html


def test_a_phone_number_with_letters_is_explained_and_the_typing_kept(
    phone: FlaskClient, services: Services
) -> None:
    uuid = start(phone)
    response = fill_applicant(phone, uuid, phone="09l2 345 67B")
    assert response.status_code == 400
    html = text(response)
    assert "Số điện thoại chỉ gồm chữ số" in html
    assert 'value="09l2 345 67B"' in html and f'value="{NAME}"' in html
    assert 'aria-invalid="true"' in html
    assert Intake(services).get(uuid).applicant is None  # nothing half-saved


def test_an_empty_name_and_a_bad_number_are_both_named(phone: FlaskClient) -> None:
    uuid = start(phone)
    html = text(fill_applicant(phone, uuid, name="   ", phone="0212 345 6789"))
    assert "Cần nhập họ và tên" in html and "số máy bàn" in html


def test_english_screens_show_the_english_half_of_a_message(phone: FlaskClient) -> None:
    uuid = start(phone)
    phone.get("/lang/en")
    html = text(fill_applicant(phone, uuid, phone="abc"))
    assert "A phone number has digits only" in html and "chỉ gồm chữ số" not in html


def test_html_in_the_name_is_kept_as_plain_text(phone: FlaskClient, services: Services) -> None:
    name = '<script>alert("x")</script> <b>An</b>'
    uuid = start(phone)
    assert fill_applicant(phone, uuid, name=name).status_code == 303
    stored = Intake(services).get(uuid).applicant
    assert stored is not None and stored.full_name == name
    for path in (f"/nop/hs/{uuid}/nguoi-nop", f"/nop/hs/{uuid}/xem-lai"):
        html = text(phone.get(path))
        assert "<script>alert" not in html and "<b>An" not in html
        assert "&lt;script&gt;" in html


def test_another_phone_can_neither_see_nor_change_a_draft(
    app: Flask, phone: FlaskClient, services: Services, photo: bytes
) -> None:
    uuid = start(phone)
    fill_applicant(phone, uuid)
    upload(phone, uuid, 4, (photo, "a.jpg"))
    page = Intake(services).get(uuid).pages[0]
    other = app.test_client()
    token = csrf_token_of(other, f"/nop/{BIRTH}")
    base = f"/nop/hs/{uuid}"
    for path in ("", "/nguoi-nop", "/giay/1", "/xem-lai", f"/page/{page.id}.jpg"):
        assert other.get(base + path).status_code == 404, path
    posts = {
        "/nguoi-nop": {"name": "Kẻ Lạ", "phone": "0987654321"},
        "/giay/1/ban-chinh": {"bring": "yes"},
        "/nop": {"consent": "yes"},
        f"/page/{page.id}/delete": {},
        f"/page/{page.id}/rotate": {"turns": "1"},
    }
    for path, data in posts.items():
        assert other.post(base + path, data={"csrf_token": token, **data}).status_code == 404, path
    after = Intake(services).get(uuid)
    assert after.applicant is not None and after.applicant.full_name == NAME
    assert after.pages == (page,) and not after.originals and after.status == "draft"


def test_a_made_up_draft_id_is_not_found(phone: FlaskClient) -> None:
    start(phone)
    assert phone.get("/nop/hs/00000000-0000-4000-8000-000000000000/xem-lai").status_code == 404
    assert phone.get("/nop/hs/not-a-uuid/xem-lai").status_code == 404


def test_the_draft_survives_a_reload_and_a_reboot_of_the_box(
    settings: Settings, phone: FlaskClient
) -> None:
    uuid = start(phone)
    fill_applicant(phone, uuid)
    bring(phone, uuid, 1)
    cookie = phone.get_cookie("session")
    assert cookie is not None
    rebooted = build(settings)  # new engine, new app: only the data dir and the cookie remain
    try:
        app = create_app(settings, rebooted)
        again = app.test_client()
        again.set_cookie("session", cookie.value)
        response = again.get(f"/nop/hs/{uuid}")
        assert response.headers["Location"] == f"/nop/hs/{uuid}/giay/2"  # the first paper left
        assert f'value="{NAME}"' in text(again.get(f"/nop/hs/{uuid}/nguoi-nop"))
    finally:
        rebooted.close()


def test_the_start_screen_offers_to_continue_an_unfinished_draft(phone: FlaskClient) -> None:
    uuid = start(phone)
    html = text(phone.get(f"/nop/{BIRTH}"))
    assert f'href="/nop/hs/{uuid}"' in html
    assert "Tiếp tục hồ sơ đang làm dở" in html and "Bắt đầu hồ sơ mới" in html
    assert f"/nop/hs/{uuid}" not in text(phone.get("/nop/1.000656"))  # another procedure


def test_resume_goes_to_the_first_step_still_to_do(phone: FlaskClient) -> None:
    uuid = start(phone)
    assert phone.get(f"/nop/hs/{uuid}").headers["Location"] == f"/nop/hs/{uuid}/nguoi-nop"
    fill_applicant(phone, uuid)
    assert phone.get(f"/nop/hs/{uuid}").headers["Location"] == f"/nop/hs/{uuid}/giay/1"
    for number in (1, 2, 3):
        bring(phone, uuid, number)
    assert phone.get(f"/nop/hs/{uuid}").headers["Location"] == f"/nop/hs/{uuid}/xem-lai"


def test_a_phone_remembers_only_its_latest_drafts(phone: FlaskClient) -> None:
    made = [start(phone) for _ in range(KEPT_DRAFTS + 1)]
    with phone.session_transaction() as session:
        assert [uuid for uuid, _code in session[DRAFTS]] == made[1:]
    assert phone.get(f"/nop/hs/{made[0]}/nguoi-nop").status_code == 404


def test_the_review_shows_the_notice_and_the_consent_box(
    phone: FlaskClient, settings: Settings
) -> None:
    uuid = ready(phone)
    html = text(phone.get(f"/nop/hs/{uuid}/xem-lai"))
    assert escape(notice(settings, "vi")) in html and AGREE.vi in html
    assert NAME in html and "0912 345 678" in html
    boxes = [v for tag, v in parse(html).tags if tag == "input" and v.get("type") == "checkbox"]
    assert boxes == [{"id": "consent", "name": "consent", "type": "checkbox", "value": "yes"}]
    english = text(phone.get(f"/nop/hs/{uuid}/xem-lai?lang=en"))
    assert escape(notice(settings, "en")) in english and AGREE.en in english


def test_without_consent_nothing_is_sent_and_nothing_lost(
    phone: FlaskClient, services: Services
) -> None:
    uuid = ready(phone)
    before = Intake(services).get(uuid)
    response = submit(phone, uuid, consent=False)
    assert response.status_code == 400
    assert "Hãy đánh dấu vào ô “Tôi đồng ý”" in text(response)
    after = Intake(services).get(uuid)
    assert after.status == "draft" and after.receipt_code is None
    assert (after.applicant, after.phone, after.originals) == (
        before.applicant,
        before.phone,
        before.originals,
    )


def test_missing_papers_are_named_and_block_submitting(
    phone: FlaskClient, services: Services
) -> None:
    uuid = start(phone)
    fill_applicant(phone, uuid)
    bring(phone, uuid, 1)
    review = text(phone.get(f"/nop/hs/{uuid}/xem-lai"))
    assert "Còn thiếu giấy tờ bắt buộc" in review
    assert f'href="/nop/hs/{uuid}/giay/2"' in review
    response = submit(phone, uuid)
    assert response.status_code == 400
    assert "Còn thiếu giấy tờ: Giấy chứng sinh" in text(response)
    assert Intake(services).get(uuid).status == "draft"


def test_submitting_queues_the_dossier_and_opens_its_receipt(
    phone: FlaskClient, services: Services
) -> None:
    uuid = ready(phone)
    response = submit(phone, uuid)
    code = response.headers["Location"].removeprefix("/bien-nhan/")
    done = Intake(services).get(uuid)
    assert (done.status, done.receipt_code, done.consent_version) == ("queued", code, "1")
    assert done.consent_at is not None and done.consent_at <= datetime.now(UTC)
    assert phone.get(response.headers["Location"]).status_code == 200


def test_a_submitted_draft_leads_to_its_receipt_and_is_never_sent_twice(
    phone: FlaskClient, services: Services
) -> None:
    uuid, code = file_dossier(phone)
    for path in ("", "/nguoi-nop", "/giay/1", "/xem-lai"):
        response = phone.get(f"/nop/hs/{uuid}{path}")
        assert response.headers["Location"] == f"/bien-nhan/{code}", path
    token = csrf_token_of(phone, f"/nop/{BIRTH}")  # a second tap on "Nộp", from an old tab
    again = phone.post(f"/nop/hs/{uuid}/nop", data={"csrf_token": token, "consent": "yes"})
    assert again.headers["Location"] == f"/bien-nhan/{code}"
    assert Intake(services).get(uuid).receipt_code == code


def test_every_post_of_the_flow_needs_the_token(phone: FlaskClient, services: Services) -> None:
    uuid = start(phone)
    fill_applicant(phone, uuid)
    posts = {
        f"/nop/{BIRTH}": {},
        f"/nop/hs/{uuid}/nguoi-nop": {"name": "Khác", "phone": "0987654321"},
        f"/nop/hs/{uuid}/giay/1/ban-chinh": {"bring": "yes"},
        f"/nop/hs/{uuid}/giay/1/anh": {},
        f"/nop/hs/{uuid}/nop": {"consent": "yes"},
    }
    for path, data in posts.items():
        response = phone.post(path, data=data)
        assert response.status_code == 400, path
        assert "Phiên làm việc đã hết hạn" in text(response)
    draft = Intake(services).get(uuid)
    assert draft.applicant is not None and draft.applicant.full_name == NAME
    assert not draft.originals and draft.status == "draft"
    with phone.session_transaction() as session:
        assert session[DRAFTS] == [[uuid, BIRTH]]


def test_the_papers_named_in_the_checklist_are_the_procedures(services: Services) -> None:
    """The screens number papers in catalog order; the helpers above rely on that order."""
    papers = Intake(services).procedure(BIRTH).papers
    assert [p.required for p in papers] == [True, True, True, False]
    assert "Căn cước" in paper_key(papers[2])
