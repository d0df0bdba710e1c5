"""CSRF tokens on every form: refused without one, per session, never in a shared cached page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from appliance.services import Services
from tests.web.conftest import PHONE, text
from tests.web.test_auth import add_user, csrf_token_of, log_in
from web.context import catalog
from web.fastpath import FastPages
from web.pages import EXTENSION as PAGES
from web.pages import PageCache, cached_page

EXPIRED = "Phiên làm việc đã hết hạn, vui lòng tải lại trang và thử lại."
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
CACHED_PAGES = ("/", "/p/1.001193", "/search?q=khai+sinh")


def unsafe_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, url) of every state-changing route; parameters filled with a plain value."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(set(rule.methods or ()) & set(UNSAFE)):
            built = rule.build({name: "1" for name in rule.arguments})
            assert built is not None
            found.append((method, built[1]))
    return found


def test_every_state_changing_route_needs_the_token(app: Flask, phone: FlaskClient) -> None:
    routes = unsafe_routes(app)
    assert ("POST", "/login") in routes and ("POST", "/portal/accept") in routes
    assert ("POST", "/logout") in routes
    csrf_token_of(phone)  # a session with a token exists; the request just does not carry it
    for method, url in routes:
        response = phone.open(url, method=method, data={"name": "x"})
        assert response.status_code == 400, (method, url)
        assert EXPIRED in text(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_another_sessions_token_is_refused(app: Flask, phone: FlaskClient) -> None:
    other = app.test_client()
    stolen = csrf_token_of(other)
    csrf_token_of(phone)
    assert phone.post("/portal/accept", data={"csrf_token": stolen}).status_code == 400


@pytest.mark.parametrize("sent", ["", "x", "đ" * 43, "\x00"])
def test_odd_tokens_are_refused_calmly(phone: FlaskClient, sent: str) -> None:
    csrf_token_of(phone, "/portal")
    assert phone.post("/portal/accept", data={"csrf_token": sent}).status_code == 400


def test_a_token_without_a_session_is_refused(app: Flask, phone: FlaskClient) -> None:
    token = csrf_token_of(phone, "/portal")
    phone.delete_cookie("session")  # the session ran out, the page stayed open
    assert phone.post("/portal/accept", data={"csrf_token": token}).status_code == 400


def test_the_header_carries_the_token_for_scripts(phone: FlaskClient) -> None:
    token = csrf_token_of(phone, "/portal")
    response = phone.post("/portal/accept", headers={"X-CSRF-Token": token})
    assert response.status_code == 303


def test_the_expired_page_offers_the_form_again(phone: FlaskClient) -> None:
    html = text(phone.post("/portal/accept"))
    assert 'href="/portal"' in html and "Tải lại trang" in html
    html = text(phone.post("/login?next=/tech/posters"))
    assert 'href="/login?next=/tech/posters"' in html
    html = text(phone.post("/nowhere/at/all"))
    assert 'class="btn" href="/"' in html


def test_the_expired_page_in_english(phone: FlaskClient) -> None:
    phone.set_cookie("lang", "en")
    html = text(phone.post("/portal/accept"))
    assert "Your session has expired" in html and "Reload the page" in html


def test_each_phone_gets_its_own_token(app: Flask) -> None:
    first, second = app.test_client(), app.test_client()
    assert csrf_token_of(first, "/portal") != csrf_token_of(second, "/portal")
    assert csrf_token_of(first, "/portal") == csrf_token_of(first, "/login")  # one per session


def test_the_portal_accepts_with_the_token_only(phone: FlaskClient) -> None:
    phone.post("/portal/accept")
    assert phone.get("/generate_204").status_code == 302  # still captive
    token = csrf_token_of(phone, "/portal")
    response = phone.post("/portal/accept", data={"csrf_token": token})
    assert response.status_code == 303
    assert phone.get("/generate_204").status_code == 204


def test_the_welcome_page_is_not_shared(app: Flask, phone: FlaskClient) -> None:
    response = phone.get("/portal")
    assert response.headers["Cache-Control"] == "no-store"
    assert "session=" in response.headers["Set-Cookie"]
    cache: PageCache = app.extensions[PAGES]
    assert cache.peek(catalog_of(app), ("path", "/portal", "vi")) is None


def catalog_of(app: Flask) -> object:
    with app.app_context():
        return catalog()


class Counting:
    """Counts the requests that get past the fast path into Flask."""

    def __init__(self, fast: FastPages) -> None:
        self.inner, self.calls = fast.wsgi, 0
        fast.wsgi = self

    def __call__(self, environ: Any, start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        return self.inner(environ, start_response)


def test_the_fast_path_never_serves_the_welcome_page(app: Flask) -> None:
    assert isinstance(app.wsgi_app, FastPages)
    counting = Counting(app.wsgi_app)
    for _ in range(3):  # new phones, no cookie: exactly what the fast path would serve
        app.test_client().get("/portal", environ_base={"REMOTE_ADDR": PHONE})
    assert counting.calls == 3


@pytest.mark.parametrize("path", CACHED_PAGES)
def test_cached_pages_carry_no_token_and_start_no_session(client: FlaskClient, path: str) -> None:
    for _ in range(2):  # rendered, then from the cache
        response = client.get(path)
        assert response.status_code == 200
        assert "csrf_token" not in text(response)
        assert "Set-Cookie" not in response.headers


def test_cached_pages_stay_shared_for_logged_in_users(
    app: Flask, client: FlaskClient, services: Services
) -> None:
    """A volunteer's visit to the home page must not put their token into everybody's copy."""
    add_user(services, "lan", "volunteer")
    log_in(client, "lan")
    csrf_token_of(client)
    for path in CACHED_PAGES:
        assert "csrf_token" not in text(client.get(path))
    assert "csrf_token" not in text(app.test_client().get("/"))


def test_a_cached_page_with_a_form_fails_loudly(app: Flask) -> None:
    def leaky() -> Any:
        return cached_page(catalog(), lambda: render_template_string("{{ csrf_field() }}"))

    app.add_url_rule("/leaky", view_func=leaky)
    with pytest.raises(RuntimeError, match="cached or cacheable page rendered csrf_field"):
        app.test_client().get("/leaky")


def test_a_page_with_a_form_is_never_stored(app: Flask) -> None:
    app.add_url_rule("/form", view_func=lambda: render_template_string("{{ csrf_field() }}"))
    response = app.test_client().get("/form")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_a_cacheable_page_with_a_form_fails_loudly(app: Flask) -> None:
    def public() -> Any:
        html = render_template_string("{{ csrf_field() }}")
        return html, 200, {"Cache-Control": "public, max-age=60"}

    app.add_url_rule("/public", view_func=public)
    with pytest.raises(RuntimeError, match="cacheable page rendered csrf_field"):
        app.test_client().get("/public")
