"""The resident's A5 receipt as printed and scanned, and printing it through CUPS `lp`."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance import receipts
from appliance.config import Settings
from appliance.domain.catalog import Paper, Text
from appliance.domain.dossier import Applicant, paper_key
from appliance.receipts import PrintError, lookup_url, print_receipt, receipt_pdf
from appliance.store.dossier_records import DossierRecord, PageRecord
from tests.appliance.test_posters import BIRTH, info, qr_payloads, run, text_of

A5_POINTS = (419.53, 595.28)
SUBMITTED = datetime(2025, 6, 5, 7, 30, tzinfo=UTC)  # 14:30 in Viet Nam
NAMES = [paper_key(p) for p in BIRTH.papers]


def dossier(**changes: object) -> DossierRecord:
    pages = tuple(
        PageRecord(i, i, NAMES[0] if i < 3 else NAMES[2], f"{i:064x}", "text", 1654, 2339, 9000)
        for i in range(1, 4)
    )
    base = DossierRecord(
        uuid="7d3c0c9e-8a43-4b8e-9a51-2f4f3c0e1b2a",
        status="queued",
        procedure_code=BIRTH.code,
        channel="station",
        receipt_code="XB1-K7M4QD",
        applicant=Applicant("Nguyễn Thị Hồng Nhung"),
        phone="0912345678",
        pages=pages,
        originals=frozenset({NAMES[1]}),
        created_at=SUBMITTED,
        updated_at=SUBMITTED,
        submitted_at=SUBMITTED,
        consent_at=SUBMITTED,
        consent_version="1",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def words_outside_a5(pdf: bytes) -> list[str]:
    html = run(["pdftotext", "-bbox", "-", "-"], pdf).decode("utf-8")
    width, height = A5_POINTS
    outside = []
    for line in html.splitlines():
        if "<word " in line:
            attrs = dict(part.split("=", 1) for part in line.split(">")[0].split()[1:])
            box = [float(attrs[k].strip('"')) for k in ("xMin", "yMin", "xMax", "yMax")]
            if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
                outside.append(line)
    return outside


@pytest.mark.parametrize("channel", ["station", "phone"])
def test_the_receipt_is_one_a5_page(settings: Settings, channel: str) -> None:
    details = info(receipt_pdf(settings, dossier(channel=channel), BIRTH))
    assert details["Pages"] == "1"
    width, _, height = details["Page size"].split()[:3]
    assert float(width) == pytest.approx(420, abs=1)
    assert float(height) == pytest.approx(595, abs=1)


def test_the_qr_opens_the_status_page_for_the_code(settings: Settings) -> None:
    assert qr_payloads(receipt_pdf(settings, dossier(), BIRTH)) == [
        "http://10.42.0.1/tra-cuu?ma=XB1-K7M4QD"
    ]
    assert lookup_url(settings, "XB1-K7M4QD") == "http://10.42.0.1/tra-cuu?ma=XB1-K7M4QD"


def test_the_receipt_says_who_what_when_and_how_to_follow_it(settings: Settings) -> None:
    text = text_of(receipt_pdf(settings, dossier(), BIRTH))
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND XÃ XÀ BANG",
        "THÔN XÀ BANG 1",
        "GIẤY BIÊN NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "XB1-K7M4QD",
        "Nguyễn Thị Hồng Nhung",
        "Đăng ký khai sinh (mã 1.001193)",
        f"{NAMES[0]}: 2 trang",
        f"{NAMES[1]}: bản chính mang đến xã",
        f"{NAMES[2]}: 1 trang",
        "14:30, 05/06/2025",
        "Xã Xà Bang, ngày 05 tháng 06 năm 2025",
        "Trong ngày",
        "Nhà văn hóa thôn Xà Bang 1",
        "http://10.42.0.1/tra-cuu",
        "4 số cuối số điện thoại",
        "NGƯỜI TIẾP NHẬN",
    ):
        assert expected in text, expected
    assert "0912345678" not in text and "5678" not in text  # the receipt alone opens nothing


def test_a_receipt_from_the_phone_flow_has_no_signature_lines(settings: Settings) -> None:
    assert "NGƯỜI TIẾP NHẬN" not in text_of(receipt_pdf(settings, dossier(channel="phone"), BIRTH))


def test_an_english_receipt(settings: Settings) -> None:
    text = text_of(receipt_pdf(settings, dossier(), BIRTH, "en"))
    for expected in ("Receipt code", "Applicant: Nguyễn Thị Hồng Nhung", "Birth registration"):
        assert expected in text
    assert "Giấy tờ đã nhận" not in text


def test_long_names_and_many_papers_stay_on_the_page(settings: Settings) -> None:
    many = tuple(
        Paper(
            Text(f"Giấy tờ số {i} có một cái tên rất dài cần xuống dòng khi in", ""),
            True,
            "original",
        )
        for i in range(14)
    )
    procedure = dataclasses.replace(BIRTH, papers=many)
    record = dossier(
        applicant=Applicant("Tôn Nữ Thị " * 9),
        originals=frozenset(paper_key(p) for p in many),
    )
    pdf = receipt_pdf(settings, record, procedure)
    assert info(pdf)["Pages"] == "1"
    assert words_outside_a5(pdf) == []
    assert qr_payloads(pdf) == ["http://10.42.0.1/tra-cuu?ma=XB1-K7M4QD"]


def test_a_draft_has_no_receipt(settings: Settings) -> None:
    with pytest.raises(ValueError, match="submitted"):
        receipt_pdf(settings, dossier(receipt_code=None, submitted_at=None), BIRTH)


def fake_lp(folder: Path, body: str) -> None:
    folder.mkdir(exist_ok=True)
    lp = folder / "lp"
    lp.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{folder}/args"\n{body}\n')
    lp.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return folder


def test_print_receipt_sends_the_pdf_to_lp_on_stdin(bin_dir: Path) -> None:
    fake_lp(bin_dir, f'cat > "{bin_dir}/got.pdf"\necho "request id is quay-7 (1 file(s))"')
    print_receipt(b"%PDF-1.4 receipt", "quay")
    assert (bin_dir / "got.pdf").read_bytes() == b"%PDF-1.4 receipt"
    assert (bin_dir / "args").read_text().split() == ["-d", "quay", "-o", "media=A5", "-"]


def test_a_refusing_printer_says_why(bin_dir: Path) -> None:
    refusal = 'echo "lp: Error - The printer or class does not exist." >&2'
    fake_lp(bin_dir, f"cat > /dev/null\n{refusal}\nexit 1")
    with pytest.raises(PrintError, match=r"Không in được .* / .*does not exist"):
        print_receipt(b"%PDF", "quay")


def test_a_hung_printer_times_out(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(receipts, "PRINT_TIMEOUT_S", 0.5)
    fake_lp(bin_dir, "exec sleep 5")
    with pytest.raises(PrintError, match="không trả lời"):
        print_receipt(b"%PDF", "quay")


def test_no_lp_installed_says_which_package(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(PrintError, match="cups-client"):
        print_receipt(b"%PDF", "quay")


@pytest.mark.parametrize("name", ["-h", "", "quay in", "a/b"])
def test_a_printer_name_that_is_not_one_is_refused(bin_dir: Path, name: str) -> None:
    fake_lp(bin_dir, f'touch "{bin_dir}/ran"')
    with pytest.raises(PrintError, match="Tên máy in"):
        print_receipt(b"%PDF", name)
    assert not (bin_dir / "ran").exists()
