"""Prove a personalised image is the base plus exactly the files written, before it gets its name.

The checks: the partition table is the base's (sfdisk's view and the raw table bytes); every byte
before and after the boot partition is the base's (the root file system, a GPT's backup table);
`fsck.vfat -n` finds the boot partition clean; and, read back out with mtools, every written file
has the SHA-256 of what was meant and every other file of the base is still byte for byte the same.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path

from appliance.errors import HamletBoxError
from provisioning.devices import Refused
from provisioning.image import Fat, Layout, ToolFailed, read_layout, read_region

_CHUNK = 1 << 20
_FSCK_TIMEOUT = 300


class NotVerified(HamletBoxError):
    """The image differs from what was meant; it is deleted, never renamed into place."""


def hash_region(image: Path, start: int, end: int) -> str:
    """SHA-256 of bytes [start, end) of a file."""
    digest = hashlib.sha256()
    with image.open("rb") as f:
        f.seek(start)
        left = end - start
        while left > 0:
            chunk = f.read(min(left, _CHUNK))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def outside_fat(image: Path, layout: Layout) -> tuple[str, str]:
    """Hashes of everything before the boot partition and everything after it."""
    end = layout.fat_offset + layout.fat_size
    return hash_region(image, 0, layout.fat_offset), hash_region(image, end, image.stat().st_size)


def extract_tree(image: Path, offset: int, into: Path) -> dict[str, str]:
    """Every file of the FAT partition copied out in one mtools run: relative path -> SHA-256."""
    into.mkdir(parents=True, exist_ok=True)
    Fat(image, offset).copy_out(into)
    return {
        str(path.relative_to(into)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(into.rglob("*"))
        if path.is_file()
    }


def fsck_clean(image: Path, layout: Layout, scratch: Path) -> None:
    """`fsck.vfat -n` on a copy of the partition's bytes (dosfstools has no offset option)."""
    part = scratch / "boot.part"
    read_region(image, layout.fat_offset, layout.fat_size, part)
    try:
        done = subprocess.run(
            ["fsck.vfat", "-n", str(part)],
            capture_output=True,
            text=True,
            timeout=_FSCK_TIMEOUT,
            check=False,
        )
    finally:
        part.unlink(missing_ok=True)
    if done.returncode != 0:
        raise NotVerified(f"fsck.vfat: {(done.stdout + done.stderr).strip()}")


class Baseline:
    """What is measured once on the base and compared with each copy."""

    def __init__(self, base: Path, layout: Layout, scratch: Path) -> None:
        self.layout = layout
        self.size = base.stat().st_size
        self.outside = outside_fat(base, layout)
        try:
            fsck_clean(base, layout, scratch)
        except NotVerified as exc:  # else every copy would fail for a fault of the base
            raise NotVerified(
                f"{base}: the base image's boot partition is not clean: {exc}"
            ) from None
        self.files = extract_tree(base, layout.fat_offset, scratch / "base-tree")

    def check(self, image: Path, written: dict[str, bytes], scratch: Path) -> None:
        """Raise NotVerified naming the first difference from base + written."""
        try:
            layout = read_layout(image)
        except Refused as exc:  # a table sfdisk no longer reads is a difference too
            raise NotVerified(f"{image}: partition table unreadable: {exc}") from None
        if layout != self.layout or image.stat().st_size != self.size:
            raise NotVerified(f"{image}: the partition table differs from the base")
        if outside_fat(image, layout) != self.outside:
            raise NotVerified(f"{image}: bytes outside the boot partition changed")
        fsck_clean(image, layout, scratch)
        expected = dict(self.files)
        expected.update({path: hashlib.sha256(data).hexdigest() for path, data in written.items()})
        with tempfile.TemporaryDirectory(dir=scratch) as tmp:
            try:
                found = extract_tree(image, layout.fat_offset, Path(tmp))
            except ToolFailed as exc:
                raise NotVerified(f"{image}: cannot read the boot partition back: {exc}") from None
        for path in sorted(set(expected) | set(found)):
            if expected.get(path) != found.get(path):
                raise NotVerified(f"{image}: {path} on the boot partition is not what was written")
