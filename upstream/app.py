"""`create_app(settings)`: the upstream's Flask app — the device API and the officers' pages."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from appliance.domain.protocol import HEADER_SERVER_TIME
from upstream import catalog, device_api, errors, officer_ui, token_api
from upstream.db import open_store
from upstream.settings import UpstreamSettings
from upstream.tables import ServerValue

Clock = Callable[[], float]


@dataclass
class Upstream:
    """What every view needs, built once per process: settings, the store, the clock."""

    settings: UpstreamSettings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock

    def close(self) -> None:
        self.engine.dispose()


def create_app(settings: UpstreamSettings, *, clock: Clock = time.time) -> Flask:
    app = Flask(__name__, static_folder=None)
    catalog.install(app, settings.catalog)  # a broken catalog stops the start, before the store
    engine, sessions = open_store(settings.db_url)
    app.extensions["upstream"] = Upstream(settings, engine, sessions, clock)
    app.secret_key = _session_key(sessions)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = settings.secure_cookies
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.register_blueprint(device_api.bp)
    app.register_blueprint(token_api.bp)  # technicians mint enrolment tokens
    officer_ui.register(app)
    errors.register(app)  # JSON errors under the device API's prefix
    app.after_request(_server_time)
    return app


def upstream() -> Upstream:
    """The current app's Upstream (inside a request or app context)."""
    found: Upstream = current_app.extensions["upstream"]
    return found


def _server_time(response: Response) -> Response:
    """Every answer tells the box the time: a Pi has no real-time clock."""
    response.headers[HEADER_SERVER_TIME] = f"{upstream().clock():.3f}"
    return response


def _session_key(sessions: sessionmaker[Session]) -> str:
    """A key made at first start and kept in the database, so every worker and restart shares it."""
    with sessions.begin() as session:
        found = session.scalar(select(ServerValue.value).where(ServerValue.name == "session_key"))
        if found is not None:
            return found
    try:
        with sessions.begin() as session:
            key = secrets.token_urlsafe(48)
            session.add(ServerValue(name="session_key", value=key))
        return key
    except IntegrityError:  # another worker made it first
        with sessions.begin() as session:
            return session.scalars(
                select(ServerValue.value).where(ServerValue.name == "session_key")
            ).one()
