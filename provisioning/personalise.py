"""`hamletbox provision image`: one personalised, verified copy of the base image per DEVICES.csv
row.

Everything that can be refused (the CSV, the base image, the hotspot template, each box's settings,
the output folder and its free space) is checked before the first byte is written, so a refusal
leaves the output folder as it was. Each image is made under a hidden temporary name and renamed
only once verified; a failure removes it, so a file named <hostname>.img is always complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from provisioning.bootfiles import boot_files, read_hotspot_template
from provisioning.devices import Device, Refused, read_devices
from provisioning.image import Fat, Layout, copy_image, read_layout
from provisioning.verify import Baseline

# Room besides the copies: the base's boot files, one copy's boot files, fsck's partition copy.
SCRATCH_PARTITIONS = 3


@dataclass(frozen=True)
class Made:
    """One finished image: where, how big, which boot-partition files were written."""

    device: Device
    path: Path
    size: int
    files: tuple[str, ...]


def free_bytes(folder: Path) -> int:
    """Free space where the folder is (or would be created)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return shutil.disk_usage(existing).free


def make_images(
    base: Path,
    devices_csv: Path,
    out: Path,
    ssh_key: Path | None = None,
    free: Callable[[Path], int] = free_bytes,
) -> list[Made]:
    """Check everything, then make and verify each image; Refused before any write."""
    devices = read_devices(devices_csv, ssh_key)
    layout = read_layout(base)
    source = Fat(base, layout.fat_offset)
    cmdline = source.read("cmdline.txt")
    if cmdline is None:
        raise Refused([f"{base}: không có cmdline.txt trong phân vùng khởi động / no cmdline.txt"])
    cloud_init = source.exists("meta-data")
    template = read_hotspot_template()
    plans = [
        (device, boot_files(device, cmdline.decode("utf-8"), cloud_init, template))
        for device in devices
    ]
    _check_out(out, base, layout, devices, free)
    out.mkdir(parents=True, exist_ok=True)
    made: list[Made] = []
    with tempfile.TemporaryDirectory(dir=out, prefix=".hamletbox-scratch-") as tmp:
        scratch = Path(tmp)
        baseline = Baseline(base, layout, scratch)
        for device, files in plans:
            made.append(_make_one(base, out, device, files, baseline, scratch))
    return made


def _check_out(
    out: Path, base: Path, layout: Layout, devices: list[Device], free: Callable[[Path], int]
) -> None:
    """Refuse a folder that is a file, would overwrite an image, or lacks room for all of them."""
    if out.exists() and not out.is_dir():
        raise Refused([f"{out}: không phải thư mục / not a folder"])
    taken = [
        str(out / f"{d.hostname}.img") for d in devices if (out / f"{d.hostname}.img").exists()
    ]
    if taken:
        raise Refused(
            [
                f"{path}: đã có, xóa hoặc chọn thư mục khác / already exists; delete it or choose"
                " another folder"
                for path in taken
            ]
        )
    need = len(devices) * base.stat().st_size + SCRATCH_PARTITIONS * layout.fat_size
    have = free(out)
    if have < need:
        raise Refused(
            [
                f"{out}: không đủ chỗ: cần {_mib(need)} MiB, còn {_mib(have)} MiB"
                f" / not enough room: {_mib(need)} MiB needed, {_mib(have)} MiB free"
            ]
        )


def _mib(n: int) -> int:
    return -(-n // (1 << 20))


def _make_one(
    base: Path,
    out: Path,
    device: Device,
    files: dict[str, bytes],
    baseline: Baseline,
    scratch: Path,
) -> Made:
    final = out / f"{device.hostname}.img"
    partial = out / f".{device.hostname}.img.partial"
    try:
        copy_image(base, partial)
        fat = Fat(partial, baseline.layout.fat_offset)
        for path, data in files.items():
            fat.write(path, data)
        baseline.check(partial, files, scratch)
        with partial.open("rb+") as f:
            os.fsync(f.fileno())
        partial.replace(final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_dir(out)
    return Made(device, final, final.stat().st_size, tuple(files))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
