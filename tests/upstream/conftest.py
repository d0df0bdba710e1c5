"""Upstream fixtures: every test that takes `db_url` runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.postgres import PostgresServer, fresh_database, postgres_server
from tests.support.upstream_server import EnrolledDevice, FakeClock, Signer, enroll, make_token
from upstream.app import Upstream, create_app
from upstream.settings import UpstreamSettings
from upstream.tables import Base

UPSTREAM_TEMPLATE = "upstream_template"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The private server, with a template holding the upstream's (empty) tables."""
    with postgres_server() as server:
        server.make_template(UPSTREAM_TEMPLATE, Base.metadata)
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """The private server's base URL (no database name)."""
    return postgres.url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upstream.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    with fresh_database(server, UPSTREAM_TEMPLATE) as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def upstream_settings(db_url: str) -> UpstreamSettings:
    return UpstreamSettings(db_url=db_url)


@pytest.fixture
def upstream_app(upstream_settings: UpstreamSettings, clock: FakeClock) -> Iterator[Flask]:
    app = create_app(upstream_settings, clock=clock)
    app.testing = True
    yield app
    context: Upstream = app.extensions["upstream"]
    context.close()


@pytest.fixture
def upstream_client(upstream_app: Flask) -> FlaskClient:
    return upstream_app.test_client()


@pytest.fixture
def device(upstream_app: Flask, upstream_client: FlaskClient, clock: FakeClock) -> EnrolledDevice:
    """A box enrolled through the API, for the hamlet "Thôn Xà Bang 1"."""
    context: Upstream = upstream_app.extensions["upstream"]
    return enroll(upstream_client, make_token(context.sessions, now=clock.now))


@pytest.fixture
def signed(upstream_client: FlaskClient, device: EnrolledDevice, clock: FakeClock) -> Signer:
    """Signed requests as `device`, through the test client."""
    return Signer(upstream_client, device, clock)
