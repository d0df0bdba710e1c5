"""A Raspberry Pi OS image file: its partition table, its FAT boot partition, files in and out of
it.

Nothing is mounted: sfdisk reads the table from the file and mtools edits the FAT file system at its
byte offset (`-i IMAGE@@OFFSET`), so the technician's laptop needs no root. The boot partition is
the first partition, as on every Raspberry Pi OS image, and the firmware reads it before Linux
starts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import HamletBoxError
from provisioning.devices import Refused

# MBR types for FAT (FAT16, FAT32 CHS, FAT32 LBA, FAT16 LBA) and the GPT "basic data" GUID.
FAT_TYPES = frozenset({"6", "b", "c", "e", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"})
_TOOL_TIMEOUT = 120


@dataclass(frozen=True)
class Layout:
    """The partition table as sfdisk reports it, with the boot partition's place in bytes."""

    table: dict[str, Any]  # sfdisk --json's "partitiontable", without the file names in it
    fat_offset: int
    fat_size: int


def read_layout(image: Path) -> Layout:
    """The image's table; Refused unless its first partition is a FAT file system."""
    if not image.is_file():
        raise Refused([f"{image}: không tìm thấy tệp ảnh / image file not found"])
    done = _run(["sfdisk", "--json", str(image)], check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise Refused([f"{image}: không đọc được bảng phân vùng / no partition table found"])
    table = _without_names(json.loads(done.stdout)["partitiontable"])
    parts = table.get("partitions") or []
    no_fat = [f"{image}: không có phân vùng khởi động FAT / no FAT boot partition"]
    if not parts or str(parts[0].get("type", "")).upper() not in {t.upper() for t in FAT_TYPES}:
        raise Refused(no_fat)
    sector = int(table.get("sectorsize", 512))
    layout = Layout(table, int(parts[0]["start"]) * sector, int(parts[0]["size"]) * sector)
    if not _looks_like_fat(image, layout.fat_offset):
        raise Refused(no_fat)
    return layout


def _without_names(table: dict[str, Any]) -> dict[str, Any]:
    """The table minus the file and node names, which differ between a base and its copy."""
    clean = {k: v for k, v in table.items() if k != "device"}
    clean["partitions"] = [
        {k: v for k, v in part.items() if k != "node"} for part in table.get("partitions", [])
    ]
    return clean


def _looks_like_fat(image: Path, offset: int) -> bool:
    with image.open("rb") as f:
        f.seek(offset)
        boot = f.read(512)
    return len(boot) == 512 and boot[510:512] == b"\x55\xaa" and b"FAT" in boot[54:90]


class Fat:
    """The boot partition of one image file, read and written through mtools."""

    def __init__(self, image: Path, offset: int) -> None:
        self.image = image
        self.target = f"{image}@@{offset}"

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None if the partition has no such file."""
        done = _run(["mcopy", "-n", "-i", self.target, f"::/{path}", "-"], check=False, text=False)
        return done.stdout if done.returncode == 0 else None

    def exists(self, path: str) -> bool:
        return _run(["mdir", "-b", "-i", self.target, f"::/{path}"], check=False).returncode == 0

    def write(self, path: str, data: bytes) -> None:
        """Create or replace the file, making its folders first."""
        folder = path.rpartition("/")[0]
        if folder and not self.exists(folder):
            _run(["mmd", "-i", self.target, f"::/{folder}"])
        with tempfile.TemporaryDirectory(prefix="hamletbox-fat-") as tmp:
            source = Path(tmp) / "file"
            source.write_bytes(data)
            _run(["mcopy", "-o", "-i", self.target, str(source), f"::/{path}"])

    def listing(self) -> list[str]:
        """Every file and folder on the partition, for comparing a copy with its base."""
        done = _run(["mdir", "-/", "-b", "-a", "-i", self.target, "::/"], check=False)
        if done.returncode != 0:
            return []  # mdir fails on an empty partition
        return sorted(line for line in done.stdout.splitlines() if line.strip())

    def copy_out(self, into: Path) -> None:
        """Every file and folder into a local folder in one mtools run (not one per file)."""
        if self.listing():  # mcopy of '::*' fails on an empty partition
            _run(["mcopy", "-s", "-n", "-m", "-i", self.target, "::*", f"{into}/"])


def copy_image(base: Path, dest: Path) -> None:
    """A full copy of the base, flushed to the disk before it is edited and verified."""
    shutil.copyfile(base, dest)
    with dest.open("rb+") as f:
        os.fsync(f.fileno())


def read_region(image: Path, start: int, length: int, into: Path) -> None:
    """Copy bytes [start, start+length) of the image into a file (fsck wants a whole device)."""
    with image.open("rb") as src, into.open("wb") as dst:
        src.seek(start)
        left = length
        while left > 0:
            chunk = src.read(min(left, 1 << 20))
            if not chunk:
                break
            dst.write(chunk)
            left -= len(chunk)


def _run(
    args: list[str], check: bool = True, text: bool = True
) -> subprocess.CompletedProcess[Any]:
    """Run an mtools or util-linux tool; a failure names the tool and what it said."""
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "MTOOLSRC": os.devnull, "LC_ALL": "C"}
    try:
        done = subprocess.run(
            args, capture_output=True, text=text, env=env, timeout=_TOOL_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise Refused(
            [
                f"thiếu chương trình {args[0]} (cài mtools, fdisk, dosfstools)"
                f" / {args[0]} not found (install mtools, fdisk, dosfstools)"
            ]
        ) from None
    if check and done.returncode != 0:
        said = done.stderr if text else done.stderr.decode("utf-8", "replace")
        raise ToolFailed(f"{' '.join(args[:1])}: {said.strip()}")
    return done


class ToolFailed(HamletBoxError):
    """A tool failed on an image that passed the checks: the image being made is dropped."""
