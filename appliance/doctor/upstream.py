"""Whether the commune's upstream answers this box now, when it last took something, and whether
the box's clock (the Pi has no RTC) agrees with the upstream's.

One signed GET of the catalog shows the device is enrolled, not revoked, and reachable; every
answer carries the upstream's clock (X-HB-Server-Time), which the clock check compares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from appliance.box_state import CLOCK_SKEW_SECONDS, clock_verdict
from appliance.config import Settings
from appliance.doctor.checks import Check
from appliance.liveness import moment, read_json
from appliance.relay.client import TransportError, UpstreamClient
from appliance.relay.credentials import (
    CredentialsError,
    DeviceCredentials,
    load_credentials,
    upstream_url,
)
from appliance.relay.daemon_cli import NOT_ENROLLED
from appliance.relay.status_file import FILE_NAME, read_uplink

REQUEST_SECONDS = 10.0  # doctor waits at most this long for one answer
SYNC_LATE_SECONDS = 3600.0  # with dossiers waiting, no delivery for this long is a fault

Connect = Callable[[Settings, DeviceCredentials], UpstreamClient]


def connect(settings: Settings, creds: DeviceCredentials) -> UpstreamClient:
    timeout = min(float(settings.relay.timeout_seconds), REQUEST_SECONDS)
    return UpstreamClient(
        upstream_url(settings, creds), creds.device_id, creds.secret, timeout=timeout
    )


@dataclass(frozen=True)
class UpstreamResult:
    check: Check
    clock_offset: float | None  # the upstream's clock minus the box's, seen just now


def check_upstream(
    settings: Settings,
    now: datetime,
    queue_depth: int,
    *,
    connect: Connect = connect,
    environ: Mapping[str, str] | None = None,
) -> UpstreamResult:
    try:
        creds = load_credentials(settings, environ)
    except CredentialsError as exc:
        return UpstreamResult(Check("upstream", False, str(exc)), None)
    if creds is None:
        return UpstreamResult(Check("upstream", False, NOT_ENROLLED), None)
    client = connect(settings, creds)
    try:
        answered, detail = _ask(client)
    finally:
        client.close()
    server = client.last_server_time
    offset = None if server is None else server - now.timestamp()
    late, sync = _last_sync(settings, now, queue_depth)
    return UpstreamResult(Check("upstream", answered and not late, f"{detail}; {sync}"), offset)


def _ask(client: UpstreamClient) -> tuple[bool, str]:
    try:
        reply = client.catalog(None)
    except TransportError as exc:
        return False, f"không liên lạc được máy chủ xã / the upstream cannot be reached: {exc}"
    if reply.status in (200, 304):
        return True, f"máy chủ xã trả lời / the upstream answered (HTTP {reply.status})"
    message = reply.body.get("message") if reply.body is not None else None
    said = message if isinstance(message, str) else reply.error or "?"
    return False, f"máy chủ xã từ chối / the upstream refused (HTTP {reply.status}): {said}"


def _last_sync(settings: Settings, now: datetime, queue_depth: int) -> tuple[bool, str]:
    """(late, words): the relay's last accepted delivery, even from a relay that has stopped."""
    data = read_json(settings.runtime_dir / FILE_NAME)
    last_ok = None if data is None else moment(data.get("last_ok_at"))
    if last_ok is None:
        words = "chưa gửi được lần nào / no successful sync yet"
        age = None
    else:
        age = (now - last_ok).total_seconds()
        words = f"gửi được gần nhất / last successful sync {age / 60:.0f} phút trước / min ago"
    late = queue_depth > 0 and (age is None or age > SYNC_LATE_SECONDS)
    if late:
        words += f", {queue_depth} hồ sơ đang chờ / dossiers waiting"
    return late, words


def check_clock(settings: Settings, now: datetime, measured: float | None) -> Check:
    """The clock is set, and near the upstream's: as seen just now, else as the relay last saw."""
    offset = measured if measured is not None else read_uplink(settings, now).clock_offset
    ok, problem = clock_verdict(now, offset)
    if not ok:
        return Check("clock", False, problem or "")
    stamp = now.strftime("%Y-%m-%d %H:%M:%S UTC")
    if offset is None:
        return Check("clock", True, f"{stamp}; chưa so với xã / not compared with the upstream")
    return Check(
        "clock",
        True,
        f"{stamp}; lệch {abs(offset):.0f} giây so với xã (cho phép {CLOCK_SKEW_SECONDS:.0f}) / "
        f"{abs(offset):.0f} s off the upstream's",
    )
