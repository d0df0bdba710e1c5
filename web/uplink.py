"""The link to the commune as the relay last reported it, in words for the volunteer.

The relay rewrites runtime_dir/relay.json (a tmpfs; appliance/relay/status_file.py) every few
seconds and on every change; the web process only reads it. A missing file, one left by a relay
that is no longer running, or one not rewritten for a long while (a slow upload can hold the relay
up for minutes, hence three heartbeats) says nothing about the link now: it reads as "unknown".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime

from appliance.config import Settings
from appliance.relay.status_file import FILE_NAME
from web.i18n import _
from web.wording import said

MIN_STALE_S = 120.0
STATES = ("online", "sending", "offline", "not_enrolled", "revoked")
NEEDS_TECHNICIAN = ("not_enrolled", "revoked")


@dataclass(frozen=True)
class Uplink:
    state: str  # one of STATES, or "unknown"
    last_ok_at: datetime | None
    last_error: str | None

    @property
    def needs_technician(self) -> bool:
        return self.state in NEEDS_TECHNICIAN


UNKNOWN = Uplink("unknown", None, None)


def read_uplink(settings: Settings, now: datetime) -> Uplink:
    """What relay.json says, if it is fresh: younger than three heartbeats (at least two
    minutes) and written by a relay that is still running."""
    try:
        data = json.loads((settings.runtime_dir / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return UNKNOWN
    if not isinstance(data, dict):
        return UNKNOWN
    written = moment(data.get("updated_at"))
    stale_s = max(MIN_STALE_S, 3.0 * settings.relay.heartbeat_seconds)
    if written is None or abs((now - written).total_seconds()) > stale_s:
        return UNKNOWN
    if not _running(data.get("pid")):
        return UNKNOWN
    state = data.get("uplink")
    error = data.get("last_error")
    return Uplink(
        state if state in STATES else "unknown",
        moment(data.get("last_ok_at")),
        error if isinstance(error, str) and error else None,
    )


def moment(value: object) -> datetime | None:
    """A time written as seconds since the epoch or as ISO 8601 (naive read as UTC)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def _running(pid: object) -> bool:
    """Whether the process that wrote the file is alive (True when it did not say who it is)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


def headline(uplink: Uplink) -> str:
    """The link in a few words, for the top of the queue page."""
    return {
        "online": _("Đã kết nối với xã"),
        "sending": _("Đang gửi lên xã"),
        "offline": _("Mất kết nối với xã"),
        "not_enrolled": _("Chưa đăng ký với xã"),
        "revoked": _("Xã đã thu hồi quyền gửi của hộp"),
    }.get(uplink.state, _("Chưa rõ tình trạng kết nối"))


def detail(uplink: Uplink) -> str:
    """What it means for the volunteer, and what to do about it."""
    if uplink.state == "unknown":
        return _("Chương trình gửi hồ sơ chưa chạy. Hồ sơ vẫn được giữ an toàn trong hộp.")
    if uplink.needs_technician:
        return _("Hộp chưa gửi được hồ sơ nào. Hãy báo kỹ thuật viên.")
    if uplink.state == "offline":
        reason = said(uplink.last_error) if uplink.last_error else ""
        return " ".join(part for part in (reason, _("Hộp sẽ tự gửi lại khi có kết nối.")) if part)
    return ""
