"""The heartbeat: the box's health for the district's fleet page (docs/upstream-api.yaml,
Heartbeat). Each figure the box cannot know right now is sent as null, never guessed.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from appliance.config import Settings
from appliance.relay.client import VERSION_MAX, UpstreamClient, software_version
from appliance.relay.outbox import expect
from appliance.store.outbox_repo import OutboxStats

log = logging.getLogger(__name__)
MODEM_FILE = "modem.json"  # written by the modem code (issue 5): {"signal_dbm": -71}
PROC_UPTIME = Path("/proc/uptime")


def heartbeat_body(
    settings: Settings,
    stats: OutboxStats,
    *,
    figures: Mapping[str, Any] | None = None,
    proc_uptime: Path = PROC_UPTIME,
) -> dict[str, Any]:
    """`figures`: the commune's figures (ReportsRepo.heartbeat), sent when given."""
    body = {
        "software_version": software_version()[:VERSION_MAX],
        "queue_depth": stats.queue_depth,
        "oldest_undelivered_seconds": stats.oldest_undelivered_seconds,
        "disk_free_bytes": _disk_free(settings.data_dir),
        "modem_signal_dbm": modem_signal(settings.runtime_dir),
        "uptime_seconds": _uptime(proc_uptime),
        "rejected": stats.rejected,
        "conflicts": stats.conflicts,
    }
    if figures is not None:
        body["figures"] = dict(figures)
    return body


def send_heartbeat(client: UpstreamClient, body: dict[str, Any]) -> None:
    """Raises the client's TransportError or outbox.Refused when it is not recorded."""
    expect("heartbeat", client.heartbeat(body))


def modem_signal(runtime_dir: Path) -> int | None:
    try:
        data = json.loads((runtime_dir / MODEM_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("signal_dbm") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return round(value)


def _disk_free(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _uptime(path: Path) -> int | None:
    try:
        return int(float(path.read_text(encoding="ascii").split()[0]))
    except (OSError, ValueError, IndexError):
        return None
