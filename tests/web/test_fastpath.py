"""Cached pages served without Flask must be exactly what Flask would have sent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from web.fastpath import FastPages


class Counting:
    """Wraps the Flask WSGI app behind the fast path and counts the requests that reach it."""

    def __init__(self, fast: FastPages) -> None:
        self.inner = fast.wsgi
        self.calls = 0
        fast.wsgi = self

    def __call__(self, environ: Any, start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        return self.inner(environ, start_response)


@pytest.fixture
def flask_calls(app: Flask) -> Counting:
    assert isinstance(app.wsgi_app, FastPages)
    return Counting(app.wsgi_app)


def answer(
    client: FlaskClient, path: str, **headers: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    response = client.get(path, headers=headers)
    return response.status_code, sorted(response.headers.items()), response.get_data()


CASES = [
    ("/", {}, {}),
    ("/", {"Accept-Encoding": "gzip"}, {}),
    ("/?lang=en", {"Accept-Encoding": "gzip"}, {}),
    ("/", {}, {"lang": "en"}),
    ("/?lang=vi", {}, {"lang": "en", "other": "1"}),
    ("/", {}, {"lang": "xx"}),
    ("/p/1.001193", {"Accept-Encoding": "br, gzip"}, {}),
    ("/", {"Host": "hamlet.box:80"}, {}),
    ("/", {"Accept-Encoding": "gzip;q=0"}, {}),
]


@pytest.mark.parametrize(("path", "headers", "cookies"), CASES)
def test_fast_answer_equals_flask_answer(
    client: FlaskClient,
    flask_calls: Counting,
    path: str,
    headers: dict[str, str],
    cookies: dict[str, str],
) -> None:
    for name, value in cookies.items():
        client.set_cookie(name, value)
    from_flask = answer(client, path, **headers)
    assert flask_calls.calls == 1
    fast = answer(client, path, **headers)
    assert flask_calls.calls == 1, "the second request should not reach Flask"
    assert fast == from_flask


def test_not_modified_equals_flask_answer(client: FlaskClient, flask_calls: Counting) -> None:
    etag = client.get("/", headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    from_flask = client.get("/?x=1", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    fast = client.get("/", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert flask_calls.calls == 2
    assert fast.status_code == from_flask.status_code == 304
    assert sorted(fast.headers.items()) == sorted(from_flask.headers.items())


def test_requests_with_a_session_go_to_flask(client: FlaskClient, flask_calls: Counting) -> None:
    client.get("/")
    client.set_cookie("session", "abc")
    client.get("/")
    assert flask_calls.calls == 2


@pytest.mark.parametrize(
    ("path", "headers", "method"),
    [
        ("/", {"Host": "google.com"}, "GET"),
        ("/?utm=1", {}, "GET"),
        ("/", {}, "HEAD"),
        ("/p/9.999999", {}, "GET"),
        ("/search?q=khai", {}, "GET"),
        ("/generate_204", {}, "GET"),
        ("/portal", {}, "GET"),  # its form carries a per-session CSRF token
    ],
)
def test_everything_else_goes_to_flask(
    client: FlaskClient, flask_calls: Counting, path: str, headers: dict[str, str], method: str
) -> None:
    client.get(path.split("?")[0])  # warm the cache where there is one
    before = flask_calls.calls
    client.open(path, method=method, headers=headers)
    assert flask_calls.calls == before + 1
