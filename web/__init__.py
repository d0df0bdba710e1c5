"""The box's Flask app: `create_app(settings, services)`, one blueprint per audience.

Everything is built here from what the caller hands in; nothing reads configuration at import time
and no view constructs engines or hardware.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from appliance.config import Settings
from appliance.domain.catalog import ICONS
from appliance.services import Services
from web import (
    assets,
    auth,
    booking,
    camera,
    context,
    csrf,
    diagnostics,
    errors,
    fastpath,
    feedback,
    i18n,
    lookup,
    pages,
    portal,
    receipt,
    resident,
    selfservice,
    selfservice_papers,
    sms_admin,
    station,
    technician,
)
from web.compress import compress_response
from web.headers import security_headers
from web.sessions import LazySessions

HERE = Path(__file__).resolve().parent
SECRET_FILE = "web-secret"


def create_app(settings: Settings, services: Services) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.secret_key = settings.web.secret_key or persistent_secret(settings.data_dir)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = LazySessions()
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals["icons"] = ICONS

    context.init_app(app, services)
    i18n.init_app(app)
    assets.init_app(app, HERE / "static")
    pages.init_app(app)
    errors.init_app(app)

    app.register_blueprint(resident.bp)
    portal.init_app(app, settings)
    csrf.init_app(app)
    auth.init_app(app)
    app.register_blueprint(technician.bp)
    app.register_blueprint(camera.bp)
    station.init_app(app, services)
    app.register_blueprint(selfservice.bp)
    app.register_blueprint(selfservice_papers.bp)
    app.register_blueprint(receipt.bp)
    app.register_blueprint(lookup.bp)
    app.register_blueprint(booking.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(sms_admin.bp)
    app.register_blueprint(diagnostics.bp)

    app.after_request(compress_response)
    app.after_request(security_headers)
    fastpath.install(app)
    return app


def persistent_secret(data_dir: Path) -> str:
    """A random key kept in the data dir (0600), so sessions survive a restart of the box.

    Written to a temporary file and linked into place, so the file is never seen half-written and
    two processes starting together end up with the same key.
    """
    path = data_dir / SECRET_FILE
    key = _read_secret(path)
    if key:
        return key
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        if not _read_secret(path):  # an empty or broken file: replace it
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return ""
