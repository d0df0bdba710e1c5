"""Crash-safe file writes, one way for the whole box: a power cut leaves the old file or the new
one, never half of either (the Pi's SD card has no battery-backed cache to save it)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(
    path: Path, data: bytes, *, durable: bool = True, temp_prefix: str | None = None
) -> None:
    """Replace `path` with `data` in one rename; a failed write leaves no temp file. The new file is
    mode 0600 (mkstemp's). `durable` also fsyncs the file and its folder, which a file on the SD
    card needs and a tmpfs does not. `temp_prefix` names temp files a sweep may recognise."""
    prefix = f".{path.name}." if temp_prefix is None else temp_prefix
    fd, temp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new name in `path` survive a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
