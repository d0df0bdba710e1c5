"""Volunteer and technician login: the form, the cookie, throttling, fixation, `next`, logout.

`add_user`, `csrf_token_of` and `log_in` are also used by the other web tests that need a login.
"""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from appliance import accounts
from appliance.accounts import LoginThrottle, hash_password, verify_password
from appliance.domain import credentials
from appliance.services import Services
from appliance.store.tables import User
from appliance.store.users import UserRepo
from tests.web.conftest import PHONE, parse, text
from web import auth

PASSWORD = "mat-khau-dai-du"
WRONG = "sai-mat-khau-roi"
LOCKED = "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau 5 phút."
REFUSED = "Tên tài khoản hoặc mật khẩu không đúng."


def add_user(
    services: Services, name: str = "lan", role: str = "volunteer", password: str = PASSWORD
) -> None:
    UserRepo(services.sessions).add(name, role, hash_password(password))


def csrf_token_of(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token in the form of the page at `path`, as a browser would submit it."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', text(client.get(path)))
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def log_in(client: FlaskClient, name: str, password: str = PASSWORD, **extra: str) -> TestResponse:
    data = {"name": name, "password": password, "csrf_token": csrf_token_of(client), **extra}
    return client.post("/login", data=data)


def session_cookie(response: TestResponse) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: Flask) -> FakeClock:
    fake = FakeClock()
    app.extensions[auth.EXTENSION] = LoginThrottle(fake)
    return fake


def test_login_page_is_a_plain_accessible_form(phone: FlaskClient) -> None:
    response = phone.get("/login")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = text(response)
    assert "<script" not in html
    assert "Đăng nhập" in html and "Người dân không cần đăng nhập" in html
    tags = parse(html).tags
    inputs = {v.get("name"): v for tag, v in tags if tag == "input"}
    assert inputs["name"]["autocomplete"] == "username"
    assert inputs["password"]["type"] == "password"
    assert inputs["password"]["autocomplete"] == "current-password"
    assert inputs["csrf_token"]["type"] == "hidden" and inputs["csrf_token"]["value"]
    labelled = {v.get("for") for tag, v in tags if tag == "label"}
    assert {inputs["name"]["id"], inputs["password"]["id"]} <= labelled
    forms = [v for tag, v in tags if tag == "form"]
    assert {"class": "login", "action": "/login", "method": "post"} in forms


def test_login_page_in_english(phone: FlaskClient) -> None:
    html = text(phone.get("/login?lang=en"))
    assert "Log in" in html and "Account name" in html and "Password" in html


@pytest.mark.parametrize(
    ("role", "home"), [("volunteer", "/station"), ("technician", "/tech/posters")]
)
def test_login_goes_to_the_roles_page(
    phone: FlaskClient, services: Services, role: str, home: str
) -> None:
    add_user(services, "lan", role)
    response = log_in(phone, "lan")
    assert response.status_code == 303
    assert response.headers["Location"] == home
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(phone: FlaskClient, services: Services) -> None:
    add_user(services)
    cookie = session_cookie(log_in(phone, "lan"))
    flags = [part.strip() for part in cookie.split(";")]
    assert "HttpOnly" in flags
    assert "SameSite=Lax" in flags
    assert "Path=/" in flags
    assert "Secure" not in flags  # plain HTTP on the hotspot: a Secure cookie would never return
    assert any(flag.startswith("Expires=") for flag in flags)


def test_technician_reaches_the_posters_after_login(phone: FlaskClient, services: Services) -> None:
    add_user(services, "kt", "technician")
    assert phone.get("/tech/posters").status_code == 303
    log_in(phone, "kt")
    assert phone.get("/tech/posters").status_code == 200


