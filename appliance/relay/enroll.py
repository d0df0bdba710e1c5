"""`hamletbox enroll --upstream URL (--token T | --token-file F)`: the box's one-time introduction.

The first-boot unit passes `--token-file` so the token never shows in `ps` or the journal.

The token is spent by the first success, so everything that could still go wrong on the box (the
box already enrolled, a file it cannot write) is checked before the upstream is asked.
"""

from __future__ import annotations

import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from appliance.config import Settings, SettingsError
from appliance.relay.client import BaseUrl, Reply, TransportError, enroll, software_version
from appliance.relay.credentials import (
    CredentialsError,
    DeviceCredentials,
    check_writable,
    save_credentials,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class TokenFileError(SettingsError):
    """A --token-file that cannot be used: bad input, so the command exits 2 as for bad settings."""


def read_token_file(path: Path) -> str:
    """The token in the file, stripped of the newline an editor or the provisioning tool adds."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise TokenFileError(
            f"{path}: không tìm thấy tệp mã đăng ký / token file not found"
        ) from None
    except PermissionError:
        raise TokenFileError(
            f"{path}: không có quyền đọc tệp mã đăng ký (chạy bằng quyền root)"
            " / no permission to read the token file (run as root)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenFileError(f"{path}: không đọc được / cannot read it: {exc}") from None
    if not token:
        raise TokenFileError(f"{path}: tệp mã đăng ký trống / the token file is empty")
    return token


def enroll_command(settings: Settings, upstream_url: str, token: str) -> int:
    path = settings.relay.device_file
    refused = _refusal(path, upstream_url)
    if refused is not None:
        return refused
    try:
        reply = enroll(
            upstream_url,
            token,
            hostname=socket.gethostname(),
            software_version=software_version(),
            timeout=settings.relay.timeout_seconds,
        )
    except TransportError as exc:
        return _fail(
            f"không kết nối được máy chủ xã {upstream_url}"
            f" / cannot reach the upstream at {upstream_url}: {exc}"
        )
    creds = _credentials(reply, upstream_url)
    if isinstance(creds, int):
        return creds
    try:
        save_credentials(path, creds)
    except CredentialsError as exc:
        return _fail(f"{exc}; mã đăng ký đã dùng, cần mã mới / the token is spent, get a new one")
    print(
        f"đã đăng ký thiết bị {creds.device_id} cho {creds.hamlet}"
        f" / enrolled device {creds.device_id} for {creds.hamlet}"
    )
    print(f"đã lưu vào / saved to {path}")
    return EXIT_OK


def _refusal(path: Path, upstream_url: str) -> int | None:
    """The exit code when enrolling cannot or must not go ahead; None to go ahead."""
    try:
        BaseUrl.parse(upstream_url)
        enrolled = path.exists()
    except ValueError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except PermissionError:
        return _fail(
            f"{path}: không có quyền xem tệp (chạy bằng quyền root)"
            " / no permission to look at the file (run as root)"
        )
    if enrolled:
        return _fail(
            f"máy đã đăng ký rồi; xóa tệp {path} để đăng ký lại"
            f" / already enrolled; delete {path} to enroll again"
        )
    try:
        check_writable(path)
    except CredentialsError as exc:
        return _fail(str(exc))
    return None


def _credentials(reply: Reply, upstream_url: str) -> DeviceCredentials | int:
    """What the upstream granted, or the exit code for its refusal."""
    if reply.status == 403 and reply.error == "bad_token":
        return _fail(
            "mã đăng ký không đúng, đã dùng hoặc đã hết hạn; xin mã mới ở huyện"
            " / the enrolment token is wrong, used or expired; ask the district for a new one",
            EXIT_BAD_INPUT,
        )
    body = reply.body or {}
    granted = [body.get(key) for key in ("device_id", "secret", "hamlet")]
    if reply.status != 201 or not all(isinstance(value, str) and value for value in granted):
        message = body.get("message") or f"HTTP {reply.status}"
        code = EXIT_BAD_INPUT if reply.status == 400 else EXIT_FAILED
        return _fail(f"máy chủ xã từ chối / the upstream refused: {message}", code)
    device_id, secret, hamlet = (str(value) for value in granted)
    return DeviceCredentials(
        upstream_url=upstream_url,
        device_id=device_id,
        secret=secret,
        hamlet=hamlet,
        enrolled_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"hamletbox: {message}", file=sys.stderr)
    return code
