"""The dossier's PDF (img2pdf, no re-encoding) and `hamletbox scan`: JSON lines, exit codes, and
nothing written when any photo is bad."""

from __future__ import annotations

import difflib
import io
import json
import re
import shutil
import struct
import subprocess
import unicodedata
import zlib
from pathlib import Path

import pytest
from PIL import Image

from appliance import cli
from appliance.capture.pages import NO_EDGES, assemble_pdf, scan_command
from appliance.samples.documents import blank_photo
from tests.appliance.capture.test_pages import page, photo


def g4_strip(tiff: bytes) -> bytes:
    """The compressed G4 data inside a single-strip TIFF."""
    image = Image.open(io.BytesIO(tiff))
    (offset,), (count,) = image.tag_v2[273], image.tag_v2[279]
    return tiff[offset : offset + count]


def test_the_pdf_embeds_g4_and_jpeg_data_as_they_are() -> None:
    text, colour = page(0), page(2, seal=True)
    pdf = assemble_pdf([text, colour, text])
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 3
    assert b"/CCITTFaxDecode" in pdf and b"/DCTDecode" in pdf
    assert g4_strip(text.data) in pdf  # copied, not re-encoded
    assert colour.data in pdf
    boxes = [tuple(map(float, box.split())) for box in re.findall(rb"/MediaBox \[([^\]]+)\]", pdf)]
    assert boxes[0][2:] == pytest.approx((595.3, 842.0), abs=12)  # A4 in points: true size
    assert b"/CreationDate" not in pdf  # no dates: the same pages give the same bytes


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils is not installed")
def test_poppler_reads_the_pdf(tmp_path: Path) -> None:
    path = tmp_path / "ho-so.pdf"
    path.write_bytes(assemble_pdf([page(0), page(2, seal=True)]))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+2$", info.stdout, re.MULTILINE)
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "ccitt" in listing and "jpeg" in listing


def test_a_pdf_needs_a_page() -> None:
    with pytest.raises(ValueError):
        assemble_pdf([])


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_scan_writes_one_pdf_and_a_json_line_per_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [tmp_path / "to-khai.jpg", tmp_path / "co-dau.jpg", tmp_path / "ban.jpg"]
    paths[0].write_bytes(photo(0).jpeg)
    paths[1].write_bytes(photo(2, seal=True).jpeg)
    paths[2].write_bytes(blank_photo(1))
    out = tmp_path / "ho-so.pdf"
    assert scan_command(paths, out, "auto") == 0
    reported = lines(capsys.readouterr().out)
    assert [line["file"] for line in reported] == [str(p) for p in paths]
    assert [line["mode"] for line in reported[:2]] == ["text", "color"]
    assert [line["corners_found"] for line in reported] == [True, True, False]
    assert reported[2]["warning"] == NO_EDGES
    assert "warning" not in reported[0]
    assert set(reported[0]) == {"file", "mode", "width", "height", "bytes", "corners_found"}
    assert len(re.findall(rb"/Type /Page\b", out.read_bytes())) == 3
    assert not list(tmp_path.glob(".*.tmp"))


def test_scan_mode_applies_to_every_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "co-dau.jpg"
    path.write_bytes(photo(2, seal=True).jpeg)
    assert cli.main(["scan", str(path), "-o", str(tmp_path / "a.pdf"), "--mode", "text"]) == 0
    assert lines(capsys.readouterr().out)[0]["mode"] == "text"


def huge_png() -> bytes:
    """A real 10000×10000 PNG (100 megapixels) that takes a few kilobytes: all black, 1 bit."""
    width = height = 10_000
    raw = zlib.compress(bytes(height * (1 + width // 8)), 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


BAD_FILES = {
    "truncated.jpg": lambda: photo(0).jpeg[: len(photo(0).jpeg) // 2],
    "giay-to.pdf.jpg": lambda: assemble_pdf([page(0)]),
    "100mp.png": huge_png,
}


@pytest.mark.parametrize("name", [*BAD_FILES, "missing.jpg"])
def test_a_bad_photo_is_reported_and_nothing_is_written(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "to-khai.jpg", tmp_path / name
    good.write_bytes(photo(0).jpeg)
    if name in BAD_FILES:
        bad.write_bytes(BAD_FILES[name]())
    out = tmp_path / "ho-so.pdf"
    out.write_bytes(b"the dossier's earlier PDF")
    assert scan_command([good, bad], out, "auto") == 1
    reported = lines(capsys.readouterr().out)
    assert reported[0]["mode"] == "text"
    assert reported[1]["file"] == str(bad)
    assert reported[1]["ok"] is False
    error = str(reported[1]["error"])
    vietnamese, english = error.split(" / ", 1)
    assert any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", vietnamese))
    assert english
    assert out.read_bytes() == b"the dossier's earlier PDF"
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_tesseract_reads_the_vietnamese_text_of_a_text_page() -> None:
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout
    if "vie" not in langs.split():
        pytest.skip("tesseract-ocr-vie is not installed")
    done = subprocess.run(
        ["tesseract", "-", "-", "-l", "vie", "--psm", "4"],
        input=page(0).data,
        capture_output=True,
        check=True,
    )
    read, truth = (" ".join(text.split()) for text in (done.stdout.decode(), photo(0).text))
    assert difflib.SequenceMatcher(None, truth, read, autojunk=False).ratio() > 0.95
