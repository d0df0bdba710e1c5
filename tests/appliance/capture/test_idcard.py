"""Reading an ID card from a photo, and `hamletbox id read` over image files."""

from __future__ import annotations

import functools
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from appliance.capture.idcard import read_command, read_id
from appliance.cli import main
from appliance.domain.citizen_id import IdCardError, parse_citizen_qr
from appliance.samples.cards import Shot, card_photo, sample_card_payload

SHOT = Shot(frame=(1024, 768), module_px=3.2, angle=8.0, tilt=10.0)
OK_KEYS = [
    "file", "ok", "id_number", "old_id", "full_name", "date_of_birth", "gender", "address",
    "issue_date", "warnings",
]  # fmt: skip


@functools.cache
def card_frame(payload: str, seed: int = 0) -> np.ndarray:
    return card_photo(payload, SHOT, seed).image


def jpeg(frame: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(frame).save(out, "JPEG", quality=90)
    return out.getvalue()


def test_read_id_gives_the_card_in_the_photo() -> None:
    payload = sample_card_payload(4)
    assert read_id(card_frame(payload)) == parse_citizen_qr(payload)


def test_an_inconsistent_card_is_read_with_warnings() -> None:
    card = read_id(card_frame(sample_card_payload(4, inconsistent=True)))
    assert card.warnings == ("birth_year_mismatch", "gender_mismatch")


def test_a_photo_without_a_qr_is_refused_as_unreadable() -> None:
    blank = np.full((480, 640, 3), 180, np.uint8)
    with pytest.raises(IdCardError) as caught:
        read_id(blank)
    assert caught.value.code == "no_qr"
    assert str(caught.value) == "Không đọc được mã QR / Could not read the QR code"


def test_a_qr_that_is_not_an_id_card_is_refused_with_the_reason() -> None:
    with pytest.raises(IdCardError) as caught:
        read_id(card_frame("https://dichvucong.gov.vn/p/home/dvc-trang-chu.html"))
    assert caught.value.code == "not_id_qr"


@functools.cache
def image_files() -> dict[str, bytes]:
    """The test images, made once: a photo takes a second to generate."""
    good = card_frame(sample_card_payload(4))
    return {
        "good.jpg": jpeg(good),
        "suspect.png": _png(card_frame(sample_card_payload(6, inconsistent=True), seed=6)),
        "text.jpg": "Đây không phải là ảnh\n".encode(),
        "truncated.jpg": jpeg(good)[:6000],
        "blank.jpg": jpeg(np.full((600, 800, 3), 200, np.uint8)),
        "wifi.jpg": jpeg(card_frame("WIFI:S:HamletBox;T:WPA;P:mat-khau-thon-1;;")),
        "damaged.jpg": jpeg(_scratched(sample_card_payload(5))),
    }


def _scratched(payload: str) -> np.ndarray:
    """A card whose QR has a thick scratch across a third of it: past its error correction."""
    photo = card_photo(payload, SHOT, 5)
    (x0, y0), _, (x1, y1), _ = photo.qr_corners
    frame = photo.image.copy()
    top = int(y0 + (y1 - y0) * 0.35)
    frame[top : top + int((y1 - y0) * 0.3), int(min(x0, x1)) : int(max(x0, x1))] = 235
    return frame


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    for name, data in image_files().items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in [*image_files(), "missing.jpg"]}


def _png(frame: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(frame).save(out, "PNG")
    return out.getvalue()


def run(paths: list[Path]) -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    code = read_command(paths, out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_id_read_prints_one_json_line_per_image(images: dict[str, Path]) -> None:
    code, lines = run(list(images.values()))
    assert code == 1
    assert [line["file"] for line in lines] == [str(path) for path in images.values()]
    by_name = {Path(str(line["file"])).name: line for line in lines}

    good = by_name["good.jpg"]
    assert list(good) == OK_KEYS
    fields = sample_card_payload(4).split("|")
    day, month, year = fields[3][:2], fields[3][2:4], fields[3][4:]
    assert good["ok"] is True
    assert good["id_number"] == fields[0] and good["old_id"] == fields[1]
    assert good["full_name"] == fields[2] and good["address"] == fields[5]
    assert good["date_of_birth"] == f"{year}-{month}-{day}"
    assert good["gender"] == fields[4]
    assert good["warnings"] == []

    suspect = by_name["suspect.png"]
    assert suspect["ok"] is True
    assert len(suspect["warnings"]) == 2  # type: ignore[arg-type]
    assert str(suspect["warnings"][0]).startswith("Năm sinh trong số định danh")  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("blank.jpg", "Không đọc được mã QR / Could not read the QR code"),
        ("damaged.jpg", "Không đọc được mã QR / Could not read the QR code"),
        ("wifi.jpg", "Mã QR này không phải của thẻ căn cước / This QR code is not from a citizen"),
        ("missing.jpg", "Không mở được tệp (No such file or directory) / Could not open the file"),
    ],
)
def test_each_bad_image_gets_a_clear_reason(images: dict[str, Path], name: str, error: str) -> None:
    code, [line] = run([images[name]])
    assert code == 1
    assert list(line) == ["file", "ok", "error"]
    assert line["ok"] is False
    assert str(line["error"]).startswith(error)


@pytest.mark.parametrize("name", ["text.jpg", "truncated.jpg"])
def test_a_file_that_is_no_photo_is_refused_in_vietnamese_first(
    images: dict[str, Path], name: str
) -> None:
    code, [line] = run([images[name]])
    assert code == 1 and line["ok"] is False
    vietnamese, english = str(line["error"]).split(" / ", 1)
    assert not vietnamese.isascii() and english.strip()


def test_exit_code_is_zero_when_every_image_gave_a_card(images: dict[str, Path]) -> None:
    code, lines = run([images["good.jpg"], images["suspect.png"]])
    assert code == 0
    assert all(line["ok"] for line in lines)


def test_reading_writes_nothing_to_disk(images: dict[str, Path], tmp_path: Path) -> None:
    before = sorted(tmp_path.iterdir())
    run(list(images.values()))
    assert sorted(tmp_path.iterdir()) == before


def test_the_command_line_prints_vietnamese_as_is(
    images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["id", "read", str(images["good.jpg"])]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["full_name"] == sample_card_payload(4).split("|")[2]
    assert main(["id", "read", str(images["good.jpg"]), str(images["blank.jpg"])]) == 1
    out = capsys.readouterr().out
    assert "Không đọc được mã QR" in out  # not \\u-escaped
