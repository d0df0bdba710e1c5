"""Volunteer and technician login, the session cookie's rules, and the role check on their pages.

Residents have no accounts. The session is Flask's signed cookie; it holds the account name, role
and login time, and every protected request looks the account up again, so a disabled account or a
changed role takes effect at once.

Cookie policy (set in init_app):
- HttpOnly: no script may read it (the box serves none, but a future bug should not leak it).
- SameSite=Lax, not Strict: phones reach the box through cross-site redirects (captive-portal
  probes, a resident typing another site's name), and a Strict cookie is left off those, so a
  volunteer would look logged out and the fresh session would replace the logged-in one. Lax still
  keeps the cookie off other sites' POSTs, and every POST needs the CSRF token anyway.
- Not Secure: the hotspot is plain HTTP, and a Secure cookie would never come back. The Wi-Fi
  password is printed on a poster, so the station screen (loopback) is the safer place to log in.
- 12 hours from login at most, a volunteer's day, whatever the cookie says.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import ParamSpec

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from appliance.accounts import (
    LoginThrottle,
    authenticate,
    hash_password,
    needs_rehash,
    typed_name,
)
from appliance.store.tables import ROLES
from appliance.store.users import UserRecord, UserRepo
from web.context import services
from web.errors import error_page
from web.headers import no_store
from web.i18n import _, safe_next

P = ParamSpec("P")
View = Callable[P, ResponseReturnValue]

EXTENSION = "hamletbox.auth"
LIFETIME = timedelta(hours=12)
USER, ROLE, SINCE = "user", "role", "since"  # session keys
HOMES = {"volunteer": "/station", "technician": "/tech/posters"}
NO_RETURN = ("/login", "/logout")  # never sent back there after logging in

log = logging.getLogger("hamletbox.auth")
bp = Blueprint("auth", __name__)


@dataclass(frozen=True)
class SessionUser:
    name: str
    role: str


def init_app(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        PERMANENT_SESSION_LIFETIME=LIFETIME,
        SESSION_REFRESH_EACH_REQUEST=False,  # no new cookie on every page; login time rules
    )
    app.extensions[EXTENSION] = LoginThrottle()
    app.register_blueprint(bp)


def throttle() -> LoginThrottle:
    found: LoginThrottle = current_app.extensions[EXTENSION]
    return found


def users() -> UserRepo:
    return UserRepo(services().sessions)


def current_user() -> SessionUser | None:
    """Who is logged in on this request, checked against the accounts once per request."""
    if "auth_user" not in g:
        g.auth_user = _session_user()
    found: SessionUser | None = g.auth_user
    return found


def _session_user() -> SessionUser | None:
    name, role, since = session.get(USER), session.get(ROLE), session.get(SINCE)
    if not isinstance(name, str) or not isinstance(since, int):
        return None
    if not 0 <= time.time() - since <= LIFETIME.total_seconds():
        return None
    record = users().get(name)
    if record is None or record.disabled or record.role != role:
        return None
    return SessionUser(record.name, record.role)


def refusal(*roles: str) -> Response | None:
    """None when the logged-in user has one of `roles`; else the login page or a 403 page."""
    user = current_user()
    if user is None:
        target = request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else None
        response = redirect(url_for("auth.login", next=target), 303)
        return no_store(response)
    if user.role in roles:
        return None
    return error_page(
        403,
        _("Tài khoản này không mở được trang này"),
        _("Trang này dành cho vai trò khác. Hãy đăng nhập bằng tài khoản phù hợp."),
    )


def _known(roles: tuple[str, ...]) -> tuple[str, ...]:
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"roles must be some of {ROLES}, not {sorted(unknown) or 'none'}")
    return roles


def require_role(*roles: str) -> Callable[[View[P]], View[P]]:
    """A view decorator: only users with one of `roles`; others go to /login or get a 403."""
    allowed = _known(roles)

    def decorate(view: View[P]) -> View[P]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            refused = refusal(*allowed)
            return refused if refused is not None else view(*args, **kwargs)

        return guarded

    return decorate


def protect(blueprint: Blueprint, *roles: str) -> None:
    """Every route of `blueprint`, including ones added later, requires one of `roles`."""
    allowed = _known(roles)
    blueprint.before_request(lambda: refusal(*allowed))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return _form(target)
    name = typed_name(request.form.get("name", ""))
    client = request.remote_addr or ""
    wait = throttle().retry_after(name, client)
    if wait > 0:
        return _too_many(wait)
    record = users().get(name) if name else None
    if not authenticate(record, request.form.get("password", "")) or record is None:
        throttle().failed(name, client)
        log.warning("login refused for %r from %s", name, client)
        return _form(target, name=name, error=_("Tên tài khoản hoặc mật khẩu không đúng."))
    throttle().succeeded(name)
    _log_in(record, request.form.get("password", ""))
    home = target if target != "/" and not target.startswith(NO_RETURN) else HOMES[record.role]
    return no_store(redirect(home, 303))


def _log_in(record: UserRecord, password: str) -> None:
    """A brand-new session (nothing carried over from before the login, the CSRF token included),
    and the stored hash brought up to today's parameters while the password is at hand."""
    if needs_rehash(record.password_hash):
        users().set_password_hash(record.name, hash_password(password))
    session.clear()
    session.permanent = True
    session.update({USER: record.name, ROLE: record.role, SINCE: int(time.time())})
    g.auth_user = SessionUser(record.name, record.role)
    log.info("%s %r logged in from %s", record.role, record.name, request.remote_addr)


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    g.auth_user = None
    return no_store(redirect(url_for("auth.login"), 303))


def _form(target: str, *, name: str = "", error: str | None = None) -> Response:
    html = render_template(
        "login.html",
        target=target,
        name=name,
        error=error,
        user=current_user(),
        here=url_for("auth.login", next=target if target != "/" else None),
    )
    return no_store(Response(html, mimetype="text/html"))


def _too_many(wait: float) -> Response:
    minutes = max(1, math.ceil(wait / 60))
    response = error_page(
        429,
        _("Tạm khóa đăng nhập"),
        _(
            "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau %(minutes)s phút.",
            minutes=minutes,
        ),
    )
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response
