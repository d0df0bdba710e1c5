"""Officer accounts and the login in front of every inbox and fleet page, on SQLite and PostgreSQL.

`log_in` and `csrf_of` are shared with the inbox and fleet tests.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid as uuids
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from appliance.domain.credentials import AccountError, needs_rehash, verify_password
from tests.support.upstream_server import FakeClock
from tests.web.test_css import colours, contrast, luminance
from upstream import officer_ui
from upstream.app import Upstream
from upstream.officers import add_officer
from upstream.tables import Officer

NAME, PASSWORD = "canbo.mot-cua", "mat-khau-can-bo"
HTML_PAGES = ("officers", "inbox", "fleet", "pages_view")  # blueprints that must need a login


def sessions_of(app: Flask) -> Upstream:
    found: Upstream = app.extensions["upstream"]
    return found


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found[1]


def log_in(
    client: FlaskClient, name: str = NAME, password: str = PASSWORD, target: str | None = None
) -> TestResponse:
    """Open the login page and post its form, as a browser would."""
    form = client.get("/dang-nhap" if target is None else f"/dang-nhap?next={target}")
    data = {"name": name, "password": password, "csrf_token": csrf_of(form.text)}
    if target is not None:
        data["next"] = target
    return client.post("/dang-nhap", data=data)


def officer_client(app: Flask, client: FlaskClient) -> FlaskClient:
    """`client` logged in as a new officer."""
    add_officer(sessions_of(app).sessions, NAME, PASSWORD)
    assert log_in(client).status_code == 303
    return client


def problem(response: TestResponse) -> str:
    found = re.search(r'class="problem"[^>]*>([^<]*)<', response.text)
    assert found, f"no message on the page ({response.status_code})"
    return found[1]


@pytest.fixture
def app_sessions(upstream_app: Flask) -> Upstream:
    return sessions_of(upstream_app)


def test_add_officer_keeps_only_a_hash(app_sessions: Upstream) -> None:
    add_officer(app_sessions.sessions, NAME, PASSWORD)
    with app_sessions.sessions() as db:
        stored = db.scalars(select(Officer)).one()
    assert stored.name == NAME and not stored.disabled
    assert PASSWORD not in stored.password_hash
    assert verify_password(PASSWORD, stored.password_hash)


@pytest.mark.parametrize(
    ("name", "password", "said"),
    [
        ("", PASSWORD, "không được để trống"),
        ("can bo", PASSWORD, "không có dấu cách"),
        (NAME, "ngan", "ít nhất 8 ký tự"),
        ("canbo1234", "CANBO1234", "trùng với tên tài khoản"),
    ],
)
def test_add_officer_refuses_bad_names_and_passwords(
    app_sessions: Upstream, name: str, password: str, said: str
) -> None:
    with pytest.raises(AccountError, match=said):
        add_officer(app_sessions.sessions, name, password)
    with app_sessions.sessions() as db:
        assert db.scalars(select(Officer)).all() == []


@pytest.mark.parametrize("again", [NAME, NAME.upper()])
def test_add_officer_refuses_a_taken_name(app_sessions: Upstream, again: str) -> None:
    add_officer(app_sessions.sessions, NAME, PASSWORD)
    with pytest.raises(AccountError, match=r"đã có / .* already exists"):
        add_officer(app_sessions.sessions, again, "mot-mat-khau-khac")


def test_login_goes_back_to_the_page_asked_for(
    upstream_app: Flask, upstream_client: FlaskClient
) -> None:
    add_officer(sessions_of(upstream_app).sessions, NAME, PASSWORD)
    asked = upstream_client.get("/thiet-bi")
    assert asked.status_code == 303
    assert asked.headers["Location"] == "/dang-nhap?next=/thiet-bi"
    answer = log_in(upstream_client, target="/thiet-bi")
    assert answer.status_code == 303 and answer.headers["Location"] == "/thiet-bi"
    page = upstream_client.get("/thiet-bi")
    assert page.status_code == 200 and NAME in page.text
    assert page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_login_never_sends_the_officer_to_another_site(
    upstream_app: Flask, upstream_client: FlaskClient, target: str
) -> None:
    add_officer(sessions_of(upstream_app).sessions, NAME, PASSWORD)
    answer = log_in(upstream_client, target=target)
    assert answer.status_code == 303 and answer.headers["Location"] == "/ho-so"


@pytest.mark.parametrize(("name", "password"), [(NAME, "sai-mat-khau"), ("ai-do", PASSWORD)])
def test_wrong_name_or_password_is_refused_alike(
    upstream_app: Flask, upstream_client: FlaskClient, name: str, password: str
) -> None:
    add_officer(sessions_of(upstream_app).sessions, NAME, PASSWORD)
    answer = log_in(upstream_client, name, password)
    assert answer.status_code == 401
    assert (
        problem(answer) == "Tên tài khoản hoặc mật khẩu không đúng / Wrong account name or password"
    )
    assert upstream_client.get("/ho-so").status_code == 303


def test_the_name_may_be_typed_in_another_case(
    upstream_app: Flask, upstream_client: FlaskClient
) -> None:
    add_officer(sessions_of(upstream_app).sessions, NAME, PASSWORD)
    assert log_in(upstream_client, f"  {NAME.upper()} ").status_code == 303
    assert NAME in upstream_client.get("/ho-so").text


def test_too_many_failures_pause_the_login(
    upstream_app: Flask, upstream_client: FlaskClient, clock: FakeClock
) -> None:
    add_officer(sessions_of(upstream_app).sessions, NAME, PASSWORD)
    for _ in range(5):
        assert log_in(upstream_client, NAME, "doan-mo-mat-khau").status_code == 401
    paused = log_in(upstream_client)  # even the right password waits
    assert paused.status_code == 429
    assert "thử lại sau 5 phút" in paused.text and "try again in 5 minutes" in paused.text
    assert int(paused.headers["Retry-After"]) == 300
    assert upstream_client.get("/ho-so").status_code == 303
    clock.advance(301)
    assert log_in(upstream_client).status_code == 303


def test_a_disabled_officer_is_shut_out_at_once(
    upstream_app: Flask, upstream_client: FlaskClient
) -> None:
    officer_client(upstream_app, upstream_client)
    assert upstream_client.get("/ho-so").status_code == 200
    with sessions_of(upstream_app).sessions.begin() as db:
        db.execute(update(Officer).values(disabled=True))
    assert upstream_client.get("/ho-so").status_code == 303
    again = log_in(upstream_client)
    assert again.status_code == 403 and "đã bị khóa" in problem(again)


def test_a_session_lasts_a_working_day(
    upstream_app: Flask, upstream_client: FlaskClient, clock: FakeClock
) -> None:
    officer_client(upstream_app, upstream_client)
    clock.advance(12 * 3600 - 60)
    assert upstream_client.get("/ho-so").status_code == 200
    clock.advance(120)
    assert upstream_client.get("/ho-so").status_code == 303


def test_logout_ends_the_session(upstream_app: Flask, upstream_client: FlaskClient) -> None:
    officer_client(upstream_app, upstream_client)
    token = csrf_of(upstream_client.get("/ho-so").text)
    refused = upstream_client.post("/dang-xuat")  # no token: another site cannot log one out
    assert refused.status_code == 400
    assert upstream_client.get("/ho-so").status_code == 200
    answer = upstream_client.post("/dang-xuat", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["Location"] == "/dang-nhap"
    assert upstream_client.get("/ho-so").status_code == 303


def test_an_old_hash_is_renewed_at_login(upstream_app: Flask, upstream_client: FlaskClient) -> None:
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**12, r=8, p=1, dklen=32)
    old = f"scrypt$4096$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
    add_officer(sessions_of(upstream_app).sessions, NAME, PASSWORD)
    with sessions_of(upstream_app).sessions.begin() as db:
        db.execute(update(Officer).values(password_hash=old))
    assert log_in(upstream_client).status_code == 303
    with sessions_of(upstream_app).sessions() as db:
        renewed = db.scalars(select(Officer.password_hash)).one()
    assert renewed != old and not needs_rehash(renewed)
    assert verify_password(PASSWORD, renewed)


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_a_login_form_without_the_csrf_token_is_refused(
    upstream_app: Flask, upstream_client: FlaskClient, token: str | None
) -> None:
    add_officer(sessions_of(upstream_app).sessions, NAME, PASSWORD)
    upstream_client.get("/dang-nhap")
    data = {"name": NAME, "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    answer = upstream_client.post("/dang-nhap", data=data)
    assert answer.status_code == 400
    assert "Phiên làm việc đã hết hạn / The session has expired" in answer.text
    assert upstream_client.get("/ho-so").status_code == 303


def test_every_officer_page_needs_a_login(
    upstream_app: Flask, upstream_client: FlaskClient
) -> None:
    """Each GET route of the officers' blueprints, found in the app's URL map (new ones too)."""
    sample = {"uuid": uuids.uuid4(), "position": 1}
    urls = []
    with upstream_app.test_request_context():
        for rule in upstream_app.url_map.iter_rules():
            blueprint = rule.endpoint.partition(".")[0]
            wanted = blueprint in HTML_PAGES and rule.endpoint != "officers.login"
            if wanted and "GET" in (rule.methods or ()):
                urls.append(rule.build({k: sample[k] for k in rule.arguments})[1])
    assert len(urls) >= 6, urls
    for url in urls:
        answer = upstream_client.get(url)
        assert answer.status_code == 303, url
        assert answer.headers["Location"].startswith("/dang-nhap?next=/"), url


def test_pages_run_no_scripts_and_are_not_framed(upstream_client: FlaskClient) -> None:
    answer = upstream_client.get("/dang-nhap")
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script" not in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in answer.text
    with upstream_client.get("/static/officer.css") as css:
        assert css.status_code == 200 and css.mimetype == "text/css"
        assert "font-size:1.125rem" in css.text  # 18 px type for an office screen


def test_every_text_colour_meets_aa_on_every_background() -> None:
    """Dark text on each light background, light text on each dark one: any pairing the pages
    may make, not only the ones a single rule declares."""
    css = (Path(officer_ui.__file__).parent / "static" / "officer.css").read_text("utf-8")
    texts = set(colours(" ".join(re.findall(r"(?<![-\w])color:([^;}]+)", css))))
    grounds = set(colours(" ".join(re.findall(r"background(?:-color)?:([^;}]+)", css))))
    assert len(texts) >= 4 and len(grounds) >= 4
    for text in texts:
        for ground in grounds:
            if (luminance(text) < 0.5) != (luminance(ground) < 0.5):
                assert contrast(text, ground) >= 4.5, (text, ground)
