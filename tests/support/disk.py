"""A disk that really fills up: a small tmpfs mounted for one test (root only), and a file that
takes its free space down to a given amount."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MB = 1024 * 1024


@contextmanager
def small_tmpfs(where: Path, size_mb: int) -> Iterator[Path]:
    """A `size_mb` tmpfs (0700) mounted at `where` (made if missing), unmounted afterwards; the
    test is skipped, saying why, where mounting is not allowed."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; run the tests as root")
    where.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(where)]
    done = subprocess.run(mount, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (no CAP_SYS_ADMIN?): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def fill(folder: Path, leave: int) -> Path:
    """A file that takes the filesystem's free space down to about `leave` bytes (or to none)."""
    filler = folder / "filler"
    chunk = b"\0" * MB
    with filler.open("ab") as out:
        try:
            while shutil.disk_usage(folder).free - len(chunk) >= leave:
                out.write(chunk)
                out.flush()
            out.write(b"\0" * max(0, shutil.disk_usage(folder).free - leave))
            out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler
