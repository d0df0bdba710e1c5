"""A throw-away root for systemd-analyze: the host's own units, ours, and fake executables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.systemd import unitfile
from tests.systemd.tools import SYSTEMD_DIR, tool

UNITS = sorted(
    path.name
    for path in SYSTEMD_DIR.iterdir()
    if path.suffix in {".service", ".target", ".path", ".socket", ".timer"}
)
HOST_UNITS = Path("/usr/lib/systemd/system")


def executables(unit: unitfile.Unit) -> list[str]:
    """The programs a unit's Exec*= lines start (without systemd's -@:+! prefixes)."""
    found = []
    for key, values in unit.get("Service", {}).items():
        if key.startswith("Exec"):
            found += [value.lstrip("-@:+!").split()[0] for value in values]
    return found


def build_root(root: Path, units_dir: Path) -> Path:
    """Lay out `root` for `systemd-analyze --root`: what verify checks is then all in there."""
    tool("systemd-analyze", "systemd")
    shutil.copytree(HOST_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    etc = root / "etc/systemd/system"
    etc.mkdir(parents=True)
    for name in UNITS:
        shutil.copy(units_dir / name, etc / name)
        for program in executables(unitfile.parse(units_dir / name)):
            fake = root / program.lstrip("/")
            fake.parent.mkdir(parents=True, exist_ok=True)
            fake.write_text("#!/bin/sh\nexit 0\n")
            fake.chmod(0o755)
    return root


@pytest.fixture(scope="session")
def unit_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_root(tmp_path_factory.mktemp("unit-root"), SYSTEMD_DIR)
