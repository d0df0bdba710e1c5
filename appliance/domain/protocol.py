"""Device API v1 between a box and the upstream: request signing and the manifest's shape.

Pure and shared: the box's relay signs with these functions and the upstream checks with the same
ones, so the two cannot drift. The full contract is docs/upstream-api.yaml.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

PREFIX = "/v1"
SCHEME = "HB1"  # first line of the string to sign: a later scheme cannot be confused with it
HEADER_DEVICE = "X-HB-Device"
HEADER_TIMESTAMP = "X-HB-Timestamp"
HEADER_NONCE = "X-HB-Nonce"
HEADER_SIGNATURE = "X-HB-Signature"
HEADER_SERVER_TIME = "X-HB-Server-Time"  # on every response: unix seconds, the Pi has no RTC
MAX_SKEW_SECONDS = 300
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
SHA256 = re.compile(r"[0-9a-f]{64}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MANIFEST_VERSION = 1
PAGE_MODES = ("text", "color")
BLOB_TYPES = ("image/tiff", "image/jpeg")
# What the commune may decide; each becomes an update on the box's feed.
OFFICER_STATUSES = ("received", "needs_more", "rejected", "processing", "done")


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, target: str, timestamp: int, nonce: str, digest: str) -> bytes:
    """`target` is the path with its query string, exactly as sent on the request line."""
    return "\n".join((SCHEME, method.upper(), target, str(timestamp), nonce, digest)).encode()


def sign(secret: str, method: str, target: str, timestamp: int, nonce: str, body: bytes) -> str:
    message = string_to_sign(method, target, timestamp, nonce, body_digest(body))
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    device_id: str, secret: str, method: str, target: str, timestamp: int, nonce: str, body: bytes
) -> dict[str, str]:
    return {
        HEADER_DEVICE: device_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sign(secret, method, target, timestamp, nonce, body),
    }


def signature_matches(
    secret: str,
    method: str,
    target: str,
    timestamp: int,
    nonce: str,
    body: bytes,
    signature: str,
) -> bool:
    expected = sign(secret, method, target, timestamp, nonce, body)
    return hmac.compare_digest(expected, signature.lower())


def is_fresh(timestamp: int, now: float, window: int = MAX_SKEW_SECONDS) -> bool:
    return abs(now - timestamp) <= window


def canonical_json(value: Any) -> bytes:
    """One byte string per value: a replay is recognised by comparing these, not by parsing."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def manifest_problems(manifest: object, uuid: str) -> list[str]:
    """What makes a manifest unacceptable, in plain English field paths; empty when it is fine."""
    if not isinstance(manifest, Mapping):
        return ["the manifest must be a JSON object"]
    problems: list[str] = []
    _expect(problems, manifest, "version", lambda v: v == MANIFEST_VERSION, f"{MANIFEST_VERSION}")
    _expect(problems, manifest, "uuid", lambda v: v == uuid, "the UUID in the path")
    _expect(problems, manifest, "receipt_code", _text(16), "text of at most 16 characters")
    _expect(problems, manifest, "hamlet", _text(200), "text")
    _expect(problems, manifest, "procedure", _text(32), "a procedure code")
    _expect(problems, manifest, "channel", lambda v: v in ("station", "phone"), "station/phone")
    _expect(problems, manifest, "submitted_at", _timestamp, "an ISO 8601 time with its offset")
    applicant = manifest.get("applicant")
    if not isinstance(applicant, Mapping):
        problems.append("applicant: must be an object")
    else:
        _expect(problems, applicant, "full_name", _text(200), "text", "applicant.")
        _expect(problems, applicant, "phone", _text(20), "text", "applicant.")
        for key, limit in (("id_number", 12), ("gender", 8), ("address", 300)):
            _expect(problems, applicant, key, _optional(_text(limit)), "text or null", "applicant.")
        _expect(
            problems, applicant, "date_of_birth", _optional(_date), "a date or null", "applicant."
        )
    pages = manifest.get("pages")
    if not isinstance(pages, list) or not pages:
        problems.append("pages: must be a non-empty list")
    else:
        for i, page in enumerate(pages):
            problems.extend(_page_problems(page, f"pages[{i}]."))
        positions = [repr(p.get("position")) for p in pages if isinstance(p, Mapping)]
        if len(set(positions)) != len(positions):
            problems.append("pages: each position only once")
    originals = manifest.get("originals")
    if not isinstance(originals, list) or not all(isinstance(o, str) for o in originals):
        problems.append("originals: must be a list of texts")
    consent = manifest.get("consent")
    if not isinstance(consent, Mapping):
        problems.append("consent: must be an object")
    else:
        _expect(problems, consent, "version", _text(16), "text", "consent.")
        _expect(problems, consent, "at", _timestamp, "an ISO 8601 time", "consent.")
    return problems


def manifest_blobs(manifest: Mapping[str, Any]) -> list[str]:
    """The page hashes a valid manifest names, in page order, each once."""
    return list(dict.fromkeys(page["sha256"] for page in manifest["pages"]))


def _page_problems(page: object, where: str) -> list[str]:
    if not isinstance(page, Mapping):
        return [f"{where[:-1]}: must be an object"]
    problems: list[str] = []
    _expect(
        problems,
        page,
        "sha256",
        lambda v: isinstance(v, str) and bool(SHA256.fullmatch(v)),
        "64 lowercase hex digits",
        where,
    )
    _expect(problems, page, "paper", _text(200), "text", where)
    _expect(problems, page, "mode", lambda v: v in PAGE_MODES, "text/color", where)
    _expect(
        problems,
        page,
        "position",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "a whole number from 1",
        where,
    )
    return problems


def _expect(
    problems: list[str],
    obj: Mapping[str, Any],
    key: str,
    ok: Any,
    wanted: str,
    where: str = "",
) -> None:
    if key not in obj:
        problems.append(f"{where}{key}: missing")
    elif not ok(obj[key]):
        problems.append(f"{where}{key}: must be {wanted}")


def _text(limit: int) -> Any:
    return lambda v: isinstance(v, str) and len(v.strip()) > 0 and len(v) <= limit


def _optional(check: Any) -> Any:
    return lambda v: v is None or check(v)


def _timestamp(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _date(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
