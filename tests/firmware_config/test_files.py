"""The hotspot profile, the udev rule, the journald drop-in and the config.txt fragment, checked
key by key against what NetworkManager, udev, journald and the Pi firmware read."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from tests.systemd.tools import FIRMWARE_DIR, missing

PLACEHOLDERS = {"ssid": "@HOTSPOT_SSID@", "psk": "@HOTSPOT_PASSWORD@"}
JOURNALD = Path("/usr/lib/systemd/systemd-journald")
MODEM = "ttyHAMLETMODEM"


def ini(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string((FIRMWARE_DIR / name).read_text(encoding="utf-8"))
    return parser


def test_hotspot_profile_is_a_wpa2_access_point_sharing_10_42_0_1() -> None:
    profile = ini("hamletbox-hotspot.nmconnection")
    assert dict(profile["connection"]) == {
        "id": "hamletbox-hotspot",
        "type": "wifi",
        "interface-name": "wlan0",
        "autoconnect": "true",
        "autoconnect-priority": "100",
    }
    assert profile["wifi"]["mode"] == "ap"
    assert profile["wifi"]["ssid"] == PLACEHOLDERS["ssid"]
    security = dict(profile["wifi-security"])
    assert security == {
        "key-mgmt": "wpa-psk",
        "proto": "rsn",
        "pairwise": "ccmp",
        "group": "ccmp",
        "psk": PLACEHOLDERS["psk"],
    }
    assert dict(profile["ipv4"]) == {"method": "shared", "address1": "10.42.0.1/24"}


def test_hotspot_address_is_the_settings_default() -> None:
    from appliance.config import HotspotSettings

    address = ini("hamletbox-hotspot.nmconnection")["ipv4"]["address1"].split("/")[0]
    assert address == HotspotSettings().address
    assert f"address=/#/{address}" in (FIRMWARE_DIR / "dnsmasq-shared.conf").read_text()


def udev_rules(text: str) -> list[dict[tuple[str, str], str]]:
    """Each rule line as {(key, operator): value}; a malformed pair fails the test."""
    pair = re.compile(r'\s*([A-Z_]+(?:\{[^}]+\})?)\s*(==|!=|\+=|:=|=)\s*"([^"]*)"\s*(?:,|$)')
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        found, end = {}, 0
        while end < len(line):
            match = pair.match(line, end)
            assert match, f"cannot read udev rule at {line[end:]!r}"
            found[(match.group(1), match.group(2))] = match.group(3)
            end = match.end()
        rules.append(found)
    return rules


KNOWN_UDEV_KEYS = {"SUBSYSTEM", "KERNEL", "ATTRS", "ENV", "SYMLINK", "GROUP", "MODE"}


def test_udev_names_each_modem_port_and_keeps_it_for_dialout() -> None:
    text = (FIRMWARE_DIR / "99-hamletbox-modem.rules").read_text()
    rules = udev_rules(text)
    ids = set()
    for rule in rules:
        assert {key.split("{")[0] for key, _ in rule} <= KNOWN_UDEV_KEYS, rule
        assert rule[("SUBSYSTEM", "==")] == "tty"
        assert rule[("SYMLINK", "+=")] == MODEM
        assert (rule[("GROUP", "=")], rule[("MODE", "=")]) == ("dialout", "0660")
        vendor, product = rule[("ATTRS{idVendor}", "==")], rule[("ATTRS{idProduct}", "==")]
        assert re.fullmatch(r"[0-9a-f]{4}", vendor) and re.fullmatch(r"[0-9a-f]{4}", product)
        ids.add((vendor, product))
        if vendor in {"1e0e", "2c7c"}:  # multi-port modems: the AT port only
            assert rule[("ENV{ID_USB_INTERFACE_NUM}", "==")] == "02"
    assert {("1a86", "7523"), ("10c4", "ea60"), ("1e0e", "9001"), ("2c7c", "0125")} <= ids
    commented = [line.lstrip("#") for line in text.splitlines() if "ttyAMA0" in line]
    (uart,) = udev_rules("\n".join(line for line in commented if "==" in line))
    assert uart[("KERNEL", "==")] == "ttyAMA0" and uart[("SYMLINK", "+=")] == MODEM


def journald_keys() -> set[str]:
    """The [Journal] keys this systemd's journald knows: its config table is in the binary."""
    if not JOURNALD.exists():
        missing("systemd-journald is not installed", "systemd")
    return {key.decode() for key in re.findall(rb"Journal\.([A-Za-z]+)\x00", JOURNALD.read_bytes())}


def seconds(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)\s*(s|min|h|month)?", text).groups()  # type: ignore[union-attr]
    return int(number) * {"s": 1, None: 1, "min": 60, "h": 3600, "month": 2629800}[unit]


def megabytes(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([KMG])", text).groups()  # type: ignore[union-attr]
    return int(number) * {"K": 1, "M": 1024, "G": 1024 * 1024}[unit] // 1024


def test_journald_is_kind_to_the_sd_card() -> None:
    journal = ini("journald.conf")["Journal"]
    assert set(journal) <= journald_keys()
    assert journal["Storage"] in {"volatile", "persistent"}
    assert journal["Compress"] == "yes"
    assert seconds(journal["SyncIntervalSec"]) >= 300
    assert megabytes(journal["SystemMaxUse"]) <= 64
    assert journal["ForwardToSyslog"] == "no"


def test_journald_key_check_can_fail() -> None:
    assert "Storage" in journald_keys() and "Storgae" not in journald_keys()


def config_txt() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(active, commented-out) settings of the config.txt fragment."""
    active: dict[str, list[str]] = {}
    commented: dict[str, list[str]] = {}
    for line in (FIRMWARE_DIR / "config.txt").read_text().splitlines():
        target = commented if line.startswith("#") else active
        match = re.fullmatch(r"#?([a-z_]+)=(\S+)", line.strip())
        if match:
            target.setdefault(match.group(1), []).append(match.group(2))
        else:
            assert line.startswith("#") or line in {"", "[all]"}, line
    return active, commented


def test_config_txt_detects_the_camera_and_offers_the_uart() -> None:
    active, commented = config_txt()
    assert active["camera_auto_detect"] == ["1"]
    assert "enable_uart" not in active and commented["enable_uart"] == ["1"]
    assert "disable-bt" in commented["dtoverlay"] and "disable-bt" not in active["dtoverlay"]


@pytest.mark.parametrize("name", sorted(p.name for p in FIRMWARE_DIR.iterdir()))
def test_every_file_is_mapped_in_the_readme(name: str) -> None:
    assert f"`{name}`" in (FIRMWARE_DIR / "README.md").read_text()
