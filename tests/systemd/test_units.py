"""The units pass `systemd-analyze verify` and keep the runtime contract (ARCHITECTURE.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.systemd import unitfile
from tests.systemd.conftest import UNITS, build_root
from tests.systemd.tools import SYSTEMD_DIR, run

VENV_BIN = "/opt/hamletbox/venv/bin/hamletbox"
DAEMONS = {"web": "60", "relay": "300", "panel": "30"}


def verify(root: Path, name: str) -> list[str]:
    """Everything systemd-analyze says about the unit: an unknown key is only a warning to it,
    so any output at all counts as a problem, and so does a non-zero exit."""
    result = run(["systemd-analyze", "verify", f"--root={root}", name])
    said = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    if result.returncode != 0 and not said:
        said = [f"exit {result.returncode}"]
    return said


def unit(name: str) -> unitfile.Unit:
    return unitfile.parse(SYSTEMD_DIR / name)


def test_every_unit_is_there() -> None:
    expected = {f"hamletbox-{name}.service" for name in (*DAEMONS, "kiosk", "firstboot")}
    assert expected | {"hamletbox.target"} <= set(UNITS)


@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verify(unit_root: Path, name: str) -> None:
    assert verify(unit_root, name) == []


def test_verify_catches_a_typo_and_a_missing_program(tmp_path: Path) -> None:
    units = tmp_path / "units"
    shutil.copytree(SYSTEMD_DIR, units)
    web = units / "hamletbox-web.service"
    web.write_text(web.read_text().replace("ProtectHome=yes", "ProtectHom=yes"))
    root = build_root(tmp_path / "root", units)
    assert any("ProtectHom" in line for line in verify(root, "hamletbox-web.service"))
    (root / VENV_BIN.lstrip("/")).unlink()
    assert any("not executable" in line for line in verify(root, "hamletbox-relay.service"))


@pytest.mark.parametrize("name", DAEMONS)
def test_daemons_notify_systemd_and_run_the_venv(name: str) -> None:
    service = unit(f"hamletbox-{name}.service")
    assert unitfile.one(service, "Service", "Type") == "notify"
    assert unitfile.one(service, "Service", "NotifyAccess") == "main"
    assert unitfile.one(service, "Service", "WatchdogSec") == DAEMONS[name]
    assert unitfile.one(service, "Service", "Restart") == "on-failure"
    assert unitfile.one(service, "Service", "RestartSec") == "5"
    assert unitfile.one(service, "Service", "ExecStart").split()[:2] == [VENV_BIN, name]
    assert unitfile.one(service, "Service", "User") == "hamletbox"
    assert unitfile.one(service, "Service", "StateDirectoryMode") == "0700"
    assert unitfile.one(service, "Service", "RuntimeDirectoryPreserve") == "yes"
    assert unitfile.one(service, "Service", "CapabilityBoundingSet") == ""
    assert "Environment" in service["Service"]
    assert "HAMLETBOX_CONFIG=/etc/hamletbox/hamletbox.toml" in service["Service"]["Environment"]


def test_relay_watchdog_outlasts_its_timeout() -> None:
    """The relay pings between requests: one request may take relay.timeout_seconds (30) to
    connect plus the upload itself, so the watchdog must leave room for both."""
    from appliance.config import RelaySettings

    watchdog = int(unitfile.one(unit("hamletbox-relay.service"), "Service", "WatchdogSec"))
    assert watchdog >= RelaySettings().timeout_seconds + 240


def test_relay_gets_its_secret_as_a_credential_and_waits_for_it() -> None:
    relay = unit("hamletbox-relay.service")
    credential = unitfile.one(relay, "Service", "LoadCredential")
    assert credential == "device.json:/etc/hamletbox/device.json"
    assert unitfile.one(relay, "Unit", "ConditionPathExists") == "/etc/hamletbox/device.json"
    assert unitfile.words(relay, "Service", "SupplementaryGroups") == ["dialout"]
    watcher = unit("hamletbox-relay.path")
    assert unitfile.one(watcher, "Path", "PathExists") == "/etc/hamletbox/device.json"
    assert "hamletbox-relay.path" in unitfile.words(unit("hamletbox.target"), "Unit", "Wants")


def test_web_listens_where_the_firewall_redirects() -> None:
    """No capability: the hotspot's port 80 reaches the web through nftables' redirect."""
    from tests.firmware_config.nft import web_port

    web = unit("hamletbox-web.service")
    argv = unitfile.one(web, "Service", "ExecStart").split()
    assert argv[argv.index("--port") + 1] == str(web_port())
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    assert unitfile.one(web, "Service", "AmbientCapabilities") == ""
    assert sorted(unitfile.words(web, "Service", "SupplementaryGroups")) == ["gpio", "video"]


def test_panel_has_local_sockets_only() -> None:
    panel = unit("hamletbox-panel.service")
    assert unitfile.words(panel, "Service", "RestrictAddressFamilies") == ["AF_UNIX"]
    assert unitfile.words(panel, "Service", "SupplementaryGroups") == ["gpio"]


def test_kiosk_runs_cage_on_tty1_after_the_web() -> None:
    kiosk = unit("hamletbox-kiosk.service")
    argv = unitfile.one(kiosk, "Service", "ExecStart").split()
    assert argv == ["/usr/bin/cage", "--", VENV_BIN, "kiosk"]
    assert unitfile.one(kiosk, "Service", "TTYPath") == "/dev/tty1"
    assert unitfile.one(kiosk, "Service", "PAMName") == "login"
    assert unitfile.one(kiosk, "Service", "Restart") == "always"
    assert "hamletbox-web.service" in unitfile.words(kiosk, "Unit", "After")
    assert "MemoryDenyWriteExecute" not in kiosk["Service"]
    assert "/var/lib/hamletbox" in unitfile.one(kiosk, "Service", "InaccessiblePaths")


def test_firstboot_runs_once_per_boot_file_before_the_services() -> None:
    firstboot = unit("hamletbox-firstboot.service")
    assert unitfile.one(firstboot, "Service", "Type") == "oneshot"
    conditions = firstboot["Unit"]["ConditionPathExists"]
    assert "|/boot/firmware/hamletbox/enroll-token" in conditions
    script = Path(unitfile.one(firstboot, "Service", "ExecStart"))
    assert script.name == "hamletbox-firstboot.sh"
    assert (SYSTEMD_DIR / script.name).stat().st_mode & 0o111
    for name in (*DAEMONS, "kiosk"):
        after = unitfile.words(unit(f"hamletbox-{name}.service"), "Unit", "After")
        assert "hamletbox-firstboot.service" in after, name
