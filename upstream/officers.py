"""Officer accounts and their login: only the commune's officers open the inbox and fleet pages.

The session (Flask's signed cookie) holds the officer's name and login time; every guarded request
looks the account up again, so a disabled account is shut out at once.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from flask import Blueprint, Flask, current_app, g, redirect, request, session, url_for
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.wrappers import Response

from appliance.domain.credentials import (
    DUMMY_HASH,
    AccountError,
    LoginThrottle,
    check_name,
    check_password,
    hash_password,
    needs_rehash,
    typed_name,
    verify_password,
)
from upstream.app import Upstream, upstream
from upstream.officer_ui import message_page, page
from upstream.tables import Officer

LIFETIME_S = 12 * 3600  # a working day at most, whatever the cookie says
THROTTLE = "upstream.officers.throttle"
NAME, SINCE = "officer", "since"  # session keys
# A path of this site to go back to after logging in: no scheme, no host, no "//", no backslash.
_LOCAL_PATH = re.compile(r"/(?!/)[\w\-.~/?=&%+:]*")

bp = Blueprint("officers", __name__)


def add_officer(sessions: sessionmaker[Session], name: str, password: str) -> None:
    """A new officer account; AccountError ("Vietnamese / English") for a bad or taken name."""
    name = check_name(name)
    check_password(name, password)
    hashed = hash_password(password)
    taken = AccountError(f"Tài khoản “{name}” đã có / The account “{name}” already exists")
    try:
        with sessions.begin() as db:
            if any(n.casefold() == name.casefold() for n in db.scalars(select(Officer.name))):
                raise taken
            db.add(Officer(name=name, password_hash=hashed, created_at=datetime.now(UTC)))
    except IntegrityError:  # added by someone else at the same moment
        raise taken from None


def init_app(app: Flask) -> None:
    """One throttle per app: failed logins are counted across all of its requests."""
    hb: Upstream = app.extensions["upstream"]
    app.extensions[THROTTLE] = LoginThrottle(hb.clock)
    app.register_blueprint(bp)


def throttle() -> LoginThrottle:
    found: LoginThrottle = current_app.extensions[THROTTLE]
    return found


def current_officer() -> str | None:
    """The logged-in, still-enabled officer's name, checked once per request."""
    if "officer" not in g:
        g.officer = _session_officer()
    found: str | None = g.officer
    return found


def _session_officer() -> str | None:
    name, since = session.get(NAME), session.get(SINCE)
    if not isinstance(name, str) or not isinstance(since, int | float):
        return None
    if not 0 <= upstream().clock() - since <= LIFETIME_S:
        return None
    with upstream().sessions() as db:
        disabled = db.scalar(select(Officer.disabled).where(Officer.name == name))
    return name if disabled is False else None


def require_officer() -> Response | None:
    """A before_request guard: anyone not logged in goes to the login page, and comes back."""
    if current_officer() is not None:
        return None
    back = request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else request.path
    return redirect(url_for("officers.login", next=back), 303)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site, else the inbox."""
    if target and _LOCAL_PATH.fullmatch(target):
        return target
    return url_for("inbox.index")


@bp.route("/dang-nhap", methods=["GET", "POST"])
def login() -> Response:
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return page("login.html", target=target, name="")
    name = typed_name(request.form.get("name", ""))
    password = request.form.get("password", "")
    client = request.remote_addr or ""
    wait = throttle().retry_after(name, client)
    if wait > 0:
        return _too_many(wait)
    found = find_officer(name)
    # An unknown name costs a hash check too: the answer's timing does not tell which names exist.
    right = verify_password(password, found.password_hash if found else DUMMY_HASH)
    if found is None or not right:
        throttle().failed(name, client)
        current_app.logger.warning("officer login refused for %r from %s", name, client)
        wrong = "Tên tài khoản hoặc mật khẩu không đúng / Wrong account name or password"
        return page("login.html", 401, target=target, name=name, error=wrong)
    if found.disabled:
        disabled = "Tài khoản này đã bị khóa / This account is disabled"
        return page("login.html", 403, target=target, name=name, error=disabled)
    throttle().succeeded(name)
    _log_in(found, password)
    return redirect(target, 303)


@bp.post("/dang-xuat")
def logout() -> Response:
    session.clear()
    g.officer = None
    return redirect(url_for("officers.login"), 303)


def find_officer(name: str) -> Officer | None:
    """The account however its name's case was typed (names are unique regardless of case)."""
    if not name:
        return None
    with upstream().sessions() as db:
        officers = db.scalars(select(Officer)).all()
    return next((o for o in officers if o.name.casefold() == name.casefold()), None)


def _log_in(officer: Officer, password: str) -> None:
    """A fresh session (nothing kept from before, the CSRF token included); an old hash is
    brought up to today's parameters while the password is at hand."""
    if needs_rehash(officer.password_hash):
        with upstream().sessions.begin() as db:
            db.execute(
                update(Officer)
                .where(Officer.id == officer.id)
                .values(password_hash=hash_password(password))
            )
    session.clear()
    session.permanent = True
    session.update({NAME: officer.name, SINCE: int(upstream().clock())})
    g.officer = officer.name
    current_app.logger.info("officer %r logged in from %s", officer.name, request.remote_addr)


def _too_many(wait: float) -> Response:
    minutes = max(1, math.ceil(wait / 60))
    response = message_page(
        429,
        "Tạm khóa đăng nhập / Login paused",
        f"Đã nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút. / "
        f"Too many failed attempts. Please try again in {minutes} minutes.",
    )
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response
