"""runtime_dir/modem.json: the modem's last known SIM, registration and signal.

The relay's SMS sender writes it every `modem.status_seconds`; the heartbeat reads its signal and
the technician page shows it with its age. It lives on the runtime tmpfs (ARCHITECTURE.md): a
write a minute must not wear the SD card.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.files import write_atomically
from appliance.hardware.modem_api import ModemStatus
from appliance.relay.heartbeat import MODEM_FILE

NO_MODEM = "Chưa cấu hình modem (modem.url) / No modem is configured (modem.url)"


@dataclass(frozen=True)
class ModemReport:
    """What the file says; every field may be missing (an old or damaged file)."""

    sim: str | None
    registration: str | None
    signal_dbm: int | None
    operator: str | None
    checked_at: datetime | None
    error: str | None

    @property
    def can_send(self) -> bool:
        return self.sim == "ready" and self.registration in ("home", "roaming")


def write_status(
    runtime_dir: Path, status: ModemStatus | None, checked_at: datetime, error: str | None
) -> None:
    data: dict[str, Any] = {"sim": None, "registration": None, "signal_dbm": None}
    data["operator"] = None
    if status is not None:
        data.update(status.as_json())
    data["checked_at"] = checked_at.isoformat()
    data["error"] = error
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    runtime_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(runtime_dir / MODEM_FILE, body, durable=False)


def read_status(runtime_dir: Path) -> ModemReport | None:
    """None when the relay has not written it (not running, or just started)."""
    try:
        data = json.loads((runtime_dir / MODEM_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    signal = data.get("signal_dbm")
    return ModemReport(
        sim=_text(data.get("sim")),
        registration=_text(data.get("registration")),
        signal_dbm=signal if isinstance(signal, int) and not isinstance(signal, bool) else None,
        operator=_text(data.get("operator")),
        checked_at=_when(data.get("checked_at")),
        error=_text(data.get("error")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _when(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None
