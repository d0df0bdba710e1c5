"""AT commands for an SMS modem, built and parsed by pure functions (3GPP TS 27.007 and 27.005).

The session in appliance.hardware.modem does the waiting; everything that can be decided from the
text of a line is here, so it is tested with tables and shared with the fake modem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# Echo off, numeric error codes (+CMS/+CME ERROR: n, matched against ERRORS), PDU mode.
INIT = ("ATE0", "AT+CMEE=1", "AT+CMGF=0")
PROBE = "AT"
CPIN = "AT+CPIN?"
CREG = "AT+CREG?"
CSQ = "AT+CSQ"
COPS = "AT+COPS?"
CTRL_Z = b"\x1a"
ESC = b"\x1b"
RESET_MARKS = ("RDY", "+CFUN: 1")  # what a modem says when it has just restarted


def cmgs(tpdu_length: int) -> str:
    """Start sending one PDU: its length in octets, the SMSC octet not counted."""
    return f"AT+CMGS={tpdu_length}"


def command_line(command: str) -> bytes:
    return command.encode("ascii") + b"\r"


def pop_line(buffer: bytearray) -> str | None:
    """Take the next non-empty line out of what the modem sent, or None when no whole line is
    there yet. Lines end in CR, LF or both; bytes that are not ASCII read as U+FFFD."""
    while True:
        ends = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
        if not ends:
            return None
        raw = bytes(buffer[: min(ends)])
        del buffer[: min(ends) + 1]
        line = raw.decode("ascii", errors="replace").strip()
        if line:
            return line


def take_prompt(buffer: bytearray) -> bool:
    """True, with the buffer emptied, when the modem is showing the `> ` prompt of AT+CMGS."""
    if not buffer.lstrip(b"\r\n").startswith(b">"):
        return False
    buffer.clear()
    return True


ResultKind = Literal["ok", "error", "cms", "cme"]


@dataclass(frozen=True)
class Final:
    """The line that ends a command's answer."""

    kind: ResultKind
    code: int | None = None  # +CMS/+CME number (verbose text is mapped back to it when known)
    text: str | None = None  # the modem's own words when it gave text, not a number

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


_ERROR_LINE = re.compile(r"^\+(CMS|CME) ERROR:\s*(.*)$")


def final_result(line: str) -> Final | None:
    """OK, ERROR, +CMS ERROR: n and +CME ERROR: n or text; None for any other line."""
    if line == "OK":
        return Final("ok")
    if line == "ERROR":
        return Final("error")
    match = _ERROR_LINE.match(line)
    if match is None:
        return None
    kind: ResultKind = "cms" if match.group(1) == "CMS" else "cme"
    detail = match.group(2).strip()
    if detail.isdigit():
        return Final(kind, int(detail))
    return Final(kind, _CODE_BY_NAME[kind].get(detail.lower()), detail)


def value(line: str, prefix: str) -> str | None:
    """What follows "+XXX: " on an information line, or None when the line is not that answer."""
    if not line.startswith(prefix):
        return None
    return line[len(prefix) :].strip()


_CPIN = {
    "READY": "ready",
    "SIM PIN": "pin",
    "SIM PIN2": "pin",
    "PH-SIM PIN": "pin",
    "SIM PUK": "puk",
    "SIM PUK2": "puk",
    "NOT INSERTED": "absent",
}
_SIM_ERRORS = {10: "absent", 11: "pin", 12: "puk", 13: "error", 15: "error"}


def parse_cpin(text: str) -> str:
    """+CPIN: READY | SIM PIN | SIM PUK | ... -> one of modem.SIM_STATES."""
    return _CPIN.get(text.strip().strip('"').upper(), "unknown")


def sim_from_error(final: Final) -> str:
    """What a refused AT+CPIN? says about the SIM: +CME ERROR: 10 is "SIM not inserted"."""
    if final.kind == "cme" and final.code is not None:
        return _SIM_ERRORS.get(final.code, "unknown")
    return "error"


