"""`hamletbox sms send` and `hamletbox sms status`: the modem by hand, for the technician.

They open the modem for one command, so they are for a bench check or when the relay is stopped:
only one process can hold the serial port.
"""

from __future__ import annotations

import dataclasses
import json
import sys

from appliance.config import Settings
from appliance.domain.phone import PhoneError, normalize_vn_mobile
from appliance.hardware.modem import open_modem
from appliance.hardware.modem_api import Modem

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def send_command(settings: Settings, url: str | None, to: str, text: str) -> int:
    """Send `text` to `to`; print the network's reference of each part."""
    try:
        number = normalize_vn_mobile(to)
    except PhoneError as exc:
        print(f"hamletbox: {exc}", file=sys.stderr)
        return EXIT_FAILED
    modem = _open(settings, url)
    if modem is None:
        return EXIT_BAD_INPUT
    try:
        references = modem.send_sms(number, text)
    finally:
        modem.close()
    print(
        f"đã gửi / sent: {len(references)} phần / parts, "
        f"mã / references {' '.join(map(str, references))}"
    )
    return 0


def status_command(settings: Settings, url: str | None) -> int:
    """Print SIM, registration, signal and operator as JSON; exit 0 only when it can send."""
    modem = _open(settings, url)
    if modem is None:
        return EXIT_BAD_INPUT
    try:
        status = modem.status()
    finally:
        modem.close()
    print(json.dumps(status.as_json(), ensure_ascii=False))
    return 0 if status.can_send else EXIT_FAILED


def _open(settings: Settings, url: str | None) -> Modem | None:
    """The modem at `url`, or at modem.url in the settings; None (and a message) when neither is
    set. A port that does not open or answer raises ModemError."""
    chosen = url or settings.modem.url
    if not chosen:
        print(
            "hamletbox: chưa cấu hình modem: đặt modem.url hoặc dùng --modem / "
            "no modem configured: set modem.url or give --modem",
            file=sys.stderr,
        )
        return None
    modem_settings = dataclasses.replace(settings.modem, url=chosen)
    return open_modem(dataclasses.replace(settings, modem=modem_settings))
