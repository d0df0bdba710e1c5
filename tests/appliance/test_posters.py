"""Posters as a resident meets them: printed, photographed by a phone, and read from the wall.

Each poster is rasterised with pdftoppm (poppler-utils) and every QR code is decoded with ZBar from
the real image, so a payload that looks right in the code but scans wrong fails here.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from appliance.catalog_source import load_builtin
from appliance.config import Settings
from appliance.domain.catalog import Paper, Procedure, Text
from appliance.pdf_layout import FontFiles, PosterError, find_fonts
from appliance.posters import hotspot_poster, procedure_poster, wifi_payload

PORTAL = (
    "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193"
)
A4_POINTS = (595.28, 841.89)


def paper(vi: str, en: str, required: bool = True) -> Paper:
    return Paper(Text(vi, en), required, "original")


BIRTH = Procedure(
    code="1.001193",
    field="ho-tich",
    name=Text("Đăng ký khai sinh", "Birth registration"),
    summary=Text("Khai sinh cho trẻ mới sinh", "Register a newborn"),
    papers=(
        paper("Tờ khai đăng ký khai sinh", "Birth registration form"),
        paper("Giấy chứng sinh", "Hospital birth certificate"),
        paper("Giấy chứng nhận kết hôn của cha mẹ", "Parents' marriage certificate", False),
    ),
    steps=(),
    time_limit=Text("Trong ngày", "Same day"),
    fee=Text("Miễn phí trong 60 ngày", "Free within 60 days"),
    legal_basis=("Luật Hộ tịch 2014",),
    portal_url=PORTAL,
)


@pytest.fixture(scope="module", autouse=True)
def poppler() -> None:
    for tool in ("pdftoppm", "pdftotext", "pdfinfo"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found: install the Debian package poppler-utils")


def with_hotspot(settings: Settings, ssid: str, password: str) -> Settings:
    hotspot = dataclasses.replace(settings.hotspot, ssid=ssid, password=password)
    return dataclasses.replace(settings, hotspot=hotspot)


def run(args: list[str], pdf: bytes) -> bytes:
    """A poppler tool reading the PDF from stdin ("-") and writing to stdout."""
    return subprocess.run(args, input=pdf, capture_output=True, check=True).stdout


def qr_payloads(pdf: bytes) -> list[str]:
    """Every QR code ZBar finds on the page printed at 150 dpi."""
    png = run(["pdftoppm", "-r", "150", "-png", "-singlefile", "-"], pdf)
    found = decode(Image.open(io.BytesIO(png)), symbols=[ZBarSymbol.QRCODE])
    return sorted(code.data.decode("utf-8") for code in found)


def text_of(pdf: bytes) -> str:
    """The page's text in reading order, with line breaks from wrapping made plain spaces."""
    text = run(["pdftotext", "-enc", "UTF-8", "-", "-"], pdf).decode("utf-8")
    return " ".join(text.split())


def info(pdf: bytes) -> dict[str, str]:
    lines = run(["pdfinfo", "-"], pdf).decode("utf-8").splitlines()
    return {key.strip(): value.strip() for key, _, value in (ln.partition(":") for ln in lines)}


def words_outside_page(pdf: bytes) -> list[str]:
    """Words whose box crosses the page edge, from pdftotext's word boxes."""
    html = run(["pdftotext", "-bbox", "-", "-"], pdf).decode("utf-8")
    width, height = A4_POINTS
    outside = []
    for line in html.splitlines():
        if "<word " not in line:
            continue
        attrs = dict(part.split("=", 1) for part in line.split(">")[0].split()[1:])
        box = [float(attrs[k].strip('"')) for k in ("xMin", "yMin", "xMax", "yMax")]
        if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
            outside.append(line)
    return outside


def test_wifi_payload_escapes_every_special_character() -> None:
    assert wifi_payload('a\\b;c,d:e"f', "p;w") == 'WIFI:T:WPA;S:a\\\\b\\;c\\,d\\:e\\"f;P:p\\;w;;'
    assert wifi_payload("HamletBox", "") == "WIFI:T:nopass;S:HamletBox;;"


def test_hotspot_poster_qr_codes_join_the_wifi_and_open_the_box(settings: Settings) -> None:
    settings = with_hotspot(settings, "HamletBox-XaBang1", 'mk;"thon,1:\\x')
    assert qr_payloads(hotspot_poster(settings)) == [
        'WIFI:T:WPA;S:HamletBox-XaBang1;P:mk\\;\\"thon\\,1\\:\\\\x;;',
        "http://10.42.0.1/",
    ]


def test_vietnamese_network_name_scans_as_utf8(settings: Settings) -> None:
    settings = with_hotspot(settings, "Thôn Xà Bang", "mật khẩu thôn")
    assert "WIFI:T:WPA;S:Thôn Xà Bang;P:mật khẩu thôn;;" in qr_payloads(hotspot_poster(settings))


def test_hotspot_poster_prints_name_password_address_and_hours(settings: Settings) -> None:
    settings = with_hotspot(settings, "HamletBox-XaBang1", 'mk;"thon,1')
    text = text_of(hotspot_poster(settings))
    for expected in (
        "Kết nối Wi-Fi tại đây",
        "HamletBox-XaBang1",
        'mk;"thon,1',
        "Mở trình duyệt, gõ địa chỉ:",
        "http://10.42.0.1/",
        "Thứ Năm: 08:00–11:00",
        "Hằng ngày: 19:00–21:00",
        "Nhà văn hóa thôn Xà Bang 1",
    ):
        assert expected in text


