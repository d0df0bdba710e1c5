"""Reads the box's state for the panel and for doctor: the runtime files each daemon keeps fresh
(web.json, relay.json, modem.json), the outbox, the disk and the clock. No writes, no hardware."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from appliance.config import Settings
from appliance.domain.panel import BoxState
from appliance.liveness import read_fresh
from appliance.relay.modem_status import read_status
from appliance.relay.status_file import read_uplink
from appliance.store.blobs import BlobStore
from appliance.store.outbox_repo import OutboxRepo

WEB_FILE = "web.json"  # the web process's beat: {"camera": "ok"|"missing"|"off", pid, updated_at}
STALE_SECONDS = 60.0  # a daemon's file older than this (it rewrites every ~10 s) means it is down
CLOCK_FLOOR = datetime(2026, 11, 1, tzinfo=UTC)  # before this the clock was never set (no RTC)
CLOCK_SKEW_SECONDS = 300.0  # further from the upstream's clock than this: the clock is wrong
MB = 1024 * 1024


def read_box_state(settings: Settings, sessions: sessionmaker[Session], now: datetime) -> BoxState:
    web = read_fresh(settings.runtime_dir / WEB_FILE, now, STALE_SECONDS)
    uplink = read_uplink(settings, now)
    stats = OutboxRepo(sessions, BlobStore(settings.blob_dir)).stats(now)
    free = _disk_free(settings)
    modem, modem_detail = _modem(settings, now)
    clock_ok, clock_detail = clock_verdict(now, uplink.clock_offset)
    camera = web.get("camera") if web is not None else "unknown"
    last_ok = uplink.last_ok_at
    return BoxState(
        web_alive=web is not None,
        relay_alive=uplink.state != "unknown",
        uplink=uplink.state,
        last_ok_age=None if last_ok is None else (now - last_ok).total_seconds(),
        queue_depth=stats.queue_depth,
        oldest_waiting_seconds=stats.oldest_undelivered_seconds,
        refused=stats.rejected + stats.conflicts,
        disk_free_bytes=free,
        disk_low=free is not None and free < settings.intake.min_free_mb * MB,
        camera=camera if camera in ("ok", "missing", "off") else "unknown",
        modem=modem,
        modem_detail=modem_detail,
        clock_ok=clock_ok,
        clock_detail=clock_detail,
    )


def _disk_free(settings: Settings) -> int | None:
    try:
        return shutil.disk_usage(settings.data_dir).free
    except OSError:
        return None


def _modem(settings: Settings, now: datetime) -> tuple[str, str | None]:
    """ "off" without a configured modem; "unknown" while the relay has said nothing fresh."""
    if not settings.modem.url:
        return "off", None
    report = read_status(settings.runtime_dir)
    stale = 3 * settings.modem.status_seconds + STALE_SECONDS
    if report is None or report.checked_at is None:
        return "unknown", None
    if (now - report.checked_at).total_seconds() > stale:
        return "unknown", None
    if report.error:
        return "fault", report.error
    if not report.can_send:
        return "fault", f"SIM: {report.sim or '?'}, mạng / network: {report.registration or '?'}"
    return "ok", None


def clock_verdict(now: datetime, offset: float | None) -> tuple[bool, str | None]:
    if now < CLOCK_FLOOR:
        return False, (
            "Đồng hồ của hộp chưa được đặt (chưa có mạng hay NTP) / "
            "The box's clock is not set yet (no network or NTP)"
        )
    if offset is not None and abs(offset) > CLOCK_SKEW_SECONDS:
        return False, (
            f"Đồng hồ của hộp lệch {abs(offset):.0f} giây so với xã / "
            f"The box's clock is {abs(offset):.0f} s off the upstream's"
        )
    return True, None
