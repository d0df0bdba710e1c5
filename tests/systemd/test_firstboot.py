"""hamletbox-firstboot.sh with fake nmcli, nm-online, systemctl and hamletbox: what it installs,
what it removes, and what it keeps for the next boot."""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.systemd.tools import SYSTEMD_DIR, run, tool

SCRIPT = SYSTEMD_DIR / "hamletbox-firstboot.sh"
SETTINGS = '[relay]\nupstream_url = "https://motcua.example.vn"\n'
# The fake `hamletbox enroll`: logs its argv and the token it read, exits $FAKE_ENROLL_EXIT and,
# on success, writes device.json where the real one would.
FAKE_HAMLETBOX = """#!/bin/sh
echo "$*" >> "$FAKE_LOG"
while [ $# -gt 0 ]; do
  [ "$1" = --token-file ] && echo "token=$(cat "$2")" >> "$FAKE_LOG"; shift
done
[ "$FAKE_ENROLL_EXIT" = 0 ] && echo '{}' > "$HAMLETBOX_ETC_DIR/device.json"
exit "$FAKE_ENROLL_EXIT"
"""
FAKE_TOOL = '#!/bin/sh\necho "$(basename "$0") $*" >> "$FAKE_LOG"\n'


@dataclass
class Box:
    boot: Path
    etc: Path
    nm: Path
    log: Path
    env: dict[str, str]

    def run(self, enroll_exit: int = 0) -> int:
        env = {**self.env, "FAKE_ENROLL_EXIT": str(enroll_exit)}
        return run(["sh", str(SCRIPT)], env=env).returncode

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def box(tmp_path: Path) -> Box:
    boot, etc, nm, bin_dir = (tmp_path / name for name in ("boot", "etc", "nm", "bin"))
    for folder in (boot, etc, nm, bin_dir):
        folder.mkdir()
    for name, text in {
        "nmcli": FAKE_TOOL,
        "nm-online": FAKE_TOOL,
        "systemctl": FAKE_TOOL,
        "hamletbox": FAKE_HAMLETBOX,
    }.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (boot / "hamletbox.toml").write_text(SETTINGS)
    (boot / "hamletbox-hotspot.nmconnection").write_text("[connection]\nid=hamletbox-hotspot\n")
    (boot / "enroll-token").write_text("tok-123\n")
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_LOG": str(tmp_path / "calls.log"),
        "HAMLETBOX_BOOT_DIR": str(boot),
        "HAMLETBOX_ETC_DIR": str(etc),
        "HAMLETBOX_NM_DIR": str(nm),
        "HAMLETBOX_BIN": str(bin_dir / "hamletbox"),
        "HAMLETBOX_OWNER": pwd.getpwuid(os.getuid()).pw_name,
        "HAMLETBOX_OWNER_GROUP": grp.getgrgid(os.getgid()).gr_name,
        "HAMLETBOX_GROUP": grp.getgrgid(os.getgid()).gr_name,
    }
    return Box(boot, etc, nm, tmp_path / "calls.log", env)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_shellcheck_is_clean() -> None:
    result = run([tool("shellcheck", "shellcheck"), str(SCRIPT)])
    assert result.returncode == 0, result.stdout


def test_first_boot_installs_enrolls_and_starts(box: Box) -> None:
    assert box.run() == 0
    assert (box.etc / "hamletbox.toml").read_text() == SETTINGS
    assert mode(box.etc / "hamletbox.toml") == 0o640
    assert mode(box.nm / "hamletbox-hotspot.nmconnection") == 0o600
    assert mode(box.etc / "device.json") == 0o600
    assert list(box.boot.iterdir()) == []
    calls = box.calls()
    assert (
        "enroll --upstream https://motcua.example.vn --token-file " + str(box.boot / "enroll-token")
        in calls
    )
    assert "token=tok-123" in calls
    assert "nmcli connection up hamletbox-hotspot" in calls
    assert calls[-1] == "systemctl enable --now --no-block hamletbox.target"
    assert not any("tok-123" in call for call in calls if call.startswith("hamletbox"))


def test_network_failure_keeps_the_token_for_the_next_boot(box: Box) -> None:
    assert box.run(enroll_exit=1) == 1
    assert (box.boot / "enroll-token").read_text() == "tok-123\n"
    assert not (box.boot / "hamletbox.toml").exists()
    assert box.calls()[-1] == "systemctl enable --now --no-block hamletbox.target"
    box.log.unlink()
    assert box.run() == 0
    assert "token=tok-123" in box.calls()
    assert not (box.boot / "enroll-token").exists()
    assert (box.etc / "hamletbox.toml").read_text() == SETTINGS


def test_a_refused_token_is_removed(box: Box) -> None:
    assert box.run(enroll_exit=2) == 1
    assert not (box.boot / "enroll-token").exists()
    assert not (box.etc / "device.json").exists()


def test_an_enrolled_box_does_not_spend_a_token(box: Box) -> None:
    (box.etc / "device.json").write_text("{}")
    assert box.run() == 0
    assert not any(call.startswith("enroll") for call in box.calls())
    assert not (box.boot / "enroll-token").exists()


def test_no_upstream_url_keeps_the_token(box: Box) -> None:
    (box.boot / "hamletbox.toml").write_text('[box]\nname = "Hộp"\n')
    assert box.run() == 1
    assert (box.boot / "enroll-token").exists()
    assert not any(call.startswith("enroll") for call in box.calls())
