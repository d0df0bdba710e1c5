"""Who sent this request: the device's HMAC signature, checked on every call but enrolment.

The order of the checks follows what a box can do about each refusal: unsigned or unknown (enroll
again), revoked (ask the district), clock skew (learn the server's clock from the answer and sign
again), a wrong signature, and a replayed nonce (send again with a new one).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, request
from sqlalchemy.orm import Session, sessionmaker

from appliance.domain.protocol import (
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    NONCE,
    is_fresh,
    signature_matches,
)
from upstream import store
from upstream.errors import ApiError
from upstream.settings import UpstreamSettings
from upstream.tables import Device

DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
PURGE_EVERY_S = 60.0
PURGER = "upstream.signing.purger"


@dataclass(frozen=True)
class Signed:
    device_id: str
    timestamp: int
    nonce: str
    signature: str


def authenticate(
    sessions: sessionmaker[Session],
    settings: UpstreamSettings,
    clock: Callable[[], float],
    body: bytes,
) -> Device:
    """The enrolled device that signed the current request (with `body`), or an ApiError."""
    signed = _signed_headers()
    device = store.find_device(sessions, signed.device_id)
    if device is None:
        raise ApiError(401, "unknown_device", "Thiết bị chưa đăng ký / Unknown device")
    if device.revoked_at is not None:
        raise ApiError(403, "revoked", "Thiết bị đã bị thu hồi / This device was revoked")
    now = clock()
    if not is_fresh(signed.timestamp, now, settings.skew_seconds):
        raise ApiError(
            401,
            "clock_skew",
            "Đồng hồ của thiết bị lệch quá nhiều so với máy chủ / The device's clock is too far"
            " from the server's",
            server_time=now,
        )
    method, target = request.method, request_target()
    if not signature_matches(
        device.secret, method, target, signed.timestamp, signed.nonce, body, signed.signature
    ):
        raise ApiError(401, "bad_signature", "Chữ ký không đúng / Wrong signature")
    _purger().maybe_purge(sessions, now, settings.skew_seconds)
    if not store.record_nonce(sessions, device.id, signed.nonce, _moment(now)):
        raise ApiError(
            401, "replayed", "Yêu cầu này đã được gửi trước đó / This request was sent before"
        )
    return device


def request_target() -> str:
    """The path and query exactly as on the request line, which is what the box signed."""
    raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return raw
    return request.full_path.removesuffix("?")


def _signed_headers() -> Signed:
    headers = request.headers
    device_id = headers.get(HEADER_DEVICE, "")
    timestamp = headers.get(HEADER_TIMESTAMP, "")
    nonce = headers.get(HEADER_NONCE, "")
    signature = headers.get(HEADER_SIGNATURE, "")
    well_formed = (
        DEVICE_ID.fullmatch(device_id)
        and TIMESTAMP.fullmatch(timestamp)
        and NONCE.fullmatch(nonce)
        and SIGNATURE.fullmatch(signature)
    )
    if not well_formed:
        raise ApiError(
            401,
            "unsigned",
            "Yêu cầu thiếu chữ ký hoặc chữ ký sai dạng / Missing or malformed signing headers",
        )
    return Signed(device_id, int(timestamp), nonce, signature)


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class _Purger:
    """Forgets nonces older than twice the skew window (their timestamps are refused anyway),
    at most once a minute, so the table stays small without a cleaning job."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None

    def maybe_purge(self, sessions: sessionmaker[Session], now: float, skew: int) -> None:
        with self._lock:
            if self._last is not None and abs(now - self._last) < PURGE_EVERY_S:
                return
            self._last = now
        store.purge_nonces(sessions, _moment(now) - timedelta(seconds=2 * skew))


def _purger() -> _Purger:
    found: _Purger = current_app.extensions.setdefault(PURGER, _Purger())
    return found