# stat 6 and 7 are "registered for SMS only" (home, roaming) on LTE modems.
_CREG = {
    0: "not_registered",
    1: "home",
    2: "searching",
    3: "denied",
    4: "unknown",
    5: "roaming",
    6: "home",
    7: "roaming",
}


def parse_creg(text: str) -> str:
    """+CREG: n,stat[,lac,ci] (a query's answer) or +CREG: stat (unsolicited) -> REGISTRATIONS."""
    fields = [field.strip() for field in text.split(",")]
    stat = fields[1] if len(fields) >= 2 else fields[0]
    return _CREG.get(int(stat), "unknown") if stat.isdigit() else "unknown"


def parse_csq(text: str) -> int | None:
    """+CSQ: rssi,ber -> dBm: 0 is -113 or less, 1 is -111, 2..30 are -109..-53, 31 is -51 or
    more, 99 (or anything else) unknown."""
    rssi = text.split(",")[0].strip()
    if not rssi.isdigit() or not 0 <= int(rssi) <= 31:
        return None
    return -113 + 2 * int(rssi)


def parse_cmgs(text: str) -> int | None:
    """+CMGS: mr[,scts] -> the message reference the network gave."""
    reference = text.split(",")[0].strip()
    return int(reference) if reference.isdigit() else None


def parse_cops(text: str) -> str | None:
    """+COPS: mode[,format,"operator"[,act]] -> the operator's name, None when not registered."""
    match = re.search(r'"([^"]*)"', text)
    if match is None:
        return None
    return match.group(1).strip() or None


@dataclass(frozen=True)
class ErrorInfo:
    name: str  # the standard's words, which a modem in verbose mode (AT+CMEE=2) prints
    message: str  # plain "Vietnamese / English" for the technician and the outbox log
    transient: bool  # trying later may work (network, SIM being fixed); false: this message never


_NUMBER = "Số điện thoại không nhận được tin nhắn / The number cannot receive text messages"
_NETWORK = "Mạng di động đang lỗi, sẽ thử lại / The mobile network failed; will try again"
_NO_NETWORK = "Modem không có sóng hoặc chưa vào mạng / The modem has no signal or network"
_SIM = "SIM trong modem có vấn đề, cần kỹ thuật viên kiểm tra / The modem's SIM needs a technician"

