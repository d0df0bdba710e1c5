"""Synthetic Raspberry Pi OS images, made in the test with the real tools (no download, no root).

A 64 MiB raw file, partitioned with sfdisk like Pi OS (a FAT32 "bootfs" first, an ext4 "rootfs"
after it), the FAT made with `mkfs.vfat --offset`, the ext4 with `mkfs.ext4 -E offset=`, and a few
boot files put on with mtools. The Trixie flavour also carries cloud-init's stock `meta-data`.
"""

from __future__ import annotations

import base64
import csv
import os
import secrets
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from provisioning.devices import COLUMNS

SECTOR = 512
FAT_START = 8192  # 4 MiB, as Pi OS aligns it
FAT_SECTORS = 81920  # 40 MiB
ROOT_START = FAT_START + FAT_SECTORS
IMAGE_MIB = 64
CMDLINE = (
    "console=serial0,115200 console=tty1 root=PARTUUID=6c586e13-02 rootfstype=ext4"
    " fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n"
)
CONFIG_TXT = "camera_auto_detect=1\ndtoverlay=vc4-kms-v3d\narm_64bit=1\n"
STOCK_META_DATA = "instance-id: rpios-image\n"
STOCK_USER_DATA = "#cloud-config\n# Raspberry Pi OS's stock file: nothing set\n"
OVERLAY = bytes(range(256)) * 16  # a binary file in a folder, which must survive untouched


@dataclass(frozen=True)
class BaseImages:
    trixie: Path
    bookworm: Path
    no_fat: Path


def tool(*args: str) -> None:
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "MTOOLSRC": os.devnull}
    subprocess.run(args, check=True, capture_output=True, env=env, timeout=120)


def make_image(path: Path, cloud_init: bool) -> Path:
    with path.open("wb") as f:
        f.truncate(IMAGE_MIB << 20)
    table = f"label: dos\nunit: sectors\n{FAT_START},{FAT_SECTORS},c\n{ROOT_START},,83\n"
    subprocess.run(
        ["sfdisk", "-q", str(path)], input=table, text=True, check=True, capture_output=True
    )
    tool("mkfs.vfat", "-F", "32", "-n", "BOOTFS", f"--offset={FAT_START}", str(path), "40960")
    root_kib = (IMAGE_MIB << 10) - (ROOT_START * SECTOR >> 10)
    tool(
        "mkfs.ext4", "-q", "-F", "-L", "rootfs", "-E", f"offset={ROOT_START * SECTOR}",
        str(path), f"{root_kib}k",
    )  # fmt: skip
    files = {"cmdline.txt": CMDLINE.encode(), "config.txt": CONFIG_TXT.encode()}
    files["overlays/camera.dtbo"] = OVERLAY
    if cloud_init:
        files["meta-data"] = STOCK_META_DATA.encode()
        files["user-data"] = STOCK_USER_DATA.encode()
    target = f"{path}@@{FAT_START * SECTOR}"
    tool("mmd", "-i", target, "::/overlays")
    staging = path.with_suffix(".staging")
    for name, data in files.items():
        staging.write_bytes(data)
        tool("mcopy", "-i", target, str(staging), f"::/{name}")
    staging.unlink()
    return path


def make_no_fat_image(path: Path) -> Path:
    with path.open("wb") as f:
        f.truncate(16 << 20)
    subprocess.run(
        ["sfdisk", "-q", str(path)],
        input="label: dos\n2048,,83\n",
        text=True,
        check=True,
        capture_output=True,
    )
    return path


@pytest.fixture(scope="session")
def base_images(tmp_path_factory: pytest.TempPathFactory) -> BaseImages:
    """Made once per run; tests copy, never modify, them (their hashes are checked)."""
    folder = tmp_path_factory.mktemp("bases")
    return BaseImages(
        trixie=make_image(folder / "raspios-trixie.img", cloud_init=True),
        bookworm=make_image(folder / "raspios-bookworm.img", cloud_init=False),
        no_fat=make_no_fat_image(folder / "no-fat.img"),
    )


def public_key(comment: str = "kythuat@huyen") -> str:
    """A well-formed ssh-ed25519 public key line (random key bytes: never used to log in)."""
    kind = b"ssh-ed25519"
    blob = len(kind).to_bytes(4, "big") + kind + (32).to_bytes(4, "big") + secrets.token_bytes(32)
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment}"


@pytest.fixture
def ssh_key_file(tmp_path: Path) -> Path:
    path = tmp_path / "id_ed25519.pub"
    path.write_text(public_key() + "\n", encoding="utf-8")
    return path


def device_row(n: int, **changes: str) -> dict[str, str]:
    row = {
        "hostname": f"xabang{n}",
        "hamlet": f"Thôn Xà Bang {n}",
        "box_name": f"Điểm hỗ trợ thôn Xà Bang {n}",
        "ssid": f"HamletBox-XaBang{n}",
        "wifi_password": f"lua-chin-som-{n}",
        "upstream_url": "https://motcua.xabang.example.vn",
        "token": f"tok-{n}-" + "a" * 24,
        "receipt_prefix": f"XB{n}",
        "timezone": "",
        "ssh_key": "",
    }
    row.update(changes)
    return row


def write_csv(
    path: Path, rows: Sequence[Mapping[str, str]], columns: Sequence[str] = COLUMNS
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
