"""Photos of papers in, compact print-ready PDF pages out.

Each photo goes through the same steps: find the page (or fall back to the whole frame and say
so), lay it flat at its own paper size, even out the light, turn it, and choose per page between
black-and-white text (CCITT G4 at 200 dpi, a few tens of kilobytes) and colour (a modest JPEG,
for red seals and photographs). img2pdf puts the encoded images in the PDF without re-encoding.
OpenCV and img2pdf are imported only when a page is processed: the web process imports this
module's callers and must start light.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from appliance.capture.pages_geometry import OUTPUT_DPI, Corners, detect_corners, output_size
from appliance.files import write_atomically

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "NO_EDGES",
    "Corners",
    "Mode",
    "ProcessedPage",
    "assemble_pdf",
    "detect_corners",
    "pdf_of",
    "process_page",
    "scan_command",
]

Mode = Literal["auto", "text", "color"]
MODES: tuple[Mode, ...] = ("auto", "text", "color")
NO_EDGES = "Không tìm thấy mép giấy, dùng cả ảnh / No page edges found, using the whole photo"
UNREADABLE = "Không đọc được tệp / Could not read the file"
FAILED = "Không xử lý được ảnh này / This photo could not be processed"
MB = 1024 * 1024


@dataclass(frozen=True)
class ProcessedPage:
    """One flat page, encoded and ready for the PDF: a G4 TIFF for text, a JPEG for colour."""

    mode: Literal["text", "color"]
    width: int
    height: int
    dpi: int
    data: bytes
    corners: Corners  # TL, TR, BR, BL in the source photo's pixels
    corners_found: bool


def process_page(
    image: NDArray[np.uint8],
    mode: Mode = "auto",
    corners: Corners | None = None,
    rotate: int = 0,
) -> ProcessedPage:
    """One photo (H×W×3 RGB) to one page. Corners given (a volunteer's correction) are trusted;
    otherwise they are detected. `rotate` turns the flat page clockwise by 0, 90, 180 or 270."""
    from appliance.capture import pages_geometry as geometry
    from appliance.capture import pages_tone as tone

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    found = True
    if corners is None:
        corners, found = detect_corners(image)
    flat = tone.flatten(geometry.warp(image, corners, output_size(corners, found)))
    if found:
        flat = tone.clear_border(flat)
    flat = tone.rotated(flat, rotate)
    chosen = tone.choose_mode(flat) if mode == "auto" else mode
    if chosen == "color":
        data, width, height = tone.encode_colour(flat, OUTPUT_DPI)
        return ProcessedPage("color", width, height, tone.COLOUR_DPI, data, corners, found)
    paper = tone.binarize(flat)
    height, width = paper.shape
    data = tone.encode_text(paper, OUTPUT_DPI)
    return ProcessedPage("text", width, height, OUTPUT_DPI, data, corners, found)


def assemble_pdf(pages: Sequence[ProcessedPage]) -> bytes:
    """One PDF with a page per processed page; see pdf_of."""
    return pdf_of([page.data for page in pages])


def pdf_of(images: Sequence[bytes]) -> bytes:
    """One PDF with a page per stored page image, each at its true printed size (from the image's
    dpi); the G4 and JPEG data are copied in as they are. No dates: same pages, same bytes."""
    import img2pdf

    if not images:
        raise ValueError("a PDF needs at least one page")
    return cast(bytes, img2pdf.convert(list(images), nodate=True))


def scan_command(paths: list[Path], out: Path, mode: str) -> int:
    """`hamletbox scan`: one JSON line per photo, and the PDF written only if every page worked."""
    from appliance.config import IntakeSettings

    max_bytes = IntakeSettings().max_image_mb * MB
    pages: list[ProcessedPage] = []
    for path in paths:
        result = _scan_one(path, cast(Mode, mode), max_bytes)
        if isinstance(result, str):
            _emit({"file": str(path), "ok": False, "error": result})
            continue
        pages.append(result)
        _emit(_page_line(path, result))
    if len(pages) < len(paths):
        print(f"{out}: không ghi tệp PDF / PDF not written", file=sys.stderr)
        return 1
    try:
        write_atomically(out, assemble_pdf(pages))
    except OSError as exc:
        print(f"{out}: không ghi được tệp / could not write the file: {exc}", file=sys.stderr)
        return 1
    return 0


def _scan_one(path: Path, mode: Mode, max_bytes: int) -> ProcessedPage | str:
    """A page, or the message saying why this photo cannot become one."""
    import cv2

    from appliance.capture.images import UploadError, load_upload

    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"{UNREADABLE}: {exc.strerror or exc}"
    try:
        return process_page(load_upload(data, max_bytes), mode)
    except UploadError as exc:
        return str(exc)
    except (ValueError, MemoryError, cv2.error) as exc:
        return f"{FAILED}: {exc}"


def _page_line(path: Path, page: ProcessedPage) -> dict[str, object]:
    line: dict[str, object] = {
        "file": str(path),
        "mode": page.mode,
        "width": page.width,
        "height": page.height,
        "bytes": len(page.data),
        "corners_found": page.corners_found,
    }
    if not page.corners_found:
        line["warning"] = NO_EDGES
    return line


def _emit(line: dict[str, object]) -> None:
    print(json.dumps(line, ensure_ascii=False), flush=True)
