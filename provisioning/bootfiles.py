"""What one box's boot partition carries: its settings, its one-time token, and the first-boot
hooks.

The box's own files go under /hamletbox/ on the FAT partition (/boot/firmware/hamletbox/ on the
running Pi), where hamletbox-firstboot.service (systemd/) picks them up: it installs hamletbox.toml
and the hotspot profile, enrolls with `--token-file`, removes each file once used, brings the
hotspot up. FAT has no file modes, so "0600" means nothing on the card: the token is a one-time
secret that the first boot spends and deletes, and a card is handled like a key until then.

The operating system's part follows the Raspberry Pi Imager conventions, at the root of the
partition: Raspberry Pi OS Trixie images ship cloud-init, seen as `meta-data` on the base image, and
get `user-data`, `network-config` and `meta-data`; older (Bookworm) images get Imager's
`firstrun.sh`, run once through `systemd.run=` on the kernel command line and then removed from it.
Both set the hostname, the time zone, and an admin login (`hamletbox-admin`: SSH key only, never a
password; the `hamletbox` service user stays a service user without sudo), and start the box's
first-boot unit. cmdline.txt also gets `cfg80211.ieee80211_regdom=VN`: the radio's country from
power-on.
"""

from __future__ import annotations

import json
import shlex
import tempfile
from pathlib import Path

from appliance import config
from appliance.config import SettingsError
from provisioning.devices import Device, Refused

BOOT_DIR = "hamletbox"
BOOT_MOUNT = "/boot/firmware"
ADMIN_USER = "hamletbox-admin"
ADMIN_GROUPS = "sudo,adm,dialout,video,render,input,gpio,netdev,systemd-journal"
REGDOM = "cfg80211.ieee80211_regdom=VN"
FIRSTRUN_HOOK = (
    f"systemd.run={BOOT_MOUNT}/firstrun.sh systemd.run_success_action=reboot"
    " systemd.unit=kernel-command-line.target"
)
HOTSPOT_TEMPLATE = (
    Path(__file__).resolve().parent.parent / "firmware_config" / ("hamletbox-hotspot.nmconnection")
)
HOTSPOT_PLACEHOLDERS = ("@HOTSPOT_SSID@", "@HOTSPOT_PASSWORD@")
# Settings every personalised box gets besides its own row: the Pi's camera, pins and kiosk.
PI_SETTINGS = {
    "camera": {"backend": "picamera2"},
    "gpio": {"pin_factory": "native"},
    "kiosk": {"backend": "gtk"},
}


def boot_files(device: Device, cmdline: str, cloud_init: bool, template: str) -> dict[str, bytes]:
    """Path on the FAT partition -> contents, for one device; `template` is the hotspot profile."""
    own = f"{BOOT_DIR}/"
    files = {
        own + "hamletbox.toml": settings_toml(device),
        own + "authorized_keys": device.ssh_key + "\n",
        own + "hamletbox-hotspot.nmconnection": hotspot_profile(device, template),
    }
    if device.token:
        files[own + "enroll-token"] = device.token + "\n"
    if cloud_init:
        files["user-data"] = user_data(device)
        files["network-config"] = NETWORK_CONFIG
        files["meta-data"] = meta_data(device)
    else:
        files["firstrun.sh"] = firstrun(device)
    files["cmdline.txt"] = edit_cmdline(cmdline, firstrun_hook=not cloud_init)
    return {path: text.encode("utf-8") for path, text in files.items()}


def settings_toml(device: Device) -> str:
    """The box's hamletbox.toml in appliance.config's key names; Refused where config refuses."""
    tables = {
        "box": {"name": device.box_name, "hamlet": device.hamlet},
        "hotspot": {
            "ssid": device.ssid,
            "password": device.wifi_password,
            "hostname": f"{device.hostname}.box",
        },
        "relay": {"upstream_url": device.upstream_url},
        "intake": {"receipt_prefix": device.receipt_prefix},
        **PI_SETTINGS,
    }
    text = "# Written by `hamletbox provision image`; see README.md for every key.\n"
    for table, values in tables.items():
        text += f"\n[{table}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in values.items())
    _check_settings(text, device)
    return text


def _toml(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, and DEL must be escaped too."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _check_settings(text: str, device: Device) -> None:
    with tempfile.TemporaryDirectory(prefix="hamletbox-settings-") as tmp:
        path = Path(tmp) / "hamletbox.toml"
        path.write_text(text, encoding="utf-8")
        try:
            config.load(path, environ={})
        except SettingsError as exc:
            problem = f"{device.hostname}: cấu hình không hợp lệ / invalid settings: {exc}"
            raise Refused([problem]) from None


def hotspot_profile(device: Device, template: str) -> str:
    """firmware_config's NetworkManager profile with this box's SSID and WPA2 password filled in
    (in key lines only: the template's comments keep naming the placeholders)."""
    values = dict(zip(HOTSPOT_PLACEHOLDERS, (device.ssid, device.wifi_password), strict=True))
    lines = template.splitlines(keepends=True)
    filled = 0
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("#", ";")):
            continue
        for name, value in values.items():
            if name in line:
                lines[i] = line = line.replace(name, _keyfile(value))
                filled += 1
    if filled != len(values):
        names = ", ".join(HOTSPOT_PLACEHOLDERS)
        raise Refused([f"{HOTSPOT_TEMPLATE}: cần đúng một chỗ điền / needs each of once: {names}"])
    return "".join(lines)


