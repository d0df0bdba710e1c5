"""`hamletbox provision poster`: one "connect here" poster per DEVICES.csv row, whose QR codes join
that box's Wi-Fi and open its address; a bad sheet makes no poster at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import main
from tests.appliance.test_posters import qr_payloads, text_of
from tests.provisioning.conftest import device_row, write_csv


def test_each_row_gets_its_own_wifi_poster(tmp_path: Path) -> None:
    rows = [device_row(1), device_row(2, ssid="Thôn Xà Bang", wifi_password='mk;"ruong,2:x')]
    sheet = write_csv(tmp_path / "DEVICES.csv", rows)
    out = tmp_path / "posters"
    assert main(["provision", "poster", "--devices", str(sheet), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["xabang1-wifi.pdf", "xabang2-wifi.pdf"]
    first = (out / "xabang1-wifi.pdf").read_bytes()
    assert qr_payloads(first) == [
        "WIFI:T:WPA;S:HamletBox-XaBang1;P:lua-chin-som-1;;",
        "http://10.42.0.1/",
    ]
    second = (out / "xabang2-wifi.pdf").read_bytes()
    assert 'WIFI:T:WPA;S:Thôn Xà Bang;P:mk\\;\\"ruong\\,2\\:x;;' in qr_payloads(second)
    text = text_of(second)
    for expected in ("Kết nối Wi-Fi tại đây", "Thôn Xà Bang", 'mk;"ruong,2:x', "Thôn Xà Bang 2"):
        assert expected in text


def test_every_vietnamese_letter_of_a_network_name_is_printed(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "DEVICES.csv", [device_row(1, ssid="Thôn Suối Rao")])
    out = tmp_path / "posters"
    assert main(["provision", "poster", "--devices", str(sheet), "--out", str(out)]) == 0
    assert "Thôn Suối Rao" in text_of((out / "xabang1-wifi.pdf").read_bytes())


def test_help_hours_and_commune_come_from_a_template_settings_file(tmp_path: Path) -> None:
    template = tmp_path / "mau.toml"
    template.write_text(
        '[box]\ncommune = "Xã Xà Bang"\n[help]\nhours = ["tue 18:30-20:30"]\n', encoding="utf-8"
    )
    sheet = write_csv(tmp_path / "DEVICES.csv", [device_row(1)])
    out = tmp_path / "posters"
    args = ["--devices", str(sheet), "--out", str(out), "--settings", str(template)]
    assert main(["provision", "poster", *args]) == 0
    text = text_of((out / "xabang1-wifi.pdf").read_bytes())
    assert "Thứ Ba: 18:30–20:30" in text and "Xã Xà Bang" in text
    assert "Thứ Năm" not in text  # the default hours are not printed


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([device_row(1), device_row(2, wifi_password="1234567890")], "row 3: mật khẩu Wi-Fi"),
        ([device_row(1), device_row(1, hamlet="Thôn khác")], "duplicate hostname: xabang1"),
        ([device_row(1, hostname="../thon")], "invalid hostname"),
        ([device_row(1, ssid="")], "empty cell in column ssid"),
    ],
)
def test_a_bad_sheet_makes_no_poster(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rows: list[dict[str, str]],
    expected: str,
) -> None:
    sheet = write_csv(tmp_path / "DEVICES.csv", rows)
    out = tmp_path / "posters"
    assert main(["provision", "poster", "--devices", str(sheet), "--out", str(out)]) == 2
    assert expected in capsys.readouterr().err
    assert not out.exists()
