"""`POST /v1/tokens`: a technician mints enrolment tokens with an officer's account (on SQLite and
PostgreSQL); the tokens enroll boxes of the right hamlets; guessing is throttled like the login."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from tests.support.upstream_server import FakeClock, enroll
from upstream.app import Upstream
from upstream.officers import add_officer
from upstream.tables import Officer

NAME, PASSWORD = "kythuat.huyen", "mat-khau-ky-thuat"


def basic(name: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def mint(
    client: FlaskClient, body: Any, name: str = NAME, password: str = PASSWORD
) -> TestResponse:
    return client.post("/v1/tokens", json=body, headers=basic(name, password))


def context_of(app: Flask) -> Upstream:
    found: Upstream = app.extensions["upstream"]
    return found


def with_officer(app: Flask) -> Upstream:
    context = context_of(app)
    add_officer(context.sessions, NAME, PASSWORD)
    return context


def test_each_hamlet_gets_a_token_that_enrolls_a_box_of_that_hamlet(
    upstream_app: Flask, upstream_client: FlaskClient, clock: FakeClock
) -> None:
    with_officer(upstream_app)
    hamlets = ["Thôn Xà Bang 1", " Ấp Suối Rao ", "Thôn Xà Bang 1"]
    answer = mint(upstream_client, {"hamlets": hamlets, "days": 3})
    assert answer.status_code == 201, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    found = answer.get_json()
    assert found["officer"] == NAME and found["days"] == 3
    assert [t["hamlet"] for t in found["tokens"]] == [
        "Thôn Xà Bang 1",
        "Ấp Suối Rao",
        "Thôn Xà Bang 1",
    ]
    expires = datetime.fromtimestamp(clock.now, UTC) + timedelta(days=3)
    assert {datetime.fromisoformat(t["expires_at"]) for t in found["tokens"]} == {expires}
    assert len({t["token"] for t in found["tokens"]}) == 3
    for i, token in enumerate(found["tokens"]):
        device = enroll(upstream_client, token["token"], hostname=f"hb-{i}")
        assert device.hamlet == token["hamlet"]


def test_tokens_last_fourteen_days_unless_told(
    upstream_app: Flask, upstream_client: FlaskClient, clock: FakeClock
) -> None:
    with_officer(upstream_app)
    token = mint(upstream_client, {"hamlets": ["Thôn 2"]}).get_json()["tokens"][0]["token"]
    clock.advance(14 * 86400 + 1)
    refused = upstream_client.post("/v1/enroll", json={"token": token})
    assert refused.status_code == 403 and refused.get_json()["error"] == "bad_token"


def test_the_name_may_be_typed_in_another_case(
    upstream_app: Flask, upstream_client: FlaskClient
) -> None:
    with_officer(upstream_app)
    answer = mint(upstream_client, {"hamlets": ["Thôn 2"]}, name="KyThuat.Huyen")
    assert answer.status_code == 201 and answer.get_json()["officer"] == NAME


def test_no_or_wrong_credentials_ask_for_basic_auth(
    upstream_app: Flask, upstream_client: FlaskClient
) -> None:
    with_officer(upstream_app)
    bare = upstream_client.post("/v1/tokens", json={"hamlets": ["Thôn 2"]})
    wrong = mint(upstream_client, {"hamlets": ["Thôn 2"]}, password="doan-mo-mat-khau")
    nobody = mint(upstream_client, {"hamlets": ["Thôn 2"]}, name="ai-do")
    assert [a.status_code for a in (bare, wrong, nobody)] == [401, 401, 401]
    assert bare.get_json()["error"] == "no_credentials"
    assert wrong.get_json() == nobody.get_json()  # which names exist is not told
    assert "Wrong account name or password" in wrong.get_json()["message"]
    assert all(a.headers["WWW-Authenticate"].startswith("Basic ") for a in (bare, wrong))


def test_guessing_is_paused_like_the_login_page(
    upstream_app: Flask, upstream_client: FlaskClient, clock: FakeClock
) -> None:
    with_officer(upstream_app)
    for _ in range(5):
        assert mint(upstream_client, {"hamlets": ["Thôn 2"]}, password="sai").status_code == 401
    paused = mint(upstream_client, {"hamlets": ["Thôn 2"]})  # even the right password waits
    assert paused.status_code == 429
    assert int(paused.headers["Retry-After"]) == 300
    assert "thử lại sau 5 phút" in paused.get_json()["message"]
    clock.advance(301)
    assert mint(upstream_client, {"hamlets": ["Thôn 2"]}).status_code == 201


def test_a_disabled_officer_mints_nothing(
    upstream_app: Flask, upstream_client: FlaskClient
) -> None:
    context = with_officer(upstream_app)
    with context.sessions.begin() as db:
        db.execute(update(Officer).values(disabled=True))
    answer = mint(upstream_client, {"hamlets": ["Thôn 2"]})
    assert answer.status_code == 403 and answer.get_json()["error"] == "officer_disabled"


def test_bad_bodies_are_refused_naming_the_problem(
    upstream_app: Flask, upstream_client: FlaskClient
) -> None:
    with_officer(upstream_app)
    cases = [
        ({"hamlets": []}, "hamlets: must be"),
        ({"hamlets": ["Thôn 2"], "days": 0}, "days: must be"),
        ({"hamlets": ["Thôn 2"], "days": True}, "days: must be"),
        ({"hamlets": ["Thôn 2"], "owner": "x"}, "owner: unknown field"),
        ({"hamlets": ["Thôn 2", "   "]}, "hamlets[1]:"),
        ({"hamlets": ["x" * 201]}, "hamlets[0]:"),
        ({"hamlets": ["Thôn\n2"]}, "hamlets[0]:"),
    ]
    for body, expected in cases:
        answer = mint(upstream_client, body)
        assert answer.status_code == 400, body
        assert any(expected in p for p in answer.get_json()["problems"]), (body, answer.text)


def test_a_refused_request_makes_no_token(
    upstream_app: Flask, upstream_client: FlaskClient
) -> None:
    from upstream import store
    from upstream.tables import EnrollToken

    context = with_officer(upstream_app)
    assert mint(upstream_client, {"hamlets": ["Thôn 2", ""]}).status_code == 400
    assert store.count_rows(context.sessions, EnrollToken) == 0


def test_only_a_json_body_is_taken(upstream_app: Flask, upstream_client: FlaskClient) -> None:
    """A cross-site form cannot send JSON: a browser remembering the password cannot be used."""
    with_officer(upstream_app)
    form = upstream_client.post(
        "/v1/tokens", data={"hamlets": "Thôn 2"}, headers=basic(NAME, PASSWORD)
    )
    assert form.status_code == 415 and form.get_json()["error"] == "bad_media_type"
