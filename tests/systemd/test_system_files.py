"""The sysusers.d and tmpfiles.d fragments applied for real to a throw-away root, and the polkit
rule evaluated by a JavaScript engine against the requests logind would make."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.systemd.tools import SYSTEMD_DIR, run, tool

POLKIT_HARNESS = """
const fs = require("fs");
const rules = [];
const polkit = {Result: {YES: "yes", NO: "no", NOT_HANDLED: null}, addRule: (f) => rules.push(f)};
eval(fs.readFileSync(process.argv[1], "utf8"));
const answers = JSON.parse(process.argv[2]).map(([user, id]) => {
  for (const rule of rules) {
    const result = rule({id: id}, {user: user});
    if (result) return result;
  }
  return "not handled";
});
console.log(JSON.stringify(answers));
"""


def sysusers_root(root: Path) -> Path:
    (root / "etc").mkdir(parents=True)
    sysusers = tool("systemd-sysusers", "systemd")
    conf = SYSTEMD_DIR / "hamletbox.sysusers.conf"
    result = run([sysusers, f"--root={root}", str(conf)])
    assert result.returncode == 0, result.stderr
    return root


def passwd(root: Path) -> dict[str, list[str]]:
    lines = (root / "etc/passwd").read_text().splitlines()
    return {line.split(":")[0]: line.split(":") for line in lines}


def test_sysusers_creates_the_service_user(tmp_path: Path) -> None:
    root = sysusers_root(tmp_path)
    user = passwd(root)["hamletbox"]
    assert user[5:] == ["/var/lib/hamletbox", "/usr/sbin/nologin"]
    assert int(user[2]) < 1000  # a system user
    groups = {line.split(":")[0] for line in (root / "etc/group").read_text().splitlines()}
    assert {"hamletbox", "gpio"} <= groups


def test_tmpfiles_makes_the_shared_folders(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("systemd-tmpfiles gives the folders away to hamletbox: needs root")
    root = sysusers_root(tmp_path)
    tmpfiles = tool("systemd-tmpfiles", "systemd")
    conf = SYSTEMD_DIR / "hamletbox.tmpfiles.conf"
    result = run([tmpfiles, f"--root={root}", "--create", str(conf)])
    assert result.returncode == 0, result.stderr
    uid = int(passwd(root)["hamletbox"][2])
    run_dir, etc_dir = (root / "run/hamletbox").stat(), (root / "etc/hamletbox").stat()
    assert (stat.S_IMODE(run_dir.st_mode), run_dir.st_uid) == (0o750, uid)
    assert (stat.S_IMODE(etc_dir.st_mode), etc_dir.st_uid) == (0o750, 0)
    assert etc_dir.st_gid == run_dir.st_gid


def test_polkit_lets_the_service_user_power_off_and_nothing_else(tmp_path: Path) -> None:
    node = tool("node", "nodejs")
    asks = [
        ["hamletbox", "org.freedesktop.login1.power-off"],
        ["hamletbox", "org.freedesktop.login1.power-off-multiple-sessions"],
        ["hamletbox", "org.freedesktop.login1.power-off-ignore-inhibit"],
        ["hamletbox", "org.freedesktop.login1.reboot"],
        ["hamletbox", "org.freedesktop.systemd1.manage-units"],
        ["www-data", "org.freedesktop.login1.power-off"],
    ]
    rules = SYSTEMD_DIR / "hamletbox-poweroff.rules"
    result = run([node, "-e", POLKIT_HARNESS, str(rules), json.dumps(asks)])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["yes"] * 3 + ["not handled"] * 3
