"""Running the real `hamletbox` in a subprocess: the command, a clean environment, and the web on a
loopback port until a block ends. Used by the browser, kiosk, demo and bench code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.postgres import free_port


def hamletbox_command(settings: Path) -> list[str]:
    """The installed `hamletbox` of this virtualenv, with the given settings file."""
    hamletbox = shutil.which("hamletbox", path=str(Path(sys.executable).parent)) or "hamletbox"
    return [hamletbox, "--config", str(settings)]


def clean_env() -> dict[str, str]:
    """This environment without HAMLETBOX_* overrides, so the settings file alone decides."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HAMLETBOX_")}


@contextmanager
def running_web(settings: Path, log_path: Path, port: int | None = None) -> Iterator[str]:
    """`hamletbox web` on a loopback port (a free one unless given, so a restart can come back
    at the same address) until the block ends; yields its base URL. Its output goes to
    `log_path` (appended)."""
    port = port or free_port()
    cmd = [*hamletbox_command(settings), "web", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, env=clean_env(), stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_web(base + "/", proc, log_path)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def wait_for_web(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until `url` answers; fails with the process's output if it exits, or after 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hamletbox web exited: {log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"hamletbox web did not answer at {url}")
