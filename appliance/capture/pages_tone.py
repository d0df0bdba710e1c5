"""Even lighting, the text-or-colour choice, and the two encodings of a flat page.

A page photographed under a lamp is brighter on one side and may carry a shadow; dividing by the
paper's own brightness (ink removed by a large max filter) makes it evenly white. Then a page of
text becomes black and white at 200 dpi in CCITT Group 4 (a few tens of kilobytes, sharp when
printed), and a page with a red seal or a photograph stays in colour as a modest JPEG: the seal's
colour is part of what makes a paper official. OpenCV is imported inside the functions.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Literal

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from numpy.typing import NDArray

PageMode = Literal["text", "color"]

BACKGROUND_STEP = 8  # the background is estimated at 1/8 scale: light varies slowly
BACKGROUND_KERNEL = 9  # pixels at that scale (~9 mm at 200 dpi): wider than any stroke of ink
WHITE_POINT = 0.9  # paper brighter than 90 % of its local background becomes pure white
SATURATED = 100  # HSV saturation (0-255) of seal ink, coloured print, photographs
COLOUR_SHARE = 0.002  # share of the page in saturated colour above which it is kept in colour
COLOUR_DPI, COLOUR_QUALITY = 150, 65
SAUVOLA_WINDOW, SAUVOLA_K = 41, 0.15
BORDER = 0.008  # share of the short side (1.7 mm on A4) cleared along a found page's edges
SPECK = 3  # connected dark specks of at most this many pixels are noise, not ink


def flatten(page: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The page with the paper evenly white, each channel divided by its own background, which
    also takes out the colour cast of a warm lamp."""
    import cv2

    height, width = page.shape[:2]
    small = cv2.resize(
        page,
        (max(1, width // BACKGROUND_STEP), max(1, height // BACKGROUND_STEP)),
        interpolation=cv2.INTER_AREA,
    )
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (BACKGROUND_KERNEL, BACKGROUND_KERNEL))
    paper = cv2.GaussianBlur(cv2.dilate(small, kernel), (0, 0), BACKGROUND_KERNEL / 2)
    paper = cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR)
    scale = 255.0 / WHITE_POINT
    return np.asarray(cv2.divide(page, np.maximum(paper, 1), scale=scale), np.uint8)


def clear_border(flat: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The page with a thin band along its edges made white: where a corner found a pixel or two
    off lets the table show, a black strip would print and cost bytes. Printed content keeps
    well away from a paper's edge."""
    band = max(1, round(BORDER * min(flat.shape[:2])))
    clean = flat.copy()
    clean[:band], clean[-band:], clean[:, :band], clean[:, -band:] = 255, 255, 255, 255
    return clean


def colour_share(flat: NDArray[np.uint8]) -> float:
    """The share of the page in clearly saturated colour, specks and ink fringes left out."""
    import cv2

    height, width = flat.shape[:2]
    inset = round(0.02 * min(height, width))
    inner = flat[inset : height - inset, inset : width - inset]
    small = cv2.resize(inner, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    mask = ((hsv[..., 1] >= SATURATED) & (hsv[..., 2] >= 90)).astype(np.uint8)
    return float(cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)).mean())


def choose_mode(flat: NDArray[np.uint8]) -> PageMode:
    return "color" if colour_share(flat) > COLOUR_SHARE else "text"


def binarize(flat: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Ink (False) and paper (True) by Sauvola's local threshold, which keeps thin and faint strokes
    that one global threshold would lose; lone specks of noise are dropped."""
    import cv2

    gray = cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY).astype(np.float32)
    window = (SAUVOLA_WINDOW, SAUVOLA_WINDOW)
    mean = cv2.boxFilter(gray, -1, window)
    spread = np.sqrt(np.maximum(cv2.boxFilter(gray * gray, -1, window) - mean * mean, 0))
    threshold = mean * (1 + SAUVOLA_K * (spread / 128 - 1))
    ink = ((gray < threshold) & (gray < 200)).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] <= SPECK)
    small = small[small > 0]
    if small.size:
        ink[np.isin(labels, small)] = 0
    return np.asarray(ink == 0)


def rotated(image: NDArray[np.uint8], degrees: int) -> NDArray[np.uint8]:
    """The image turned clockwise by a multiple of 90 degrees."""
    import cv2

    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    if degrees % 360 == 0:
        return image
    if degrees % 360 not in codes:
        raise ValueError(f"rotation must be 0, 90, 180 or 270 degrees, not {degrees}")
    return np.asarray(cv2.rotate(image, codes[degrees % 360]), np.uint8)


def encode_text(paper: NDArray[np.bool_], dpi: int) -> bytes:
    """Black and white as a single-strip CCITT Group 4 TIFF: img2pdf copies its data into the PDF
    as it is."""
    out = io.BytesIO()
    height = paper.shape[0]
    Image.fromarray(paper).save(
        out, "TIFF", compression="group4", dpi=(dpi, dpi), tiffinfo={278: height}
    )
    return out.getvalue()


def encode_colour(flat: NDArray[np.uint8], source_dpi: int) -> tuple[bytes, int, int]:
    """A colour page as JPEG at COLOUR_DPI (4:2:0), and its width and height."""
    import cv2

    factor = COLOUR_DPI / source_dpi
    height, width = flat.shape[:2]
    size = (round(width * factor), round(height * factor))
    small = cv2.resize(flat, size, interpolation=cv2.INTER_AREA)
    out = io.BytesIO()
    Image.fromarray(small).save(
        out,
        "JPEG",
        quality=COLOUR_QUALITY,
        subsampling="4:2:0",
        optimize=True,
        dpi=(COLOUR_DPI, COLOUR_DPI),
    )
    return out.getvalue(), size[0], size[1]
