"""CPU temperature and throttling: `vcgencmd` on a Pi, the kernel's thermal zone elsewhere.

A Pi in a hot cultural house, or on a weak power supply, slows itself down; `get_throttled` keeps
a bit for each cause, now and since boot, so a technician can tell a bad adapter from a hot box.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from appliance.doctor.checks import Check

THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")
HOT_CELSIUS = 80.0
COMMAND_SECONDS = 5.0
# get_throttled's bits: (bit, Vietnamese, English, fails the check while it holds now)
NOW_BITS = (
    (0, "điện áp thấp", "under-voltage", True),
    (1, "giảm xung nhịp", "frequency capped", False),
    (2, "đang bị hãm tốc", "throttled", True),
    (3, "chạm ngưỡng nhiệt mềm", "soft temperature limit", True),
)
SINCE_BOOT = 16  # bits 16-19: the same causes, at any time since boot

Runner = Callable[[Sequence[str]], str | None]  # stdout, or None: the command is not here


def run_command(argv: Sequence[str], timeout: float = COMMAND_SECONDS) -> str | None:
    """The command's output; None when it is not installed, failed or hung."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def decode_throttled(value: int) -> tuple[list[str], list[str], bool]:
    """(causes now, causes since boot, whether one of them now fails the check)."""
    now = [f"{vi} / {en}" for bit, vi, en, _ in NOW_BITS if value >> bit & 1]
    since = [f"{vi} / {en}" for bit, vi, en, _ in NOW_BITS if value >> (bit + SINCE_BOOT) & 1]
    bad = any(value >> bit & 1 for bit, _, _, fails in NOW_BITS if fails)
    return now, since, bad


def check_temperature(run: Runner = run_command, zone: Path = THERMAL_ZONE) -> Check:
    celsius = _vcgencmd_temp(run)
    throttled = _vcgencmd_throttled(run)
    if celsius is None:
        celsius = _zone_temp(zone)
    if celsius is None and throttled is None:
        return Check("temperature", True, "không đo được ở máy này / not measurable here")
    parts, ok = [], True
    if celsius is not None:
        parts.append(f"CPU {celsius:.1f} °C")
        if celsius > HOT_CELSIUS:
            ok = False
            parts.append(f"quá nóng / too hot (> {HOT_CELSIUS:.0f} °C)")
    if throttled is not None:
        now, since, bad = decode_throttled(throttled)
        ok = ok and not bad
        parts.append(f"bây giờ / now: {', '.join(now) or 'bình thường / normal'}")
        if since:
            parts.append(f"từ lúc khởi động / since boot: {', '.join(since)}")
    return Check("temperature", ok, "; ".join(parts))


def _vcgencmd_temp(run: Runner) -> float | None:
    found = re.search(r"temp=([\d.]+)", run(["vcgencmd", "measure_temp"]) or "")
    return float(found[1]) if found else None


def _vcgencmd_throttled(run: Runner) -> int | None:
    found = re.search(r"throttled=(0x[0-9a-fA-F]+|\d+)", run(["vcgencmd", "get_throttled"]) or "")
    return int(found[1], 0) if found else None


def _zone_temp(zone: Path) -> float | None:
    try:
        return int(zone.read_text(encoding="ascii").strip()) / 1000
    except (OSError, ValueError):
        return None
