"""runtime_dir/relay.json: the relay's uplink state for the queue page, the panel and doctor.

It lives on the runtime tmpfs, never on the SD card, and is rewritten atomically (a reader never
sees half a file) when the state changes, and otherwise only every few seconds to show the relay
is alive.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from appliance.files import write_atomically
from appliance.liveness import moment, read_fresh

if TYPE_CHECKING:
    from appliance.config import Settings

log = logging.getLogger(__name__)
FILE_NAME = "relay.json"
REFRESH_SECONDS = 10.0  # an unchanged state is rewritten this often, so its age shows liveness

Uplink = Literal["online", "sending", "offline", "not_enrolled", "revoked"]


@dataclass
class RelayStatus:
    uplink: Uplink = "offline"
    last_ok_at: float | None = None  # unix seconds of the last answer the upstream accepted
    last_error: str | None = None  # plain words, "Vietnamese / English"
    queue_depth: int = 0
    clock_offset: float = 0.0  # seconds to add to the box's clock to get the upstream's
    pid: int = field(default_factory=os.getpid)

    def document(self, now: float) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "updated_at": iso(now),
            "uplink": self.uplink,
            "last_ok_at": None if self.last_ok_at is None else iso(self.last_ok_at),
            "last_error": self.last_error,
            "queue_depth": self.queue_depth,
            "clock_offset": round(self.clock_offset, 3),
        }


def iso(moment: float) -> str:
    """Unix seconds as ISO 8601 UTC, whole seconds: "2026-11-22T08:00:00+00:00"."""
    return datetime.fromtimestamp(int(moment), UTC).isoformat()


class StatusFile:
    def __init__(self, runtime_dir: Path) -> None:
        self.path = runtime_dir / FILE_NAME
        self._shown: tuple[Any, ...] | None = None
        self._written_at = float("-inf")
        self._failed = False

    def publish(self, status: RelayStatus, now: float, *, force: bool = False) -> bool:
        """Write the state if it changed or the last write is getting old; True if written."""
        shown = (status.uplink, status.last_error, status.queue_depth, status.last_ok_at)
        if not force and shown == self._shown and now - self._written_at < REFRESH_SECONDS:
            return False
        data = json.dumps(status.document(now), ensure_ascii=False).encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, data, durable=False)
        except OSError as exc:
            if not self._failed:  # say it once; the relay's work does not depend on it
                log.warning("cannot write %s: %s", self.path, exc)
            self._failed = True
            return False
        self._shown, self._written_at, self._failed = shown, now, False
        return True


MIN_STALE_S = 120.0
STATES = ("online", "sending", "offline", "not_enrolled", "revoked")
NEEDS_TECHNICIAN = ("not_enrolled", "revoked")


@dataclass(frozen=True)
class UplinkReport:
    """relay.json as the web, the panel and doctor read it."""

    state: str  # one of STATES, or "unknown"
    last_ok_at: datetime | None
    last_error: str | None
    clock_offset: float | None = None  # seconds the box's clock is behind the upstream's

    @property
    def needs_technician(self) -> bool:
        return self.state in NEEDS_TECHNICIAN


UNKNOWN = UplinkReport("unknown", None, None)


def read_uplink(settings: Settings, now: datetime) -> UplinkReport:
    """What relay.json says, if it is fresh: younger than three heartbeats (at least two minutes:
    a slow upload can hold the relay up) and written by a relay that is still running. A missing
    or stale file says nothing about the link now: "unknown"."""
    stale_s = max(MIN_STALE_S, 3.0 * settings.relay.heartbeat_seconds)
    data = read_fresh(settings.runtime_dir / FILE_NAME, now, stale_s)
    if data is None:
        return UNKNOWN
    state, error, offset = data.get("uplink"), data.get("last_error"), data.get("clock_offset")
    return UplinkReport(
        state if state in STATES else "unknown",
        moment(data.get("last_ok_at")),
        error if isinstance(error, str) and error else None,
        float(offset) if isinstance(offset, int | float) and not isinstance(offset, bool) else None,
    )
