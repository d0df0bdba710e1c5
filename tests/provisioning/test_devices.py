"""DEVICES.csv: good sheets become devices; every bad cell is named with its row, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioning.devices import COLUMNS, DEFAULT_TIMEZONE, Refused, read_devices
from tests.provisioning.conftest import device_row, public_key, write_csv


def refusal(path: Path, ssh_key: Path | None = None) -> str:
    with pytest.raises(Refused) as caught:
        read_devices(path, ssh_key)
    return str(caught.value)


def test_a_good_sheet_gives_one_device_per_row(tmp_path: Path, ssh_key_file: Path) -> None:
    key = public_key("own@row")
    rows = [device_row(1), device_row(2, ssh_key=key, timezone="Asia/Bangkok", token="")]
    devices = read_devices(write_csv(tmp_path / "DEVICES.csv", rows), ssh_key_file)
    assert [d.hostname for d in devices] == ["xabang1", "xabang2"]
    first, second = devices
    assert first.hamlet == "Thôn Xà Bang 1" and first.box_name == "Điểm hỗ trợ thôn Xà Bang 1"
    assert first.timezone == DEFAULT_TIMEZONE and second.timezone == "Asia/Bangkok"
    assert first.ssh_key == ssh_key_file.read_text(encoding="utf-8").strip()
    assert second.ssh_key == key and second.token == "" and first.token.startswith("tok-1-")


def test_a_key_path_is_read_relative_to_the_sheet_and_a_spreadsheet_bom_is_fine(
    tmp_path: Path,
) -> None:
    (tmp_path / "keys").mkdir()
    key = public_key()
    (tmp_path / "keys" / "tech.pub").write_text(key + "\n", encoding="utf-8")
    path = write_csv(tmp_path / "DEVICES.csv", [device_row(1, ssh_key="keys/tech.pub")])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read_devices(path)[0].ssh_key == key


def test_missing_columns_are_named(tmp_path: Path, ssh_key_file: Path) -> None:
    columns = [c for c in COLUMNS if c not in ("ssid", "receipt_prefix")]
    message = refusal(write_csv(tmp_path / "d.csv", [device_row(1)], columns), ssh_key_file)
    assert "thiếu cột / missing columns: ssid, receipt_prefix" in message


def test_every_bad_cell_is_reported_with_its_row(tmp_path: Path, ssh_key_file: Path) -> None:
    rows = [
        device_row(1, hamlet=""),
        device_row(2, hostname="Xa_Bang"),
        device_row(3, wifi_password="short"),
        device_row(4, upstream_url="http://motcua.example.vn"),
        device_row(5, receipt_prefix="xb-5"),
        device_row(6, timezone="Asia/Saigon-Nowhere"),
    ]
    message = refusal(write_csv(tmp_path / "d.csv", rows), ssh_key_file)
    lines = message.splitlines()
    assert len(lines) == 6
    assert "dòng 2 / row 2: ô trống ở cột hamlet / empty cell in column hamlet" in lines[0]
    assert "dòng 3 / row 3" in lines[1] and "invalid hostname 'xa_bang'" in lines[1]
    assert "dòng 4 / row 4" in lines[2] and "needs 10 to 63 characters" in lines[2]
    assert "dòng 5 / row 5" in lines[3] and "must be https://" in lines[3]
    assert "dòng 6 / row 6" in lines[4] and "receipt prefix 'xb-5'" in lines[4]
    assert "dòng 7 / row 7" in lines[5] and "unknown time zone" in lines[5]


def test_duplicate_hostnames_and_tokens_are_refused(tmp_path: Path, ssh_key_file: Path) -> None:
    rows = [
        device_row(1),
        device_row(2, hostname="XaBang1"),
        device_row(3, token="tok-1-" + "a" * 24),
    ]
    message = refusal(write_csv(tmp_path / "d.csv", rows), ssh_key_file)
    assert "tên máy / hostname trùng / duplicate hostname: xabang1" in message
    assert "duplicate token: tok-1-" in message


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaaaaaa", "HamletBox-XaBang1", "1234567890", "Password123", "x" * 64, "mật-khẩu-thôn-1"],
)
def test_weak_or_unusable_wifi_passwords_are_refused(
    tmp_path: Path, ssh_key_file: Path, password: str
) -> None:
    path = write_csv(tmp_path / "d.csv", [device_row(1, wifi_password=password)])
    assert "mật khẩu Wi-Fi" in refusal(path, ssh_key_file)


def test_plain_http_is_accepted_only_on_loopback(tmp_path: Path, ssh_key_file: Path) -> None:
    rows = [device_row(1, upstream_url="http://127.0.0.1:8090/"), device_row(2)]
    devices = read_devices(write_csv(tmp_path / "d.csv", rows), ssh_key_file)
    assert devices[0].upstream_url == "http://127.0.0.1:8090"


def test_keys_must_be_public_and_present(tmp_path: Path) -> None:
    private = tmp_path / "id_ed25519"
    private.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n", encoding="utf-8")
    rows = [
        device_row(1, ssh_key=str(private)),
        device_row(2),
        device_row(3, ssh_key="ssh-ed25519 bm90IGEga2V5 x@y"),
    ]
    message = refusal(write_csv(tmp_path / "d.csv", rows))
    assert "this is a private key, give the .pub" in message
    assert "dòng 3 / row 3: thiếu khóa SSH" in message
    assert (
        "dòng 4 / row 4: ssh_key: không phải khóa SSH công khai / not an SSH public key" in message
    )


def test_a_missing_sheet_or_one_without_rows_is_refused(tmp_path: Path) -> None:
    assert "file not found" in refusal(tmp_path / "nope.csv")
    assert "no device rows" in refusal(write_csv(tmp_path / "empty.csv", []))