def read_hotspot_template(path: Path = HOTSPOT_TEMPLATE) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise Refused(
            [f"{path}: không tìm thấy mẫu hotspot / hotspot template not found"]
        ) from None


def _keyfile(value: str) -> str:
    """A value as NetworkManager's keyfile (GKeyFile) reads it back unchanged."""
    escaped = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
    if escaped.startswith(" "):
        escaped = "\\s" + escaped[1:]
    return escaped


def edit_cmdline(cmdline: str, firstrun_hook: bool) -> str:
    """cmdline.txt stays one line: VN regulatory domain, and the firstrun hook last (Imager's way:
    firstrun.sh removes everything from ` systemd.run` on)."""
    words = [
        word
        for word in cmdline.split()
        if not word.startswith(("cfg80211.ieee80211_regdom=", "systemd.run", "systemd.unit="))
    ]
    words.append(REGDOM)
    if firstrun_hook:
        words.append(FIRSTRUN_HOOK)
    return " ".join(words) + "\n"


def _common_steps() -> list[str]:
    """Shell lines both first-boot paths run as root. The hotspot profile, the settings and the
    token are hamletbox-firstboot.service's: it installs them and removes them from the card."""
    return ["systemctl enable ssh"]


def user_data(device: Device) -> str:
    """cloud-init user-data (Trixie): hostname, time zone, admin login, then the first boot."""
    q = json.dumps
    steps = _common_steps()
    steps.append("systemctl start --no-block ssh hamletbox-firstboot.service")
    lines = [
        "#cloud-config",
        f"hostname: {q(device.hostname)}",
        "manage_etc_hosts: true",
        f"timezone: {q(device.timezone)}",
        "ssh_pwauth: false",
        "disable_root: true",
        "users:",
        f"  - name: {q(ADMIN_USER)}",
        f"    groups: {q(ADMIN_GROUPS)}",
        "    shell: /bin/bash",
        "    lock_passwd: true",
        '    sudo: "ALL=(ALL) NOPASSWD:ALL"',
        "    ssh_authorized_keys:",
        f"      - {q(device.ssh_key)}",
        "runcmd:",
        *(f"  - {q(step)}" for step in steps),
    ]
    return "\n".join(lines) + "\n"


NETWORK_CONFIG = """\
# The box is the Wi-Fi access point (NetworkManager's hotspot profile), never a Wi-Fi client:
# no wifis here. Ethernet, when plugged in, is the uplink and takes an address by DHCP.
network:
  version: 2
  ethernets:
    eth0:
      dhcp4: true
      optional: true
"""


def meta_data(device: Device) -> str:
    """A distinct instance id per box, so cloud-init runs once on each and never again."""
    return f"instance-id: {json.dumps('hamletbox-' + device.hostname)}\n"


def firstrun(device: Device) -> str:
    """Raspberry Pi Imager's firstrun.sh for Bookworm, with the box's own steps."""
    q = shlex.quote
    admin, home = q(ADMIN_USER), f"/home/{ADMIN_USER}"
    keys = f"{BOOT_MOUNT}/{BOOT_DIR}/authorized_keys"
    lines = [
        "#!/bin/bash",
        "# Runs once as root at first boot (systemd.run= in cmdline.txt), then removes itself.",
        "set +e",
        "CURRENT_HOSTNAME=$(tr -d ' \\t\\n\\r' </etc/hostname)",
        f"echo {q(device.hostname)} >/etc/hostname",
        f'sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t{device.hostname}/g" /etc/hosts',
        f"ln -sf /usr/share/zoneinfo/{q(device.timezone)} /etc/localtime",
        f"echo {q(device.timezone)} >/etc/timezone",
        f"id {admin} >/dev/null 2>&1 || useradd -m -s /bin/bash {admin}",
        f'for g in ${{ADMIN_GROUPS//,/ }}; do usermod -aG "$g" {admin} 2>/dev/null; done',
        f"passwd -l {admin}",
        f"install -d -m 700 -o {admin} -g {admin} {home}/.ssh",
        f"install -m 600 -o {admin} -g {admin} {keys} {home}/.ssh/authorized_keys",
        f"echo '{ADMIN_USER} ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/010_hamletbox-admin",
        "chmod 440 /etc/sudoers.d/010_hamletbox-admin",
        "printf 'PasswordAuthentication no\\n' >/etc/ssh/sshd_config.d/hamletbox.conf",
        "systemctl disable userconfig.service 2>/dev/null",
        *_common_steps(),
        "systemctl enable hamletbox-firstboot.service",
        f"rm -f {BOOT_MOUNT}/firstrun.sh",
        f"sed -i 's| systemd.run.*||g' {BOOT_MOUNT}/cmdline.txt",
        "exit 0",
    ]
    lines.insert(3, f"ADMIN_GROUPS={q(ADMIN_GROUPS)}")
    return "\n".join(lines) + "\n"
