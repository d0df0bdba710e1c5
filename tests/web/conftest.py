"""The web app built from the shared sample settings, and a helper to read its pages."""

from __future__ import annotations

import gzip
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from appliance.config import Settings
from appliance.services import Services
from web import create_app

PHONE = "10.42.0.23"  # a phone on the hotspot


@pytest.fixture
def app(settings: Settings, services: Services) -> Flask:
    built = create_app(settings, services)
    built.testing = True
    return built


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def phone(app: Flask) -> FlaskClient:
    """A client that comes from a phone on the hotspot, asking for the box by its address."""
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=PHONE, HTTP_HOST="10.42.0.1")
    return client


@pytest.fixture
def technician(app: Flask, services: Services) -> FlaskClient:
    """A client logged in as the technician "kt"."""
    from tests.web.test_auth import add_user, log_in

    client = app.test_client()
    add_user(services, "kt", "technician")
    assert log_in(client, "kt").status_code == 303
    return client


def text(response: TestResponse) -> str:
    """The body as text, whether or not it was sent gzipped."""
    body = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return body.decode("utf-8")


class Links(HTMLParser):
    """Every URL a page refers to (href, src, action), and the tags seen with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append((tag, values))
        for name in ("href", "src", "action", "srcset", "poster", "data"):
            value = values.get(name)
            if value is not None:
                self.urls.append(value)


def parse(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser
