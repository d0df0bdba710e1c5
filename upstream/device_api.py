"""Device API v1 (docs/upstream-api.yaml): what a box calls to enroll, deliver, and hear back.

Each view reads the body within its limit before anything else (a declared length over the limit
is refused unread), checks the signature, then does its one job in the store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from appliance.domain.protocol import (
    BLOB_TYPES,
    PREFIX,
    SHA256,
    UUID,
    body_digest,
    manifest_problems,
)
from upstream import store
from upstream.catalog import served_catalog
from upstream.errors import ApiError, bad_request, json_response, too_large
from upstream.signing import authenticate
from upstream.tables import Device

if TYPE_CHECKING:
    from upstream.app import Upstream

bp = Blueprint("device_api", __name__, url_prefix=PREFIX)
READ_CHUNK = 64 * 1024
MAX_CURSOR = 2**63 - 1
WHOLE = re.compile(r"[0-9]{1,19}")
Rule = tuple[bool, Callable[[Any], bool], str]  # required, check, what is wanted


def _context() -> Upstream:
    from upstream.app import upstream  # not at the top: app.py imports this module

    return upstream()


def _now() -> datetime:
    return datetime.fromtimestamp(_context().clock(), UTC)


def read_body(limit: int) -> bytes:
    """The request body, refused (413) by its declared length unread, or once past `limit`."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = request.stream.read(min(READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise too_large(limit)
    return b"".join(chunks)


def _signed_call(limit: int) -> tuple[Device, bytes]:
    context = _context()
    body = read_body(limit)
    return authenticate(context.sessions, context.settings, context.clock, body), body


def json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise bad_request(
            "bad_json", "Nội dung không phải JSON hợp lệ / The body is not valid JSON"
        ) from None
    if not isinstance(value, dict):
        raise bad_request(
            "not_object", "Nội dung phải là một đối tượng JSON / The body must be a JSON object"
        )
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def check_body(body: Mapping[str, Any], rules: Mapping[str, Rule], *, closed: bool) -> None:
    """400 `invalid_body` naming each field that breaks its rule (and unknown ones if `closed`)."""
    problems = [f"{key}: unknown field" for key in body if closed and key not in rules]
    for key, (required, ok, wanted) in rules.items():
        if key not in body:
            problems.extend([f"{key}: missing"] if required else [])
        elif not ok(body[key]):
            problems.append(f"{key}: must be {wanted}")
    if problems:
        raise bad_request(
            "invalid_body", "Nội dung gửi lên không hợp lệ / The body is invalid", problems=problems
        )


def _text(most: int, least: int = 0) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and least <= len(v) <= most


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _count(v: Any) -> bool:
    return _whole(v) and v >= 0


def _or_null(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


ENROLL: Mapping[str, Rule] = {
    "token": (True, _text(128, 16), "text of 16 to 128 characters"),
    "hostname": (False, _text(64), "text of at most 64 characters"),
    "software_version": (False, _text(32), "text of at most 32 characters"),
}
COUNT, COUNT_OR_NULL = "a whole number from 0", "a whole number from 0, or null"
HEARTBEAT: Mapping[str, Rule] = {
    "software_version": (True, _text(32), "text of at most 32 characters"),
    "queue_depth": (True, _count, COUNT),
    "oldest_undelivered_seconds": (False, _or_null(_count), COUNT_OR_NULL),
    "disk_free_bytes": (False, _or_null(_count), COUNT_OR_NULL),
    "modem_signal_dbm": (False, _or_null(_whole), "a whole number or null"),
    "uptime_seconds": (False, _or_null(_count), COUNT_OR_NULL),
    "rejected": (False, _count, COUNT),
    "conflicts": (False, _count, COUNT),
    "figures": (False, lambda v: isinstance(v, dict), "an object"),
}


@bp.post("/enroll")
def enroll() -> Response:
    context = _context()
    body = json_object(read_body(context.settings.max_json_bytes))
    check_body(body, ENROLL, closed=True)
    device = store.enroll(
        context.sessions, body["token"], body.get("hostname"), body.get("software_version"), _now()
    )
    if device is None:
        raise ApiError(
            403,
            "bad_token",
            "Mã đăng ký không đúng, đã dùng hoặc đã hết hạn / The enrolment token is unknown,"
            " already used or expired",
        )
    answer = {"device_id": device.id, "secret": device.secret, "hamlet": device.hamlet}
    return json_response({**answer, "server_time": context.clock()}, 201)


@bp.put("/blobs/<sha256>")
def put_blob(sha256: str) -> Response:
    device, body = _signed_call(_context().settings.max_blob_bytes)
    if not SHA256.fullmatch(sha256):
        raise _bad_path("SHA-256 (64 lowercase hex digits)")
    media_type = request.mimetype
    if media_type not in BLOB_TYPES:
        raise ApiError(
            415,
            "bad_media_type",
            f"Trang phải là ảnh TIFF hoặc JPEG / A page must be one of: {', '.join(BLOB_TYPES)}",
        )
    if not body:
        raise bad_request("empty", "Không có dữ liệu / The body is empty")
    if body_digest(body) != sha256:
        raise ApiError(
            422,
            "hash_mismatch",
            "Dữ liệu không khớp với mã SHA-256 / The bytes do not match their SHA-256",
        )
    created = store.put_blob(_context().sessions, device.id, sha256, media_type, body, _now())
    return json_response({"sha256": sha256, "bytes": len(body)}, 201 if created else 200)


@bp.put("/dossiers/<uuid>")
def put_dossier(uuid: str) -> Response:
    device, body = _signed_call(_context().settings.max_json_bytes)
    if not UUID.fullmatch(uuid):
        raise _bad_path("UUID (lowercase, with dashes)")
    manifest = json_object(body)
    problems = manifest_problems(manifest, uuid)
    if problems:
        raise ApiError(
            422,
            "invalid_manifest",
            "Hồ sơ gửi lên không hợp lệ / The manifest is invalid",
            problems=problems,
        )
    received = store.put_dossier(_context().sessions, device, manifest, _now())
    if received.outcome == "missing":
        raise ApiError(
            422,
            "missing_blobs",
            "Hồ sơ có trang chưa được gửi lên / The manifest names pages never received",
            missing=received.missing,
        )
    if received.outcome == "conflict":
        raise ApiError(
            409,
            "conflict",
            "Mã hồ sơ này đã có với nội dung khác; hồ sơ cũ được giữ nguyên / A different"
            " manifest is stored under this UUID; it is kept",
        )
    answer = {"uuid": uuid, "status": received.status, "receipt_code": received.receipt_code}
    return json_response(answer, 201 if received.outcome == "created" else 200)


def _bad_path(wanted: str) -> ApiError:
    return bad_request("bad_path", f"Địa chỉ sai: cần một {wanted} / Bad path: expected a {wanted}")


@bp.get("/updates")
def get_updates() -> Response:
    device, _ = _signed_call(_context().settings.max_json_bytes)
    after = _query_whole("after", 0, 0, MAX_CURSOR)
    limit = _query_whole("limit", 100, 1, 500)
    updates, more = store.updates_after(_context().sessions, device.id, after, limit)
    cursor = updates[-1]["id"] if updates else after
    return json_response({"updates": updates, "cursor": cursor, "more": more})


def _query_whole(name: str, default: int, least: int, most: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not WHOLE.fullmatch(text) or not least <= int(text) <= most:
        raise bad_request(
            "bad_query",
            f"Tham số {name} phải là số nguyên từ {least} đến {most} / Query parameter {name}"
            f" must be a whole number from {least} to {most}",
        )
    return int(text)


@bp.post("/heartbeat")
def post_heartbeat() -> Response:
    context = _context()
    device, body = _signed_call(context.settings.max_json_bytes)
    heartbeat = json_object(body)
    check_body(heartbeat, HEARTBEAT, closed=False)
    store.save_heartbeat(context.sessions, device.id, heartbeat, _now())
    return json_response({"server_time": context.clock()})


@bp.get("/catalog")
def get_catalog() -> Response:
    _signed_call(_context().settings.max_json_bytes)
    served = served_catalog()
    if request.if_none_match.contains_weak(served.etag):
        response = Response(status=304)
    else:
        response = Response(served.data, mimetype="application/toml")
    response.set_etag(served.etag)
    return response
