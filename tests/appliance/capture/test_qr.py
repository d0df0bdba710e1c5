"""The QR cascade on generated ID-card photos: the exact text, however the photo went wrong."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
import segno

from appliance.capture.qr import STAGES, _zbar, decode_qr, qr_text
from appliance.samples.cards import CardPhoto, Shot, card_photo, sample_card_payload

FRAME = (1280, 960)
STAGE_NAMES = {name for name, _ in STAGES}


def photo(seed: int, **shot: object) -> CardPhoto:
    settings: dict[str, object] = {"frame": FRAME, "module_px": 3.5, **shot}
    return card_photo(sample_card_payload(seed), Shot(**settings), seed)  # type: ignore[arg-type]


def assert_reads(card: CardPhoto) -> str:
    result = decode_qr(card.image)
    assert result is not None
    assert result.text == card.payload
    assert result.stage in STAGE_NAMES
    return result.stage


@pytest.mark.parametrize("angle", [0, 90, 180, 270, 33, -135])
def test_reads_a_card_at_any_rotation(angle: float) -> None:
    assert_reads(photo(angle_seed(angle), angle=angle))


def angle_seed(angle: float) -> int:
    return int(angle) % 360 + 1


@pytest.mark.parametrize(
    "spoil",
    [
        {"tilt": 35.0, "angle": 12.0},  # seen from the side: perspective
        {"blur": 1.6},  # out of focus
        {"motion": 4.0},  # a shaky hand
        {"contrast": 0.2, "noise": 4.0},  # dim and washed out
        {"glare": 0.3},  # light on the laminate
        {"module_px": 2.2},  # card far from the camera
        {"jpeg": 40},  # a phone's heavy compression
    ],
)
def test_reads_a_spoiled_photo(spoil: dict[str, object]) -> None:
    assert_reads(photo(7, **spoil))


def test_reads_a_small_card_in_a_12_mp_frame() -> None:
    card = photo(12, frame=(4056, 3040), module_px=2.4, angle=-20.0, centre=(0.3, 0.7), blur=0.8)
    assert_reads(card)


def test_the_cascade_reads_what_the_plain_decoders_miss() -> None:
    """A blurred photo neither zxing-cpp nor ZBar reads as it is; a sharpened crop is read."""
    import cv2
    import zxingcpp
    from pyzbar import pyzbar

    card = photo(3, module_px=4.0, blur=2.2)
    gray = cv2.cvtColor(card.image, cv2.COLOR_RGB2GRAY)
    assert not zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    assert not pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])
    assert assert_reads(card).startswith("crop")


def test_a_frame_without_a_qr_reads_nothing() -> None:
    empty = photo(5, module_px=3.5).image.copy()
    empty[:] = empty.mean(axis=(0, 1)).astype(np.uint8)
    assert decode_qr(empty) is None


def test_no_budget_means_no_attempt() -> None:
    assert decode_qr(photo(1).image, budget_s=0.0) is None


def test_the_cascade_stops_when_the_budget_is_spent() -> None:
    """Every clock read moves time on 0.4 s: with a 1 s budget two attempts run, then it stops,
    although this unreadable photo offers many more."""
    unreadable = photo(9, glare=1.0).image
    reads: list[float] = []
    ticks = itertools.count(0.0, 0.4)

    def clock() -> float:
        reads.append(next(ticks))
        return reads[-1]

    assert decode_qr(unreadable, budget_s=1.0, clock=clock) is None
    assert len(reads) == 4  # the start, two attempts, the check that ends it
    reads.clear()
    assert decode_qr(unreadable, budget_s=1e9, clock=clock) is None
    assert len(reads) > 10


def test_zbar_returns_the_utf8_bytes_not_its_charset_guess() -> None:
    """pyzbar.decode() lets ZBar guess a charset, and it takes some Vietnamese UTF-8 QRs for
    Shift-JIS or Big5 (7 of these 40); binary mode gives the bytes as stored."""
    wrong = []
    for seed in range(40):
        payload = sample_card_payload(seed)
        modules = np.pad(np.asarray(segno.make(payload, encoding="utf-8").matrix, np.uint8), 4)
        image = (255 - 255 * np.kron(modules, np.ones((4, 4), np.uint8))).astype(np.uint8)
        if _zbar(image) != [payload.encode("utf-8")]:
            wrong.append(seed)
    assert wrong == []


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("Nguyễn Thị Hằng".encode(), "Nguyễn Thị Hằng"),
        ("Thôn Xà Bang".encode("latin-1"), "Thôn Xà Bang"),  # the QR standard's default charset
        (b"\xff\xfe", "ÿþ"),
    ],
)
def test_qr_bytes_become_text(data: bytes, text: str) -> None:
    assert qr_text(data) == text


def test_importing_the_reader_loads_no_image_library() -> None:
    """The web process imports these; OpenCV and the decoders load only when a frame is read."""
    code = (
        "import sys, appliance.capture.qr, appliance.capture.idcard, appliance.domain.citizen_id;"
        "print(sorted({'cv2', 'zxingcpp', 'pyzbar', 'PIL'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
