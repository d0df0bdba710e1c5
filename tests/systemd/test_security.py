"""`systemd-analyze security` exposure of the daemons: 4.0 or lower each (issue 7).

The numbers are printed (pytest -s, or -rP) so they can be quoted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.systemd.tools import run

LIMIT = 4.0
OVERALL = re.compile(r"Overall exposure level for (\S+): (\d+\.\d+)")


def exposure(root: Path, name: str) -> float:
    result = run(["systemd-analyze", "security", "--offline=true", f"--root={root}", name])
    found = OVERALL.search(result.stdout)
    assert found, f"no exposure level in:\n{result.stdout}\n{result.stderr}"
    return float(found.group(2))


@pytest.mark.parametrize("name", ["web", "relay", "panel"])
def test_exposure_is_low(unit_root: Path, name: str) -> None:
    score = exposure(unit_root, f"hamletbox-{name}.service")
    print(f"systemd-analyze security hamletbox-{name}.service: {score}")
    assert score <= LIMIT


def test_an_unhardened_service_scores_high(tmp_path: Path, unit_root: Path) -> None:
    """The measurement can fail: the same web unit without its hardening is far above 4.0."""
    etc = unit_root / "etc/systemd/system"
    hardened = (etc / "hamletbox-web.service").read_text().splitlines()
    plain = [line for line in hardened if not line.startswith(("Protect", "Restrict", "Private"))]
    (etc / "plain-web.service").write_text("\n".join(plain) + "\n")
    try:
        assert exposure(unit_root, "plain-web.service") > LIMIT
    finally:
        (etc / "plain-web.service").unlink()