def test_open_network_says_no_password(settings: Settings) -> None:
    pdf = hotspot_poster(with_hotspot(settings, "HamletBox", ""))
    assert "không cần mật khẩu" in text_of(pdf)
    assert "WIFI:T:nopass;S:HamletBox;;" in qr_payloads(pdf)


def test_procedure_poster_qr_codes_open_the_box_page_and_the_portal(settings: Settings) -> None:
    assert qr_payloads(procedure_poster(settings, BIRTH)) == [
        "http://10.42.0.1/p/1.001193",
        PORTAL,
    ]


def test_procedure_poster_says_what_to_bring_fee_time_and_where(settings: Settings) -> None:
    text = text_of(procedure_poster(settings, BIRTH))
    for expected in (
        "Đăng ký khai sinh",
        "Birth registration",
        "Mang theo / Bring",
        "Tờ khai đăng ký khai sinh",
        "Giấy chứng sinh",
        "Miễn phí trong 60 ngày",
        "Trong ngày",
        "Xem trên Hamlet Box",
        "Cổng Dịch vụ công quốc gia",
        "Thôn Xà Bang 1 · Xã Xà Bang",
        "Nhà văn hóa thôn Xà Bang 1",
    ):
        assert expected in text
    assert "kết hôn" not in text  # optional papers stay off the wall


def test_english_poster_leads_with_english(settings: Settings) -> None:
    text = text_of(procedure_poster(settings, BIRTH, "en"))
    assert text.index("Birth registration") < text.index("Đăng ký khai sinh")
    assert "Free within 60 days" in text
    assert "National Public Service Portal" in text
    assert "Bring" in text and "Mang theo" not in text


@pytest.mark.parametrize("kind", ["hotspot", "procedure"])
def test_posters_are_one_a4_page(settings: Settings, kind: str) -> None:
    pdf = hotspot_poster(settings) if kind == "hotspot" else procedure_poster(settings, BIRTH)
    details = info(pdf)
    assert details["Pages"] == "1"
    width, _, height = details["Page size"].split()[:3]
    assert float(width) == pytest.approx(595, abs=1)
    assert float(height) == pytest.approx(842, abs=1)


def test_long_name_and_many_papers_stay_on_the_page(settings: Settings) -> None:
    long_name = "Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế " * 4
    many = tuple(
        paper(f"Giấy tờ số {i} có một cái tên khá dài cần xuống dòng", "") for i in range(30)
    )
    procedure = dataclasses.replace(BIRTH, name=Text(long_name, ""), papers=many)
    pdf = procedure_poster(settings, procedure)
    assert info(pdf)["Pages"] == "1"
    assert words_outside_page(pdf) == []
    text = text_of(pdf)
    assert "giấy tờ khác: xem mã QR" in text
    assert "Miễn phí trong 60 ngày" in text  # the fee is never pushed off by the list
    assert len(qr_payloads(pdf)) == 2


def test_long_password_wraps_inside_the_page(settings: Settings) -> None:
    pdf = hotspot_poster(with_hotspot(settings, "H" * 32, "p" * 63))
    assert words_outside_page(pdf) == []
    assert len(qr_payloads(pdf)) == 2


def test_decomposed_diacritics_are_printed_precomposed(settings: Settings) -> None:
    nfd = unicodedata.normalize("NFD", "Đăng ký kết hôn")
    procedure = dataclasses.replace(BIRTH, name=Text(nfd, "Marriage registration"))
    assert "Đăng ký kết hôn" in text_of(procedure_poster(settings, procedure))


def test_same_settings_give_the_same_bytes(settings: Settings) -> None:
    assert hotspot_poster(settings) == hotspot_poster(settings)


def test_missing_font_names_the_paths_tried_and_the_package(tmp_path: Path) -> None:
    missing = FontFiles(tmp_path / "Sans.ttf", tmp_path / "Sans-Bold.ttf")
    with pytest.raises(PosterError) as caught:
        find_fonts([missing])
    assert str(tmp_path / "Sans.ttf") in str(caught.value)
    assert "fonts-dejavu-core" in str(caught.value)


def test_importing_posters_does_not_load_fpdf_or_segno() -> None:
    code = (
        "import sys, appliance.posters, web.technician; "
        "print(sorted(m for m in ('fpdf', 'segno') if m in sys.modules))"
    )
    root = Path(__file__).parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, text=True, cwd=root
    )
    assert out.stdout.strip() == "[]"


def test_every_builtin_procedure_gets_a_whole_scannable_poster(settings: Settings) -> None:
    for procedure in load_builtin().procedures:
        pdf = procedure_poster(settings, procedure)
        assert info(pdf)["Pages"] == "1", procedure.code
        assert words_outside_page(pdf) == [], procedure.code
        assert procedure.name.vi in text_of(pdf), procedure.code
        expected = sorted([f"http://10.42.0.1/p/{procedure.code}", procedure.portal_url])
        assert qr_payloads(pdf) == expected, procedure.code
