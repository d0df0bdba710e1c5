"""DEVICES.csv: one row per box the technician personalises, checked whole before anything is
written.

Columns (UTF-8, header row; a spreadsheet's byte-order mark is fine): hostname, hamlet, box_name,
ssid, wifi_password, upstream_url, receipt_prefix are required; token (filled by `provision
enroll`), timezone (default Asia/Ho_Chi_Minh) and ssh_key (a path to a .pub file or the key text
itself; required unless `--ssh-key` gives one for every box) are optional. Every problem is reported
with its spreadsheet row number (the header is row 1), so the technician fixes the sheet once
instead of once per run.

Decisions: the hotspot password must be 10-63 printable ASCII characters (WPA2 takes 8-63; 10 is our
floor because the password is printed on a poster anyway and a short one is guessed from a car
outside), not one character repeated, not the SSID, and not a well-known password. The upstream URL
must be https://; plain http:// is accepted only for a loopback host (127.0.0.1, ::1, localhost),
which is what tests and a bench upstream use and which never leaves the machine.
"""

from __future__ import annotations

import base64
import binascii
import csv
import ipaddress
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from appliance.config import RECEIPT_PREFIX

REQUIRED = (
    "hostname",
    "hamlet",
    "box_name",
    "ssid",
    "wifi_password",
    "upstream_url",
    "receipt_prefix",
)
OPTIONAL = ("token", "timezone", "ssh_key")
COLUMNS = REQUIRED + OPTIONAL
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
MIN_PASSWORD = 10
MAX_PASSWORD = 63
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "1234567890a",
        "123456789a",
        "1234512345",
        "1122334455",
        "qwertyuiop",
        "password123",
        "password1234",
        "matkhau123",
        "matkhau1234",
        "matkhauwifi",
        "khongcomatkhau",
        "iloveyou123",
        "abcd123456",
        "a123456789",
        "admin12345",
        "hamletbox1",
        "hamletbox123",
    }
)
KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_SSID_BYTES = 32
_LOOPBACK_NAMES = ("localhost",)


