"""Small JSON files on the runtime tmpfs that say a process is alive and how it is.

Each daemon rewrites its own file (relay.json, web.json, modem.json, panel.json) atomically every
few seconds; readers trust one only while it is fresh and its writer is still running, so a file
left by a crashed process never reads as "healthy".
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.files import write_atomically


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


def process_alive(pid: object) -> bool:
    """Whether the process that wrote a file is alive (True when it did not say who it is)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


def read_json(path: Path) -> dict[str, Any] | None:
    """The file's JSON object; None when missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_fresh(path: Path, now: datetime, stale_seconds: float) -> dict[str, Any] | None:
    """The file's object if its "updated_at" is within `stale_seconds` of `now` and its "pid"
    is a running process; None otherwise."""
    data = read_json(path)
    if data is None:
        return None
    written = moment(data.get("updated_at"))
    if written is None or abs((now - written).total_seconds()) > stale_seconds:
        return None
    return data if process_alive(data.get("pid")) else None


def age_seconds(path: Path, now: datetime) -> float | None:
    """Seconds since the file's "updated_at" (None: no readable file or no time in it)."""
    data = read_json(path)
    written = None if data is None else moment(data.get("updated_at"))
    return None if written is None else (now - written).total_seconds()


def write_beat(path: Path, document: dict[str, Any], now: datetime) -> None:
    """Rewrite `path` with `document` plus this process's pid and the time (not fsynced: tmpfs)."""
    body = {**document, "pid": os.getpid(), "updated_at": now.astimezone(UTC).isoformat()}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(body, ensure_ascii=False).encode("utf-8"), durable=False)
