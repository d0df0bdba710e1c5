"""The technician's checks that read the box's own state: service beats, camera, modem, queue,
disk, hotspot and version. Each takes its inputs as arguments, so a test drives both outcomes.

Every detail is one plain "Vietnamese / English" sentence: it is what the technician reads on
the page, in `hamletbox doctor` and in a support bundle.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from appliance.box_state import MB, STALE_SECONDS, WEB_FILE
from appliance.capture.camera import Camera
from appliance.config import Settings
from appliance.domain.panel import STUCK_SECONDS
from appliance.hardware.modem_api import Modem, ModemError, ModemStatus
from appliance.liveness import read_fresh
from appliance.panel import PANEL_FILE
from appliance.relay.modem_status import read_status
from appliance.relay.status_file import read_uplink
from appliance.relay.transport import software_version
from appliance.store.outbox_repo import OutboxStats

EXTERNAL_AP = (
    "radio của Pi chỉ phục vụ khoảng 8–10 điện thoại; cần nhiều hơn thì dùng bộ phát Wi-Fi "
    "ngoài / the Pi's radio holds about 8–10 phones; use an external access point for more"
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str  # plain "Vietnamese / English"

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def check_services(settings: Settings, now: datetime) -> Check:
    """The web, relay and panel beats: fresh files written by running processes."""
    run = settings.runtime_dir
    alive = {
        "web": read_fresh(run / WEB_FILE, now, STALE_SECONDS) is not None,
        "relay": read_uplink(settings, now).state != "unknown",
        "panel": read_fresh(run / PANEL_FILE, now, STALE_SECONDS) is not None,
    }
    down = [name for name, up in alive.items() if not up]
    if not down:
        return Check("services", True, "web, relay, panel đang chạy / are running")
    names = ", ".join(down)
    return Check("services", False, f"{names} không chạy / not running")


def check_camera(
    settings: Settings,
    now: datetime,
    *,
    held: Camera | None = None,
    opener: Callable[[Settings], Camera | None],
) -> Check:
    """What the web (which holds the camera) says of it; a test capture when this process holds
    it, or opens it itself while the web is not running."""
    if held is not None:
        return _test_capture(held)
    web = read_fresh(settings.runtime_dir / WEB_FILE, now, STALE_SECONDS)
    if web is not None:
        state = web.get("camera")
        if state == "ok":
            return Check("camera", True, "máy ảnh sẵn sàng (web giữ) / camera ready (held by web)")
        if state == "off":
            return Check("camera", True, "không lắp máy ảnh / no camera configured")
        return Check("camera", False, "web không thấy máy ảnh / the web found no camera")
    if settings.camera.backend == "none":
        return Check("camera", True, "không lắp máy ảnh / no camera configured")
    camera = opener(settings)
    if camera is None:
        return Check(
            "camera",
            False,
            f"máy ảnh {settings.camera.backend} không mở được (xem nhật ký) / "
            f"the {settings.camera.backend} camera did not open (see the log)",
        )
    try:
        return _test_capture(camera)
    finally:
        camera.close()


def _test_capture(camera: Camera) -> Check:
    frame = camera.capture()
    height, width = frame.shape[:2]
    size = f"{width}×{height}"
    return Check("camera", True, f"chụp thử được ảnh {size} / test capture {size}")


def check_modem(
    settings: Settings, now: datetime, *, opener: Callable[[Settings], Modem | None]
) -> Check:
    """SIM, registration and signal: the relay's modem.json while the relay holds the modem,
    else the modem asked directly."""
    if not settings.modem.url:
        return Check("modem", True, "không lắp modem / not fitted")
    if read_uplink(settings, now).state != "unknown":
        return _modem_file(settings, now)
    try:
        modem = opener(settings)
        if modem is None:
            return Check("modem", True, "không lắp modem / not fitted")
        try:
            status = modem.status()
        finally:
            modem.close()
    except ModemError as exc:
        return Check("modem", False, str(exc))
    return _modem_verdict(status.sim, status.registration, status.signal_dbm, status.operator)


def _modem_file(settings: Settings, now: datetime) -> Check:
    report = read_status(settings.runtime_dir)
    stale = 3 * settings.modem.status_seconds + STALE_SECONDS
    if report is None or report.checked_at is None:
        return Check("modem", False, "relay chưa báo modem / the relay has not reported the modem")
    age = (now - report.checked_at).total_seconds()
    if age > stale:
        return Check(
            "modem",
            False,
            f"relay không báo modem từ {age:.0f} giây / no modem report for {age:.0f} s",
        )
    if report.error:
        return Check("modem", False, report.error)
    return _modem_verdict(report.sim, report.registration, report.signal_dbm, report.operator)


def _modem_verdict(
    sim: str | None, registration: str | None, signal: int | None, operator: str | None
) -> Check:
    status = ModemStatus(sim or "unknown", registration or "unknown", signal, operator)
    dbm = "?" if signal is None else f"{signal} dBm"
    detail = (
        f"SIM: {status.sim}, mạng / network: {status.registration}"
        f"{f' ({operator})' if operator else ''}, sóng / signal: {dbm}"
    )
    return Check("modem", status.can_send, detail)


def check_queue(stats: OutboxStats) -> Check:
    """Fails when a dossier waits over a day or the upstream refused anything for good."""
    refused = stats.rejected + stats.conflicts
    oldest = stats.oldest_undelivered_seconds
    detail = f"{stats.queue_depth} hồ sơ chờ gửi / dossiers waiting"
    if oldest is not None:
        detail += f", lâu nhất / oldest {_duration(oldest)}"
    if refused:
        detail += f"; {refused} mục bị xã từ chối / items refused (/tech/outbox)"
    stuck = oldest is not None and oldest > STUCK_SECONDS
    return Check("queue", not stuck and not refused, detail)


def check_disk(settings: Settings) -> Check:
    try:
        free = shutil.disk_usage(settings.data_dir).free
    except OSError as exc:
        return Check("disk", False, f"không đọc được ổ đĩa / cannot read the disk: {exc}")
    need = settings.intake.min_free_mb * MB
    detail = f"còn trống {free // MB} MB (cần {settings.intake.min_free_mb}) / {free // MB} MB free"
    if free < need:
        return Check("disk", False, f"{detail}: sắp đầy / nearly full")
    return Check("disk", True, detail)


def count_leases(path: Path, now: datetime) -> int | None:
    """Unexpired dnsmasq leases ("expiry mac ip name id", expiry 0: never); None: no file."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return None
    stamp = now.timestamp()
    count = 0
    for line in lines:
        first = line.split(maxsplit=1)[0] if line.strip() else ""
        if first.isdigit() and (int(first) == 0 or int(first) > stamp):
            count += 1
    return count


def check_hotspot(settings: Settings, now: datetime) -> Check:
    limit = settings.hotspot.max_clients
    try:
        clients = count_leases(settings.hotspot.leases_file, now)
    except OSError as exc:
        return Check("hotspot", False, f"không đọc được tệp địa chỉ / cannot read leases: {exc}")
    if clients is None:
        return Check("hotspot", True, "không có tệp cấp địa chỉ ở đây / no hotspot leases here")
    detail = f"{clients}/{limit} điện thoại đang kết nối / phones connected"
    if clients >= limit:
        return Check("hotspot", False, f"{detail}: {EXTERNAL_AP}")
    return Check("hotspot", True, detail)


def check_version() -> Check:
    return Check("version", True, software_version())


def _duration(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60} phút / min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} giờ / h"
    return f"{seconds // 86400} ngày / days"