class Refused(Exception):
    """Input the command will not act on; each line names the row or file and what to fix."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Device:
    """One box: what goes into its image."""

    hostname: str
    hamlet: str
    box_name: str
    ssid: str
    wifi_password: str
    upstream_url: str
    receipt_prefix: str
    token: str
    timezone: str
    ssh_key: str  # the public key line, never a path


def read_devices(path: Path, ssh_key_file: Path | None = None) -> list[Device]:
    """Every row of the CSV as a Device, or Refused listing every problem in the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise Refused([f"{path}: không tìm thấy tệp / file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"{path}: không đọc được tệp (cần UTF-8) / cannot read it (UTF-8?): {exc}"
        raise Refused([problem]) from None
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        names = ", ".join(missing)
        raise Refused([f"{path}: thiếu cột / missing columns: {names}"])
    default_key = _key_from_file(ssh_key_file, f"--ssh-key {ssh_key_file}") if ssh_key_file else ""
    devices: list[Device] = []
    problems: list[str] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue  # a blank line a spreadsheet left behind
        found = _device(row, default_key, path.parent)
        if isinstance(found, Device):
            devices.append(found)
        else:
            problems.extend(f"{path}: dòng {number} / row {number}: {p}" for p in found)
    problems.extend(_duplicates(path, devices))
    if not devices and not problems:
        problems.append(f"{path}: không có dòng thiết bị nào / no device rows")
    if problems:
        raise Refused(problems)
    return devices


def _device(row: Mapping[str, str], default_key: str, base: Path) -> Device | list[str]:
    """A Device from one row, or the row's problems."""
    problems = [
        f"ô trống ở cột {name} / empty cell in column {name}" for name in REQUIRED if not row[name]
    ]
    if problems:
        return problems
    hostname = row["hostname"].lower()
    timezone = row.get("timezone") or DEFAULT_TIMEZONE
    problems += check_hostname(hostname)
    problems += _check_ssid(row["ssid"])
    problems += check_password(row["wifi_password"], row["ssid"])
    problems += check_url(row["upstream_url"])
    problems += _check_prefix(row["receipt_prefix"])
    problems += _check_timezone(timezone)
    key = default_key
    if row.get("ssh_key"):
        try:
            key = _key(row["ssh_key"], base)
        except Refused as exc:
            problems += exc.problems
    elif not key:
        problems.append(
            "thiếu khóa SSH (cột ssh_key hoặc --ssh-key) / no SSH key (ssh_key or --ssh-key)"
        )
    if problems:
        return problems
    return Device(
        hostname=hostname,
        hamlet=row["hamlet"],
        box_name=row["box_name"],
        ssid=row["ssid"],
        wifi_password=row["wifi_password"],
        upstream_url=row["upstream_url"].rstrip("/"),
        receipt_prefix=row["receipt_prefix"],
        token=row.get("token", ""),
        timezone=timezone,
        ssh_key=key,
    )


def _duplicates(path: Path, devices: list[Device]) -> list[str]:
    """Two rows for one hostname (an image would overwrite another) or one token (it works once)."""
    problems: list[str] = []
    for field, label in (("hostname", "tên máy / hostname"), ("token", "mã đăng ký / token")):
        seen: set[str] = set()
        for device in devices:
            value = getattr(device, field)
            if value and value in seen:
                problems.append(f"{path}: {label} trùng / duplicate {field}: {value}")
            seen.add(value)
    return problems


def check_hostname(name: str) -> list[str]:
    if _LABEL.match(name):
        return []
    return [
        f"tên máy '{name}' không hợp lệ: chỉ chữ không dấu, số và '-', tối đa 63 ký tự"
        f" / invalid hostname '{name}': letters a-z, digits and '-', up to 63 characters"
    ]


def _check_ssid(ssid: str) -> list[str]:
    if len(ssid.encode("utf-8")) <= _SSID_BYTES:
        return []
    return [f"tên Wi-Fi quá dài (tối đa 32 byte) / SSID too long (32 bytes at most): {ssid}"]


def check_password(password: str, ssid: str) -> list[str]:
    """The hotspot password's problems (none: acceptable); the module docstring gives the rule."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return [
            f"mật khẩu Wi-Fi cần {MIN_PASSWORD}–{MAX_PASSWORD} ký tự"
            f" / the Wi-Fi password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        ]
    if not all(" " <= ch <= "~" for ch in password):
        return [
            "mật khẩu Wi-Fi chỉ dùng chữ không dấu, số và ký hiệu"
            " / the Wi-Fi password may use only unaccented letters, digits and symbols"
        ]
    lowered = password.lower()
    if len(set(password)) == 1 or lowered == ssid.lower() or lowered in COMMON_PASSWORDS:
        return [
            "mật khẩu Wi-Fi quá dễ đoán (lặp một ký tự, trùng tên Wi-Fi hoặc quá phổ biến)"
            " / the Wi-Fi password is too easy to guess (one character, the SSID, or a common one)"
        ]
    return []


def check_url(url: str) -> list[str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    ok_shape = bool(re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", url)) and host != ""
    if ok_shape and (parts.scheme == "https" or _is_loopback(host)):
        return []
    return [
        f"địa chỉ máy chủ xã phải bắt đầu bằng https:// / the upstream URL must be https://…: {url}"
    ]


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_prefix(prefix: str) -> list[str]:
    if RECEIPT_PREFIX.match(prefix):
        return []
    return [
        f"tiền tố biên nhận '{prefix}' phải có 1–4 chữ in hoa hoặc số"
        f" / receipt prefix '{prefix}' must be 1-4 capital letters or digits"
    ]


def _check_timezone(name: str) -> list[str]:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return [f"múi giờ không đúng / unknown time zone: {name}"]
    return []


def _key(cell: str, base: Path) -> str:
    """The cell's key text, or the key read from the file it names (relative to the CSV)."""
    if cell.split(maxsplit=1)[0] in KEY_TYPES:
        return _check_key(cell, "ssh_key")
    return _key_from_file((base / Path(cell).expanduser()), cell)


def _key_from_file(path: Path, where: str) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise Refused([f"{where}: không đọc được khóa SSH / cannot read the SSH key"]) from None
    return _check_key(text, where)


def _check_key(text: str, where: str) -> str:
    """One OpenSSH public key line; a private key is refused so it never lands on a card."""
    if "PRIVATE KEY" in text:
        raise Refused(
            [f"{where}: đây là khóa bí mật, cần tệp .pub / this is a private key, give the .pub"]
        )
    fields = text.split()
    valid = len(text.splitlines()) == 1 and len(fields) >= 2 and fields[0] in KEY_TYPES
    if valid:
        try:
            valid = base64.b64decode(fields[1], validate=True).startswith(
                len(fields[0]).to_bytes(4, "big") + fields[0].encode()
            )
        except binascii.Error:
            valid = False
    if not valid:
        raise Refused([f"{where}: không phải khóa SSH công khai / not an SSH public key"])
    return text
