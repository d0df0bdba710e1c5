"""The box's state as the panel shows it, and the LED patterns that follow from it (pure).

`BoxState` is a snapshot read by appliance/box_state.py from the runtime files and the store;
the patterns are a function of it alone, so every situation is a table row in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

CAMERA_STATES = ("ok", "missing", "off", "unknown")  # off: none configured; unknown: web not alive
MODEM_STATES = ("ok", "fault", "off", "unknown")


@dataclass(frozen=True)
class BoxState:
    web_alive: bool  # web.json fresh, written by a running process
    relay_alive: bool  # relay.json fresh, written by a running process
    uplink: str  # appliance.relay.status_file STATES, or "unknown"
    last_ok_age: float | None  # seconds since the upstream last accepted something
    queue_depth: int  # dossiers not yet delivered
    oldest_waiting_seconds: int | None
    refused: int  # items the upstream refused for good, or holds differently (rejected, conflict)
    disk_free_bytes: int | None
    disk_low: bool  # below intake.min_free_mb
    camera: str  # one of CAMERA_STATES
    modem: str  # one of MODEM_STATES
    modem_detail: str | None  # the plain reason when the modem is at fault
    clock_ok: bool  # the box's clock is set (NTP or the upstream) and agrees with the upstream
    clock_detail: str | None


PATTERNS = ("off", "on", "slow", "fast")
BLINK_SECONDS = {"slow": (1.0, 1.0), "fast": (0.2, 0.2)}  # (on, off): the gpiozero blink times
COLOURS = ("green", "blue", "amber", "red")
RECENT_UPLINK_SECONDS = 15 * 60.0  # the upstream answered within this: blue is lit
STUCK_SECONDS = 24 * 3600  # a dossier waiting longer than a day: amber blinks fast


@dataclass(frozen=True)
class Leds:
    """What the four LEDs show, each one of PATTERNS, and plain "Vietnamese / English" sentences
    saying why (a volunteer or a technician reads them on the virtual panel)."""

    green: str
    blue: str
    amber: str
    red: str
    reasons: tuple[str, ...] = ()

    def by_colour(self) -> dict[str, str]:
        """{"green": …, "blue": …, "amber": …, "red": …}: panel.json's "leds"."""
        return {colour: getattr(self, colour) for colour in COLOURS}


def patterns(state: BoxState) -> Leds:
    """The LEDs for a snapshot: green power, blue uplink, amber queue, red fault."""
    green, green_why = _power(state)
    amber, amber_why = _queue(state)
    faults = _faults(state)
    return Leds(
        green=green,
        blue=_uplink(state),
        amber=amber,
        red="on" if faults else "off",
        reasons=(*green_why, *amber_why, *faults),
    )


def _power(state: BoxState) -> tuple[str, list[str]]:
    """Slow blink while both heartbeats are fresh; steady (never off) when one of them is down."""
    why = []
    if not state.web_alive:
        why.append("Trang web của hộp không chạy / The box's web UI is not running")
    if not state.relay_alive:
        why.append("Bộ chuyển hồ sơ lên xã không chạy / The relay to the commune is not running")
    return ("on" if why else "slow"), why


def _uplink(state: BoxState) -> str:
    if state.uplink == "sending":
        return "slow"
    recent = state.last_ok_age is not None and state.last_ok_age <= RECENT_UPLINK_SECONDS
    return "on" if state.uplink == "online" and recent else "off"


def _queue(state: BoxState) -> tuple[str, list[str]]:
    why = []
    oldest = state.oldest_waiting_seconds
    if oldest is not None and oldest > STUCK_SECONDS:
        days = oldest // 86400
        why.append(
            f"Có hồ sơ chờ gửi lên xã đã {days} ngày / "
            f"A dossier has waited {days} day(s) to be sent"
        )
    if state.refused > 0:
        why.append(
            f"Xã từ chối nhận {state.refused} mục, cần kỹ thuật viên xem / "
            f"The upstream refused {state.refused} item(s): a technician should look"
        )
    if why:
        return "fast", why
    return ("on" if state.queue_depth > 0 else "off"), why


def _faults(state: BoxState) -> list[str]:
    """One plain reason per fault that lights the red LED."""
    faults = []
    if state.disk_low:
        faults.append("Thẻ nhớ sắp đầy / The SD card is almost full")
    if state.camera == "missing":
        faults.append("Không thấy máy ảnh của trạm / The station's camera is missing")
    if state.modem == "fault":
        detail = f": {state.modem_detail}" if state.modem_detail else ""
        faults.append(f"Modem nhắn tin bị lỗi / The SMS modem has a fault{detail}")
    if state.uplink == "revoked":
        faults.append("Xã đã thu hồi quyền của hộp này / The upstream revoked this box")
    if not state.clock_ok:
        faults.append(
            state.clock_detail or "Đồng hồ của hộp chưa đúng / The box's clock is not right"
        )
    return faults