def test_anonymous_is_sent_to_login_and_back(phone: FlaskClient, services: Services) -> None:
    add_user(services, "kt", "technician")
    response = phone.get("/tech/posters?x=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/tech/posters?x%3D1"
    form = text(phone.get(response.headers["Location"]))
    assert 'name="next" value="/tech/posters?x=1"' in form
    done = log_in(phone, "kt", next="/tech/posters?x=1")
    assert done.headers["Location"] == "/tech/posters?x=1"


@pytest.mark.parametrize("name", ["lan", "nobody"])
def test_wrong_password_or_unknown_name_get_the_same_answer(
    phone: FlaskClient, services: Services, name: str
) -> None:
    add_user(services)
    response = log_in(phone, name, WRONG)
    assert response.status_code == 200
    html = text(response)
    assert REFUSED in html and 'role="alert"' in html
    assert f'value="{name}"' in html  # the name stays typed in
    assert phone.get("/tech/posters").status_code == 303


def test_unknown_name_costs_a_password_check(
    phone: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []

    def spy(password: str, stored: str) -> bool:
        checked.append(stored)
        return verify_password(password, stored)

    monkeypatch.setattr(accounts, "verify_password", spy)
    log_in(phone, "nobody", WRONG)
    assert checked == [accounts.DUMMY_HASH]


def test_disabled_account_cannot_log_in(phone: FlaskClient, services: Services) -> None:
    add_user(services, "kt", "technician")
    with services.sessions.begin() as session:
        session.execute(update(User).where(User.name == "kt").values(disabled=True))
    response = log_in(phone, "kt")
    assert response.status_code == 200 and REFUSED in text(response)
    assert phone.get("/tech/posters").status_code == 303


def test_disabling_an_account_ends_its_session(phone: FlaskClient, services: Services) -> None:
    add_user(services, "kt", "technician")
    log_in(phone, "kt")
    assert phone.get("/tech/posters").status_code == 200
    with services.sessions.begin() as session:
        session.execute(update(User).where(User.name == "kt").values(disabled=True))
    assert phone.get("/tech/posters").status_code == 303


def test_a_changed_role_needs_a_new_login(phone: FlaskClient, services: Services) -> None:
    add_user(services, "kt", "technician")
    log_in(phone, "kt")
    with services.sessions.begin() as session:
        session.execute(update(User).where(User.name == "kt").values(role="volunteer"))
    assert phone.get("/tech/posters").status_code == 303


def test_a_volunteer_is_refused_technician_pages(phone: FlaskClient, services: Services) -> None:
    add_user(services, "lan", "volunteer")
    log_in(phone, "lan")
    response = phone.get("/tech/posters")
    assert response.status_code == 403
    assert "Tài khoản này không mở được trang này" in text(response)
    assert phone.get("/tech/posters/hotspot.pdf").status_code == 403


def test_login_regenerates_the_session(phone: FlaskClient, services: Services) -> None:
    """Session fixation: nothing from before the login survives it, the CSRF token included."""
    add_user(services, "kt", "technician")
    before = csrf_token_of(phone)
    with phone.session_transaction() as planted:
        planted["user"] = "kt"  # without the login time and role it is worth nothing
        planted["planted"] = "by someone else"
    old_cookie = phone.get_cookie("session")
    assert old_cookie is not None
    assert phone.get("/tech/posters").status_code == 303
    log_in(phone, "kt")
    with phone.session_transaction() as fresh:
        assert "planted" not in fresh
        assert fresh["user"] == "kt" and fresh["role"] == "technician"
    assert csrf_token_of(phone) != before
    new_cookie = phone.get_cookie("session")
    assert new_cookie is not None and new_cookie.value != old_cookie.value
    phone.set_cookie("session", old_cookie.value)
    assert phone.get("/tech/posters").status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "http://evil.example/",
        "https:evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/",
        "/login",
        "/logout",
    ],
)
def test_next_never_leaves_the_box(phone: FlaskClient, services: Services, target: str) -> None:
    add_user(services, "kt", "technician")
    response = log_in(phone, "kt", next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/tech/posters"


def test_logout(phone: FlaskClient, services: Services) -> None:
    add_user(services, "kt", "technician")
    log_in(phone, "kt")
    token = csrf_token_of(phone)
    assert 'action="/logout"' in text(phone.get("/login"))  # the login page offers it
    response = phone.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "session=;" in response.headers["Set-Cookie"]  # the cookie is deleted
    assert phone.get("/tech/posters").status_code == 303


def test_logout_needs_the_token(phone: FlaskClient, services: Services) -> None:
    add_user(services, "kt", "technician")
    log_in(phone, "kt")
    assert phone.post("/logout").status_code == 400
    assert phone.get("/tech/posters").status_code == 200


def test_a_login_lasts_twelve_hours(phone: FlaskClient, services: Services) -> None:
    add_user(services, "kt", "technician")
    log_in(phone, "kt")
    with phone.session_transaction() as session:
        session["since"] = int(time.time()) - 11 * 3600
    assert phone.get("/tech/posters").status_code == 200
    with phone.session_transaction() as session:
        session["since"] = int(time.time()) - 12 * 3600 - 60
    assert phone.get("/tech/posters").status_code == 303


def test_five_failures_lock_the_account(
    phone: FlaskClient, services: Services, clock: FakeClock
) -> None:
    add_user(services, "kt", "technician")
    for _ in range(5):
        assert log_in(phone, "kt", WRONG).status_code == 200
    locked = log_in(phone, "kt")  # the right password, but too late
    assert locked.status_code == 429
    assert LOCKED in text(locked)
    assert locked.headers["Retry-After"] == "300"
    other_phone = phone.application.test_client()
    other_phone.environ_base.update(REMOTE_ADDR="10.42.0.99")
    assert log_in(other_phone, "kt").status_code == 429  # the account waits, from anywhere
    clock.now += 300
    assert log_in(phone, "kt").status_code == 303


def test_five_failures_lock_the_client(
    phone: FlaskClient, services: Services, clock: FakeClock
) -> None:
    add_user(services, "kt", "technician")
    for n in range(5):
        log_in(phone, f"guess{n}", WRONG)
    assert log_in(phone, "kt").status_code == 429
    elsewhere = phone.application.test_client()
    elsewhere.environ_base.update(REMOTE_ADDR="10.42.0.77")
    assert log_in(elsewhere, "kt").status_code == 303
    clock.now += 299
    assert log_in(phone, "kt").status_code == 429
    clock.now += 1
    assert log_in(phone, "kt").status_code == 303


def test_login_upgrades_an_old_hash(
    phone: FlaskClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as weaker:
        weaker.setattr(credentials, "SCRYPT_N", 2**12)
        add_user(services, "kt", "technician")
    repo = UserRepo(services.sessions)
    old = repo.get("kt")
    assert old is not None and old.password_hash.startswith("scrypt$4096$")
    log_in(phone, "kt")
    new = repo.get("kt")
    assert new is not None and new.password_hash.startswith("scrypt$16384$8$1$")
    assert verify_password(PASSWORD, new.password_hash)


def test_name_is_matched_in_nfc_and_without_spaces(phone: FlaskClient, services: Services) -> None:
    add_user(services, "thảo", "technician")
    response = log_in(phone, " tha\u0309o ")  # decomposed accents, as some keyboards send them
    assert response.status_code == 303


def test_require_role_knows_the_roles() -> None:
    with pytest.raises(ValueError, match="roles"):
        auth.require_role("admin")
    with pytest.raises(ValueError, match="roles"):
        auth.require_role()


def test_failed_logins_are_logged_without_the_password(
    phone: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="hamletbox.auth"):
        log_in(phone, "lan", WRONG)
    assert "lan" in caplog.text and PHONE in caplog.text
    assert WRONG not in caplog.text
