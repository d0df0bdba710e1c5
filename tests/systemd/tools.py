"""The system tools these tests run: a missing one skips the test locally and fails it on CI."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import pytest

SYSTEMD_DIR = Path(__file__).resolve().parents[2] / "systemd"
FIRMWARE_DIR = Path(__file__).resolve().parents[2] / "firmware_config"


def missing(reason: str, package: str) -> NoReturn:
    """Skip with the reason; on CI (CI=true) fail, since `make test` installs the package."""
    message = f"{reason}: make test installs it (apt-get install {package})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def tool(name: str, package: str) -> str:
    """The full path of a command, or skip/fail naming the Debian package that has it."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        missing(f"{name} is not installed", package)
    return found


def run(argv: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a tool and capture its text output; never raises on a non-zero exit."""
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        list(argv), capture_output=True, text=True, check=False, timeout=120, **kwargs
    )
