"""The delivery policy: how long to wait before a retry, and what an upstream answer means for an
outbox item. Pure: no I/O, no clock, so both are tested as tables.

Every outcome carries the words a volunteer reads on the queue page ("Vietnamese / English");
the technical detail goes to the log.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Action = Literal["delivered", "retry", "reject", "conflict", "resend_blobs", "revoked"]
MAX_DOUBLINGS = 62  # 2**62 × any base is past every cap: the exponent need not grow further

NO_LINK = "Mất kết nối với xã, sẽ thử lại / No link to the commune; will retry"
SERVER_FAULT = "Máy chủ xã đang lỗi, sẽ thử lại / The commune's server has a fault; will retry"
SERVER_BUSY = "Máy chủ xã đang bận, sẽ thử lại / The commune's server is busy; will retry"
SIGNATURE = (
    "Xã chưa nhận chữ ký của hộp (có thể do đồng hồ), sẽ thử lại / "
    "The commune did not accept the box's signature (perhaps its clock); will retry"
)
ODD_ANSWER = (
    "Máy chủ xã trả lời lạ (sai địa chỉ?), sẽ thử lại / "
    "Unexpected answer from the commune's server (wrong address?); will retry"
)
BOX_FAULT = (
    "Lỗi trong hộp, sẽ thử lại — nếu kéo dài, báo kỹ thuật viên / "
    "A fault in the box; will retry — if it lasts, tell the technician"
)
TOO_LARGE = "Xã từ chối: tệp quá lớn / The commune refused it: the file is too large"
MEDIA_TYPE = "Xã từ chối: loại tệp không được nhận / The commune refused it: file type not accepted"
HASH_MISMATCH = (
    "Xã từ chối: nội dung trang không khớp mã kiểm tra / "
    "The commune refused it: the page's content does not match its checksum"
)
INVALID = "Xã từ chối: hồ sơ không hợp lệ / The commune refused it: the dossier is not valid"
REFUSED = "Xã từ chối / The commune refused it"
CONFLICT = (
    "Xã đã có hồ sơ khác cùng mã — cần kỹ thuật viên / "
    "The commune holds a different dossier under this code — a technician is needed"
)
MISSING_PAGES = (
    "Xã chưa có đủ trang, hộp sẽ gửi lại các trang / "
    "The commune lacks some pages; the box will send them again"
)
REVOKED = (
    "Xã đã thu hồi đăng ký của hộp, ngừng gửi — cần kỹ thuật viên / "
    "The commune revoked this box's enrolment; sending stopped — a technician is needed"
)
_SIGNATURE_ERRORS = ("bad_signature", "replayed", "clock_skew")
_REVOKED_ERRORS = ("revoked", "unknown_device")


class Answer(Protocol):
    """What classify needs of the client's Reply."""

    @property
    def status(self) -> int: ...

    @property
    def body(self) -> Mapping[str, Any] | None: ...

    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True)
class Outcome:
    action: Action
    reason: str | None = None  # for people: "Vietnamese / English"
    missing: tuple[str, ...] = ()  # resend_blobs: the page hashes the upstream lacks

    @property
    def transient(self) -> bool:
        return self.action in ("retry", "resend_blobs")


def backoff(attempts: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before try number `attempts` + 1: doubling from `base` up to `cap`, jittered into
    the upper half so boxes that lost the link together do not all come back at once."""
    doublings = min(max(attempts, 1) - 1, MAX_DOUBLINGS)
    delay = min(cap, base * 2**doublings)
    return rng.uniform(delay / 2, delay)


def classify(kind: str, reply_or_error: Answer | BaseException) -> Outcome:
    """What an answer to a request for an item of `kind` means: an exception is a transport
    failure (refused, reset, timed out, cut short) and is always retried."""
    if isinstance(reply_or_error, BaseException):
        return Outcome("retry", NO_LINK)
    reply = reply_or_error
    status, error = reply.status, reply.error
    if status in (200, 201):
        return Outcome("delivered")
    if error in _REVOKED_ERRORS and status in (401, 403):
        return Outcome("revoked", REVOKED)
    if status >= 500:
        return Outcome("retry", SERVER_FAULT)
    if status == 429:
        return Outcome("retry", SERVER_BUSY)
    if status == 408:
        return Outcome("retry", NO_LINK)
    if status == 401:
        return Outcome("retry", SIGNATURE if error in _SIGNATURE_ERRORS else ODD_ANSWER)
    if status == 409:
        return Outcome("conflict", CONFLICT)
    if status == 413:
        return Outcome("reject", TOO_LARGE)
    if status == 415:
        return Outcome("reject", MEDIA_TYPE)
    if status == 422:
        return _unprocessable(kind, reply)
    if 400 <= status < 500 and error is not None:
        return Outcome("reject", _with_message(REFUSED, reply))
    # A 4xx without the upstream's JSON error, a redirect, anything else: a proxy, a captive
    # portal or a wrong address answered, not the upstream. Refusing dossiers for good on its
    # word would lose them, so they wait.
    return Outcome("retry", ODD_ANSWER)


def _unprocessable(kind: str, reply: Answer) -> Outcome:
    body = reply.body or {}
    if kind == "manifest" and reply.error == "missing_blobs":
        missing = body.get("missing")
        names = tuple(m for m in missing if isinstance(m, str)) if isinstance(missing, list) else ()
        return Outcome("resend_blobs", MISSING_PAGES, names)
    if reply.error == "hash_mismatch":
        return Outcome("reject", HASH_MISMATCH)
    if reply.error == "invalid_manifest":
        problems = body.get("problems")
        listed = [p for p in problems if isinstance(p, str)] if isinstance(problems, list) else []
        return Outcome("reject", f"{INVALID}: {'; '.join(listed)}" if listed else INVALID)
    return Outcome("reject", _with_message(REFUSED, reply))


def _with_message(words: str, reply: Answer) -> str:
    """The upstream's own message (already "Vietnamese / English") after ours, when it gave one."""
    message = (reply.body or {}).get("message")
    return f"{words}: {message}" if isinstance(message, str) and message.strip() else words


class Refused(Exception):
    """The upstream answered, but not with what the exchange needed; `outcome` says why."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.reason or outcome.action)
        self.outcome = outcome


def expect(kind: str, reply: Answer, ok: tuple[int, ...] = (200,)) -> None:
    """Raise Refused unless the answer's status is one of `ok`."""
    if reply.status not in ok:
        raise Refused(classify(kind, reply))


def odd_answer() -> Refused:
    """A 200 whose body is not what the contract promises: retried like any odd answer."""
    return Refused(Outcome("retry", ODD_ANSWER))
