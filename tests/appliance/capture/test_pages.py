"""The page pipeline on generated photos of Vietnamese forms whose corners and text are known."""

from __future__ import annotations

import io
import subprocess
import sys
from functools import lru_cache

import numpy as np
import pytest
from PIL import Image

from appliance.capture.pages import ProcessedPage, detect_corners, process_page
from appliance.samples.documents import DocumentPhoto, blank_photo, make_photo

FRAME = (2028, 1520)  # the Pi HQ camera's binned mode: a quarter of a full still, quick to test
A4_200DPI = (1654, 2339)


@lru_cache
def photo(seed: int, seal: bool = False, tilt: float = 0.2, shadow: float = 0.35) -> DocumentPhoto:
    return make_photo(seed, seal=seal, frame=FRAME, tilt=tilt, shadow=shadow)


@lru_cache
def page(seed: int, seal: bool = False) -> ProcessedPage:
    return process_page(photo(seed, seal).image)


def decoded(image_bytes: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(image_bytes))
    image.load()
    return image


def test_importing_the_module_loads_neither_opencv_nor_img2pdf() -> None:
    code = (
        "import sys, appliance.capture.pages; print('cv2' in sys.modules, 'img2pdf' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("seed", "tilt", "shadow"), [(0, 0.1, 0.2), (1, 0.3, 0.55), (5, 0.2, 0.45), (6, 0.3, 0.0)]
)
def test_corners_are_found_where_the_page_is(seed: int, tilt: float, shadow: float) -> None:
    shot = photo(seed, tilt=tilt, shadow=shadow)
    corners, found = detect_corners(shot.image)
    assert found
    error = np.abs(np.array(corners) - np.array(shot.corners)).max()
    assert error < 0.01 * FRAME[1]  # within 1 % of the frame (about 15 px here)


@pytest.mark.parametrize("kind", ["table", "grey wall"])
def test_a_photo_with_no_page_falls_back_to_the_whole_frame(kind: str) -> None:
    rng = np.random.default_rng(3)
    if kind == "table":
        image = np.asarray(Image.open(io.BytesIO(blank_photo(2))).convert("RGB"))
    else:
        image = np.clip(rng.normal(150, 6, (900, 1200, 3)), 0, 255).astype(np.uint8)
    height, width = image.shape[:2]
    corners, found = detect_corners(image)
    assert not found
    assert corners == ((0, 0), (width, 0), (width, height), (0, height))
    result = process_page(image)
    assert not result.corners_found
    assert max(result.width, result.height) == A4_200DPI[1]  # the frame's shape, A4's long side


def test_an_a4_text_page_comes_out_at_200_dpi() -> None:
    result = page(0)
    assert result.corners_found
    assert (result.mode, result.dpi) == ("text", 200)
    assert result.width == pytest.approx(A4_200DPI[0], rel=0.02)
    assert result.height == pytest.approx(A4_200DPI[1], rel=0.02)


def test_a_text_page_is_a_small_group4_tiff() -> None:
    result = page(0)
    image = decoded(result.data)
    assert image.format == "TIFF"
    assert image.mode == "1"
    assert image.info["compression"] == "group4"
    assert image.info["dpi"] == (200, 200)
    assert image.size == (result.width, result.height)
    assert len(result.data) <= 50 * 1024
    ink = 1 - np.asarray(image, np.float64).mean()
    assert 0.01 < ink < 0.15  # text, not a blank or a black page


def test_a_page_with_a_red_seal_stays_in_colour_as_jpeg() -> None:
    result = page(2, seal=True)
    image = decoded(result.data)
    assert (result.mode, image.format, image.mode) == ("color", "JPEG", "RGB")
    assert image.info["dpi"] == (result.dpi, result.dpi)
    rgb = np.asarray(image).astype(int)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 110) & (rgb[..., 2] < 110)
    assert red.mean() > 0.001  # the seal is still red
    assert result.width / result.height == pytest.approx(A4_200DPI[0] / A4_200DPI[1], rel=0.02)


def test_the_mode_asked_for_overrides_the_choice() -> None:
    as_colour = process_page(photo(0).image, mode="color")
    as_text = process_page(photo(2, seal=True).image, mode="text")
    assert (as_colour.mode, decoded(as_colour.data).format) == ("color", "JPEG")
    assert (as_text.mode, decoded(as_text.data).info["compression"]) == ("text", "group4")
    with pytest.raises(ValueError, match="mode"):
        process_page(photo(0).image, mode="grey")  # type: ignore[arg-type]


def test_rotation_turns_the_flat_page_clockwise() -> None:
    upright = np.asarray(decoded(page(0).data))
    turned = process_page(photo(0).image, rotate=90)
    assert (turned.width, turned.height) == (page(0).height, page(0).width)
    differing = np.asarray(decoded(turned.data)) != np.rot90(upright, k=-1)
    assert differing.mean() < 0.001
    with pytest.raises(ValueError, match="90"):
        process_page(photo(0).image, rotate=45)


def test_given_corners_are_used_as_they_are() -> None:
    shot = photo(0)
    result = process_page(shot.image, corners=shot.corners)
    assert result.corners == shot.corners
    assert result.corners_found
    assert (result.width, result.height) == (page(0).width, page(0).height)


def test_corners_that_enclose_no_page_are_refused() -> None:
    point = ((100.0, 100.0),) * 4
    with pytest.raises(ValueError, match="Bốn góc"):
        process_page(photo(0).image, corners=point)


def test_a_letter_page_keeps_its_own_proportions() -> None:
    shot = make_photo(4, frame=FRAME, paper_mm=(215.9, 279.4))
    result = process_page(shot.image, mode="text")
    assert result.width == pytest.approx(1700, rel=0.02)
    assert result.height == pytest.approx(2200, rel=0.02)
