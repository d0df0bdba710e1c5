"""`hamletbox provision image` on synthetic Pi OS images: every written file, and nothing else."""

from __future__ import annotations

import hashlib
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from appliance import config
from appliance.cli import main
from provisioning import personalise
from provisioning.bootfiles import FIRSTRUN_HOOK, REGDOM
from provisioning.devices import Refused
from provisioning.image import Fat, copy_image, read_layout
from provisioning.personalise import make_images
from provisioning.verify import NotVerified
from tests.provisioning.conftest import (
    CMDLINE,
    CONFIG_TXT,
    FAT_SECTORS,
    FAT_START,
    OVERLAY,
    SECTOR,
    STOCK_USER_DATA,
    BaseImages,
    device_row,
    tool,
    write_csv,
)

FAT_OFFSET = FAT_START * SECTOR
FAT_END = FAT_OFFSET + FAT_SECTORS * SECTOR


def sha(path: Path, start: int, end: int) -> str:
    with path.open("rb") as f:
        f.seek(start)
        return hashlib.sha256(f.read(end - start)).hexdigest()


def fsck(image: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    part = tmp_path / "part.fat"
    with image.open("rb") as f:
        f.seek(FAT_OFFSET)
        part.write_bytes(f.read(FAT_END - FAT_OFFSET))
    return subprocess.run(["fsck.vfat", "-n", str(part)], capture_output=True, text=True)


def provision(*args: str) -> int:
    return main(["provision", "image", *args])


def sheet(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    return write_csv(tmp_path / "DEVICES.csv", rows)


def test_three_boxes_from_a_trixie_image(
    base_images: BaseImages,
    tmp_path: Path,
    ssh_key_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = base_images.trixie
    before = base.read_bytes()
    rows = [device_row(1), device_row(2), device_row(3, token="")]
    out = tmp_path / "out"
    args = ["--base", str(base), "--devices", str(sheet(tmp_path, rows)), "--out", str(out)]
    assert provision(*args, "--ssh-key", str(ssh_key_file)) == 0
    printed = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["xabang1.img", "xabang2.img", "xabang3.img"]
    assert len(printed.out.splitlines()) == 3
    assert f"{out / 'xabang1.img'}: {len(before)} bytes; hamletbox/hamletbox.toml" in printed.out
    assert "xabang3.img: chưa có mã đăng ký" in printed.err and "no enrolment token" in printed.err
    assert base.read_bytes() == before
    key = ssh_key_file.read_text(encoding="utf-8").strip()
    for n, row in enumerate(rows, start=1):
        image = out / f"xabang{n}.img"
        assert read_layout(image) == read_layout(base)
        assert sha(image, 0, FAT_OFFSET) == sha(base, 0, FAT_OFFSET)
        assert sha(image, FAT_END, len(before)) == sha(base, FAT_END, len(before))
        assert fsck(image, tmp_path).returncode == 0
        fat = Fat(image, FAT_OFFSET)
        assert fat.read("config.txt") == CONFIG_TXT.encode()
        assert fat.read("overlays/camera.dtbo") == OVERLAY
        assert fat.read("cmdline.txt") == (CMDLINE.strip() + f" {REGDOM}\n").encode()
        assert fat.read("firstrun.sh") is None
        settings_text = fat.read("hamletbox/hamletbox.toml")
        assert settings_text is not None
        (tmp_path / "box.toml").write_bytes(settings_text)
        settings = config.load(tmp_path / "box.toml", environ={})
        assert settings.box.hamlet == row["hamlet"] and settings.hotspot.ssid == row["ssid"]
        assert settings.hotspot.password == row["wifi_password"]
        assert settings.intake.receipt_prefix == row["receipt_prefix"]
        token = fat.read("hamletbox/enroll-token")
        assert token == (row["token"] + "\n").encode() if row["token"] else token is None
        assert fat.read("hamletbox/authorized_keys") == (key + "\n").encode()
        profile = fat.read("hamletbox/hamletbox-hotspot.nmconnection") or b""
        assert f"ssid={row['ssid']}\n".encode() in profile
        assert f"psk={row['wifi_password']}\n".encode() in profile
        user_data = fat.read("user-data") or b""
        assert user_data != STOCK_USER_DATA.encode()
        cloud = yaml.safe_load(user_data)
        assert cloud["hostname"] == f"xabang{n}" and cloud["timezone"] == "Asia/Ho_Chi_Minh"
        assert cloud["users"][0]["ssh_authorized_keys"] == [key]
        assert "wifis" not in yaml.safe_load(fat.read("network-config") or b"")["network"]
        assert yaml.safe_load(fat.read("meta-data") or b"")["instance-id"] == f"hamletbox-xabang{n}"


def test_a_bookworm_image_gets_firstrun_and_its_hook(
    base_images: BaseImages, tmp_path: Path, ssh_key_file: Path
) -> None:
    out = tmp_path / "out"
    made = make_images(base_images.bookworm, sheet(tmp_path, [device_row(7)]), out, ssh_key_file)
    fat = Fat(made[0].path, FAT_OFFSET)
    assert fat.read("cmdline.txt") == (CMDLINE.strip() + f" {REGDOM} {FIRSTRUN_HOOK}\n").encode()
    script = (fat.read("firstrun.sh") or b"").decode("utf-8")
    assert "echo xabang7 >/etc/hostname" in script and "rm -f /boot/firmware/firstrun.sh" in script
    assert fat.read("user-data") is None and fat.read("meta-data") is None
    settings = tomllib.loads((fat.read("hamletbox/hamletbox.toml") or b"").decode("utf-8"))
    assert settings["relay"]["upstream_url"] == "https://motcua.xabang.example.vn"
    assert made[0].files[-1] == "cmdline.txt" and "firstrun.sh" in made[0].files


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert provision(*args) == 2
    return capsys.readouterr().err


def test_bad_sheets_are_refused_with_nothing_written(
    base_images: BaseImages,
    tmp_path: Path,
    ssh_key_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    common = ["--base", str(base_images.trixie), "--out", str(out), "--ssh-key", str(ssh_key_file)]
    no_ssid = write_csv(tmp_path / "a.csv", [device_row(1)], ["hostname", "hamlet"])
    err = refused(capsys, *common, "--devices", str(no_ssid))
    assert "thiếu cột / missing columns: box_name, ssid, wifi_password" in err
    twice = sheet(tmp_path, [device_row(1), device_row(2, hostname="xabang1")])
    assert "duplicate hostname: xabang1" in refused(capsys, *common, "--devices", str(twice))
    weak = sheet(tmp_path, [device_row(1, wifi_password="12345678")])
    err = refused(capsys, *common, "--devices", str(weak))
    assert "dòng 2 / row 2: mật khẩu Wi-Fi cần 10–63 ký tự" in err
    assert not out.exists()


def test_an_image_without_a_fat_partition_is_refused(
    base_images: BaseImages,
    tmp_path: Path,
    ssh_key_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    devices = sheet(tmp_path, [device_row(1)])
    args = ["--devices", str(devices), "--out", str(out), "--ssh-key", str(ssh_key_file)]
    err = refused(capsys, "--base", str(base_images.no_fat), *args)
    assert "không có phân vùng khởi động FAT / no FAT boot partition" in err
    not_an_image = tmp_path / "photo.img"
    not_an_image.write_bytes(b"\xff" * 4096)
    assert "no partition table found" in refused(capsys, "--base", str(not_an_image), *args)
    assert not out.exists()


def test_a_gpt_image_s_basic_data_partition_is_a_boot_partition(tmp_path: Path) -> None:
    image = tmp_path / "gpt.img"
    with image.open("wb") as f:
        f.truncate(48 << 20)
    table = f"label: gpt\n{FAT_START},{FAT_SECTORS},EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n"
    subprocess.run(["sfdisk", "-q", str(image)], input=table, text=True, check=True)
    tool("mkfs.vfat", "-F", "32", f"--offset={FAT_START}", str(image), str(FAT_SECTORS // 2))
    layout = read_layout(image)
    assert layout.table["label"] == "gpt"
    assert (layout.fat_offset, layout.fat_size) == (FAT_OFFSET, FAT_END - FAT_OFFSET)


def test_a_folder_without_room_is_refused_before_any_copy(
    base_images: BaseImages, tmp_path: Path, ssh_key_file: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    devices = sheet(tmp_path, [device_row(1), device_row(2)])
    size = base_images.trixie.stat().st_size
    with pytest.raises(Refused, match="không đủ chỗ: cần 248 MiB, còn 128 MiB") as caught:
        make_images(base_images.trixie, devices, out, ssh_key_file, free=lambda _: 2 * size)
    assert "not enough room" in str(caught.value)
    assert list(out.iterdir()) == []


def test_an_existing_image_is_never_overwritten(
    base_images: BaseImages, tmp_path: Path, ssh_key_file: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "xabang2.img").write_bytes(b"the technician's earlier card")
    devices = sheet(tmp_path, [device_row(1), device_row(2)])
    with pytest.raises(Refused, match=r"xabang2\.img: đã có"):
        make_images(base_images.trixie, devices, out, ssh_key_file)
    assert sorted(p.name for p in out.iterdir()) == ["xabang2.img"]


def test_an_image_that_fails_verification_is_removed(
    base_images: BaseImages,
    tmp_path: Path,
    ssh_key_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A copy whose root file system changed (a bad disk, say) never gets its final name."""

    def damaging_copy(base: Path, dest: Path) -> None:
        copy_image(base, dest)
        with dest.open("rb+") as f:
            f.seek(FAT_END + 4096)
            f.write(b"\x00garbage\x00")

    monkeypatch.setattr(personalise, "copy_image", damaging_copy)
    out = tmp_path / "out"
    devices = sheet(tmp_path, [device_row(1)])
    with pytest.raises(NotVerified, match="bytes outside the boot partition changed"):
        make_images(base_images.trixie, devices, out, ssh_key_file)
    assert list(out.iterdir()) == []


def test_a_boot_file_that_reads_back_wrong_fails_verification(
    base_images: BaseImages,
    tmp_path: Path,
    ssh_key_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_write = Fat.write

    def sloppy_write(self: Fat, path: str, data: bytes) -> None:
        real_write(self, path, data + b"!" if path == "cmdline.txt" else data)

    monkeypatch.setattr(Fat, "write", sloppy_write)
    out = tmp_path / "out"
    devices = sheet(tmp_path, [device_row(1), device_row(2)])
    with pytest.raises(NotVerified, match=r"cmdline\.txt on the boot partition is not what"):
        make_images(base_images.bookworm, devices, out, ssh_key_file)
    assert list(out.iterdir()) == []


def test_a_base_whose_boot_partition_is_damaged_is_named(
    base_images: BaseImages, tmp_path: Path, ssh_key_file: Path
) -> None:
    base = tmp_path / "damaged.img"
    copy_image(base_images.trixie, base)
    with base.open("rb+") as f:
        f.seek(FAT_OFFSET + 32 * SECTOR + 64)  # into the first FAT, past the used clusters
        f.write(b"\x07\x00\x00\x00" * 8)
    out = tmp_path / "out"
    with pytest.raises(NotVerified, match="the base image's boot partition is not clean"):
        make_images(base, sheet(tmp_path, [device_row(1)]), out, ssh_key_file)
    assert list(out.iterdir()) == []
