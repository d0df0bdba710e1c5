"""The boot partition's files for one box, each read back the way the box will read it."""

from __future__ import annotations

import configparser
import dataclasses
import subprocess
from pathlib import Path

import pytest
import yaml

from appliance import config
from provisioning.bootfiles import (
    ADMIN_USER,
    FIRSTRUN_HOOK,
    REGDOM,
    boot_files,
    edit_cmdline,
    firstrun,
    read_hotspot_template,
    settings_toml,
    user_data,
)
from provisioning.devices import DEFAULT_TIMEZONE, Device, Refused
from tests.provisioning.conftest import CMDLINE, public_key

DEVICE = Device(
    hostname="xabang1",
    hamlet='Thôn "Xà Bang" 1 \\ Ấp 3',
    box_name="Điểm hỗ trợ thôn Xà Bang 1",
    ssid="Wi-Fi Thôn Xà Bang",
    wifi_password="lua\\chin som#1",
    upstream_url="https://motcua.xabang.example.vn",
    receipt_prefix="XB1",
    token="tok-" + "b" * 28,
    timezone=DEFAULT_TIMEZONE,
    ssh_key=public_key("kythuat@huyen"),
)


def test_the_settings_file_loads_with_the_box_s_own_loader(tmp_path: Path) -> None:
    path = tmp_path / "hamletbox.toml"
    path.write_text(settings_toml(DEVICE), encoding="utf-8")
    settings = config.load(path, environ={})
    assert settings.box.name == DEVICE.box_name and settings.box.hamlet == DEVICE.hamlet
    assert settings.hotspot.ssid == DEVICE.ssid
    assert settings.hotspot.password == DEVICE.wifi_password
    assert settings.hotspot.hostname == "xabang1.box"
    assert settings.relay.upstream_url == DEVICE.upstream_url
    assert settings.intake.receipt_prefix == "XB1"
    assert settings.camera.backend == "picamera2" and settings.gpio.pin_factory == "native"
    assert settings.kiosk.backend == "gtk"


def test_settings_the_box_would_refuse_are_refused_here() -> None:
    with pytest.raises(Refused, match="xabang1: cấu hình không hợp lệ / invalid settings"):
        settings_toml(dataclasses.replace(DEVICE, upstream_url="https://host with space"))


def test_cmdline_gets_the_country_and_stays_one_line() -> None:
    edited = edit_cmdline(CMDLINE.strip() + " cfg80211.ieee80211_regdom=GB\n", firstrun_hook=False)
    assert edited == CMDLINE.strip() + f" {REGDOM}\n"
    assert edit_cmdline(edited, firstrun_hook=False) == edited
    hooked = edit_cmdline(edited, firstrun_hook=True)
    assert hooked == CMDLINE.strip() + f" {REGDOM} {FIRSTRUN_HOOK}\n"
    assert edit_cmdline(hooked, firstrun_hook=True) == hooked


def test_firstrun_removes_its_hook_the_way_imager_s_does(tmp_path: Path) -> None:
    script = firstrun(DEVICE)
    assert script.startswith("#!/bin/bash\n")
    removal = next(
        line for line in script.splitlines() if line.startswith("sed -i 's| systemd.run")
    )
    cmdline = tmp_path / "cmdline.txt"
    cmdline.write_text(edit_cmdline(CMDLINE, firstrun_hook=True), encoding="utf-8")
    sed = removal.replace("/boot/firmware/cmdline.txt", str(cmdline)).split()
    subprocess.run(["sed", "-i", "s| systemd.run.*||g", sed[-1]], check=True)
    assert cmdline.read_text(encoding="utf-8") == CMDLINE.strip() + f" {REGDOM}\n"
    checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr
    assert "echo xabang1 >/etc/hostname" in script
    assert "/usr/share/zoneinfo/Asia/Ho_Chi_Minh /etc/localtime" in script
    assert "systemctl enable hamletbox-firstboot.service" in script
    assert f"passwd -l {ADMIN_USER}" in script


def test_user_data_is_cloud_config_with_a_key_only_admin() -> None:
    text = user_data(DEVICE)
    assert text.startswith("#cloud-config\n")
    data = yaml.safe_load(text)
    assert data["hostname"] == "xabang1" and data["timezone"] == DEFAULT_TIMEZONE
    assert data["ssh_pwauth"] is False
    (admin,) = data["users"]
    assert admin["name"] == ADMIN_USER and admin["lock_passwd"] is True
    assert admin["ssh_authorized_keys"] == [DEVICE.ssh_key]
    assert "systemctl start --no-block ssh hamletbox-firstboot.service" in data["runcmd"]


def test_network_config_has_ethernet_and_no_client_wifi() -> None:
    files = boot_files(DEVICE, CMDLINE, cloud_init=True, template=read_hotspot_template())
    network = yaml.safe_load(files["network-config"])["network"]
    assert network["version"] == 2 and "wifis" not in network
    assert network["ethernets"]["eth0"]["dhcp4"] is True
    assert yaml.safe_load(files["meta-data"]) == {"instance-id": "hamletbox-xabang1"}


def test_the_hotspot_profile_is_firmware_config_s_with_this_box_s_wifi() -> None:
    template = read_hotspot_template()
    files = boot_files(DEVICE, CMDLINE, cloud_init=False, template=template)
    profile = configparser.ConfigParser(interpolation=None, strict=True)
    profile.read_string(files["hamletbox/hamletbox-hotspot.nmconnection"].decode("utf-8"))
    # GKeyFile escapes: a backslash is doubled and read back as one by NetworkManager
    assert profile["wifi"]["ssid"] == DEVICE.ssid
    assert profile["wifi-security"]["psk"] == DEVICE.wifi_password.replace("\\", "\\\\")
    text = files["hamletbox/hamletbox-hotspot.nmconnection"].decode("utf-8")
    keys = [line for line in text.splitlines() if not line.startswith("#")]
    assert not [line for line in keys if "@HOTSPOT_" in line]
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert comments == [line for line in template.splitlines() if line.startswith("#")]


def test_a_template_without_its_placeholders_is_refused() -> None:
    with pytest.raises(Refused, match="@HOTSPOT_SSID@, @HOTSPOT_PASSWORD@"):
        boot_files(DEVICE, CMDLINE, False, "[wifi]\nssid=@HOTSPOT_SSID@\n")


def test_each_flavour_writes_only_what_its_os_reads() -> None:
    template = read_hotspot_template()
    trixie = boot_files(DEVICE, CMDLINE, cloud_init=True, template=template)
    bookworm = boot_files(dataclasses.replace(DEVICE, token=""), CMDLINE, False, template)
    own = {
        "hamletbox/hamletbox.toml",
        "hamletbox/authorized_keys",
        "hamletbox/hamletbox-hotspot.nmconnection",
    }
    assert set(trixie) == own | {
        "hamletbox/enroll-token",
        "user-data",
        "network-config",
        "meta-data",
        "cmdline.txt",
    }
    assert set(bookworm) == own | {"firstrun.sh", "cmdline.txt"}
    assert trixie["hamletbox/enroll-token"] == (DEVICE.token + "\n").encode()
    assert trixie["hamletbox/authorized_keys"] == (DEVICE.ssh_key + "\n").encode()
