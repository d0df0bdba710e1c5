"""`POST /v1/tokens`: a district technician mints enrolment tokens from the laptop that writes
the SD cards (`hamletbox provision enroll`) instead of running `hamletbox upstream token` there.

Authenticated as a commune officer with HTTP Basic (TLS is the reverse proxy's job; the client
refuses plain http to anything but loopback). The password check and the failed-login throttle are
the login page's own, so guessing through this door is counted with guessing through the other.
A JSON body is required: a cross-site form cannot send one, so a browser that remembers Basic
credentials cannot be made to mint tokens by another site.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, request

from appliance.domain.credentials import DUMMY_HASH, typed_name, verify_password
from appliance.domain.protocol import PREFIX
from upstream import store
from upstream.cli import HAMLET_MAX, MAX_TOKEN_DAYS
from upstream.device_api import check_body, json_object, read_body
from upstream.errors import ApiError, json_response

bp = Blueprint("token_api", __name__, url_prefix=PREFIX)
MAX_HAMLETS = 200  # one district's boxes in one request
DEFAULT_DAYS = 14
REALM = 'Basic realm="Hamlet Box upstream", charset="UTF-8"'


def _hamlets(value: Any) -> bool:
    return (
        isinstance(value, list)
        and 1 <= len(value) <= MAX_HAMLETS
        and all(isinstance(h, str) for h in value)
    )


def _days(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_TOKEN_DAYS


TOKENS = {
    "hamlets": (True, _hamlets, f"a list of 1 to {MAX_HAMLETS} hamlet names"),
    "days": (False, _days, f"a whole number from 1 to {MAX_TOKEN_DAYS}"),
}


@bp.post("/tokens")
def mint() -> Response:
    """One one-time token per hamlet named (a name may repeat: two boxes for one hamlet)."""
    from upstream.app import upstream  # not at the top: app.py imports this module

    context = upstream()
    officer = _officer()
    if isinstance(officer, Response):
        return officer
    if request.mimetype != "application/json":
        raise ApiError(
            415,
            "bad_media_type",
            "Nội dung phải là JSON / The body must be application/json",
        )
    body = json_object(read_body(context.settings.max_json_bytes))
    check_body(body, TOKENS, closed=True)
    hamlets = _checked_hamlets(body["hamlets"])
    days: int = body.get("days", DEFAULT_DAYS)
    now = datetime.fromtimestamp(context.clock(), UTC)
    expires = (now + timedelta(days=days)).isoformat()
    tokens = [
        {
            "hamlet": h,
            "token": store.new_token(context.sessions, h, days, now),
            "expires_at": expires,
        }
        for h in hamlets
    ]
    current_app.logger.info(
        "officer %r made %d enrolment tokens (%d days) from %s",
        officer,
        len(tokens),
        days,
        request.remote_addr,
    )
    response = json_response({"officer": officer, "days": days, "tokens": tokens}, 201)
    response.headers["Cache-Control"] = "no-store"  # the tokens are secrets
    return response


def _checked_hamlets(names: list[str]) -> list[str]:
    """Every name trimmed, 1 to HAMLET_MAX characters, no control characters; else 400 naming
    each refused one by its position, so the client can point at the CSV row."""
    trimmed = [name.strip() for name in names]
    problems = [
        f"hamlets[{i}]: must be 1 to {HAMLET_MAX} printable characters"
        for i, name in enumerate(trimmed)
        if not 1 <= len(name) <= HAMLET_MAX or not name.isprintable()
    ]
    if problems:
        raise ApiError(
            400,
            "invalid_body",
            "Tên thôn không hợp lệ / A hamlet name is invalid",
            problems=problems,
        )
    return trimmed


def _officer() -> str | Response:
    """The enabled officer named by the Basic credentials, or the refusal to answer with."""
    from upstream import officers  # officers imports upstream.app, which imports this module

    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return _unauthorized(
            "no_credentials",
            "Cần tên và mật khẩu cán bộ / An officer's name and password are required",
        )
    name, client = typed_name(auth.username), request.remote_addr or ""
    wait = officers.throttle().retry_after(name, client)
    if wait > 0:
        return _too_many(wait)
    found = officers.find_officer(name)
    # An unknown name costs a hash check too: the timing does not tell which names exist.
    right = verify_password(auth.password or "", found.password_hash if found else DUMMY_HASH)
    if found is None or not right:
        officers.throttle().failed(name, client)
        current_app.logger.warning("token request refused for %r from %s", name, client)
        return _unauthorized(
            "bad_credentials",
            "Tên tài khoản hoặc mật khẩu không đúng / Wrong account name or password",
        )
    if found.disabled:
        raise ApiError(
            403, "officer_disabled", "Tài khoản này đã bị khóa / This account is disabled"
        )
    officers.throttle().succeeded(name)
    return found.name


def _unauthorized(code: str, message: str) -> Response:
    response = json_response(ApiError(401, code, message).body(), 401)
    response.headers["WWW-Authenticate"] = REALM
    return response


def _too_many(wait: float) -> Response:
    minutes = max(1, math.ceil(wait / 60))
    error = ApiError(
        429,
        "too_many_attempts",
        f"Đã nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút. / "
        f"Too many failed attempts. Please try again in {minutes} minutes.",
        retry_after=math.ceil(wait),
    )
    response = json_response(error.body(), 429)
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response
