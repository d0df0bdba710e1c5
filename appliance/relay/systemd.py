"""sd_notify without libsystemd: readiness, stopping and watchdog pings for Type=notify services.

Outside systemd (no $NOTIFY_SOCKET: tests, the demo, a terminal) every call is a quiet no-op.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("hamletbox.relay")


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send e.g. "READY=1" or "WATCHDOG=1"; True when systemd's socket took it."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if address.startswith("@"):
        address = "\0" + address[1:]  # Linux abstract namespace
    elif not address.startswith("/"):
        return False  # unset, or a kind of address (vsock) a Pi never gets
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode(), address)
    except OSError as exc:
        log.warning("sd_notify %s failed: %s", message, exc)
        return False
    return True


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half systemd's WatchdogSec=), or None when it is off."""
    env = os.environ if environ is None else environ
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (we were started by the service's main process)
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2_000_000 if usec > 0 else None