ERRORS: dict[tuple[str, int], ErrorInfo] = {
    ("cms", 1): ErrorInfo(
        "Unassigned number", "Số điện thoại không tồn tại / No such number", False
    ),
    ("cms", 8): ErrorInfo("Operator determined barring", _SIM, True),
    ("cms", 10): ErrorInfo("Call barred", _SIM, True),
    ("cms", 21): ErrorInfo("Short message transfer rejected", _NUMBER, False),
    ("cms", 27): ErrorInfo("Destination out of service", _NUMBER, False),
    ("cms", 28): ErrorInfo("Unidentified subscriber", _NUMBER, False),
    ("cms", 29): ErrorInfo("Facility rejected", _NUMBER, False),
    ("cms", 30): ErrorInfo("Unknown subscriber", _NUMBER, False),
    ("cms", 38): ErrorInfo("Network out of order", _NETWORK, True),
    ("cms", 41): ErrorInfo("Temporary failure", _NETWORK, True),
    ("cms", 42): ErrorInfo("Congestion", "Mạng di động đang nghẽn / The network is busy", True),
    ("cms", 47): ErrorInfo("Resources unavailable, unspecified", _NETWORK, True),
    ("cms", 50): ErrorInfo(
        "Requested facility not subscribed",
        "SIM chưa đăng ký dịch vụ tin nhắn / The SIM has no SMS service",
        False,
    ),
    ("cms", 96): ErrorInfo("Invalid mandatory information", _NUMBER, False),
    ("cms", 300): ErrorInfo("ME failure", "Modem bị lỗi / The modem failed", True),
    ("cms", 302): ErrorInfo("Operation not allowed", "Modem chưa sẵn sàng / Modem not ready", True),
    ("cms", 304): ErrorInfo(
        "Invalid PDU mode parameter",
        "Modem không nhận tin nhắn này / The modem refused this message",
        False,
    ),
    ("cms", 310): ErrorInfo("SIM not inserted", "Chưa lắp SIM / No SIM in the modem", True),
    ("cms", 311): ErrorInfo("SIM PIN required", _SIM, True),
    ("cms", 313): ErrorInfo("SIM failure", _SIM, True),
    ("cms", 316): ErrorInfo("SIM PUK required", _SIM, True),
    ("cms", 322): ErrorInfo("Memory full", "Bộ nhớ modem đầy / The modem's memory is full", True),
    ("cms", 330): ErrorInfo(
        "SMSC address unknown",
        "SIM chưa có số tổng đài tin nhắn / The SIM has no SMS centre number",
        True,
    ),
    ("cms", 331): ErrorInfo("No network service", _NO_NETWORK, True),
    ("cms", 332): ErrorInfo(
        "Network timeout", "Mạng không trả lời kịp / The network timed out", True
    ),
    ("cms", 500): ErrorInfo("Unknown error", "Modem báo lỗi chưa rõ / Unknown modem error", True),
    ("cme", 0): ErrorInfo("Phone failure", "Modem bị lỗi / The modem failed", True),
    ("cme", 3): ErrorInfo("Operation not allowed", "Modem chưa sẵn sàng / Modem not ready", True),
    ("cme", 4): ErrorInfo(
        "Operation not supported",
        "Modem không hỗ trợ lệnh này / The modem does not support this",
        False,
    ),
    ("cme", 10): ErrorInfo("SIM not inserted", "Chưa lắp SIM / No SIM in the modem", True),
    ("cme", 11): ErrorInfo("SIM PIN required", _SIM, True),
    ("cme", 12): ErrorInfo("SIM PUK required", _SIM, True),
    ("cme", 13): ErrorInfo("SIM failure", _SIM, True),
    ("cme", 14): ErrorInfo("SIM busy", "SIM đang bận / The SIM is busy", True),
    ("cme", 15): ErrorInfo("SIM wrong", _SIM, True),
    ("cme", 30): ErrorInfo("No network service", _NO_NETWORK, True),
    ("cme", 31): ErrorInfo("Network timeout", "Mạng không trả lời kịp / Network timeout", True),
    ("cme", 100): ErrorInfo("Unknown", "Modem báo lỗi chưa rõ / Unknown modem error", True),
}
_CODE_BY_NAME = {
    kind: {info.name.lower(): code for (k, code), info in ERRORS.items() if k == kind}
    for kind in ("cms", "cme")
}


def describe(final: Final) -> ErrorInfo:
    """A refusal in plain words; an unknown code gets a generic message that names the number."""
    if final.code is not None and (final.kind, final.code) in ERRORS:
        return ERRORS[(final.kind, final.code)]
    label = final.kind.upper()
    detail = final.code if final.code is not None else final.text or ""
    if final.kind == "error" or not str(detail):
        message = "Modem từ chối lệnh / The modem refused the command"
    else:
        message = f"Modem báo lỗi {label} {detail} / The modem reported {label} error {detail}"
    return ErrorInfo(final.text or "", message, True)


def error_line(kind: str, code: int, mode: int) -> str:
    """How a modem words a refusal under AT+CMEE=mode (0 plain ERROR, 1 number, 2 text)."""
    if mode == 0:
        return "ERROR"
    prefix = "+CMS ERROR: " if kind == "cms" else "+CME ERROR: "
    info = ERRORS.get((kind, code))
    return prefix + (info.name if mode == 2 and info is not None else str(code))
