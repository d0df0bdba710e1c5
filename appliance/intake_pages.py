"""Photos into stored pages, and the same pages cut again from their kept source photos.

Cleaning a page is lossy (a text page becomes black and white), so turning or re-cropping the
cleaned page would lose more each time. Each page keeps its source photo instead (a JPEG blob,
q 90, no EXIF) while its dossier is a draft, with the turn and corners it was cut with; every edit
starts again from that photo. Source photos are never part of the upstream manifest: the purge
deletes them once the dossier is submitted. An ID card's frame never comes here.
OpenCV and Pillow load only when a page is processed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from appliance.domain.dossier import DossierError, PageMeta
from appliance.store.dossier_records import Corners, Cut, DossierRecord, PageRecord

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from appliance.capture.pages import Mode
    from appliance.store.blobs import BlobStore

SOURCE_QUALITY = 90
MB = 1024 * 1024
MIN_AREA_SHARE = 0.01  # corners enclosing less than 1% of the photo are a slip of the finger
NO_SOURCE = (
    "Trang này không còn ảnh gốc để sửa — hãy chụp lại / "
    "This page's photo is no longer kept — take the page again"
)
BAD_CORNERS = (
    "Bốn góc không tạo thành một trang — hãy kéo mỗi góc về đúng góc tờ giấy / "
    "The four corners do not make a page — drag each one to a corner of the paper"
)


@dataclass(frozen=True)
class NewPage:
    meta: PageMeta
    cut: Cut


class PageCutter:
    """Processes photos into pages within the dossier's size cap and writes both blobs."""

    def __init__(self, blobs: BlobStore, max_dossier_mb: int) -> None:
        self._blobs = blobs
        self._max_bytes = max_dossier_mb * MB

    def cut(
        self,
        dossier: DossierRecord,
        image: NDArray[np.uint8],
        mode: Mode = "auto",
        corners: Corners | None = None,
        rotation: int = 0,
        *,
        replacing: PageRecord | None = None,
        source_sha256: str | None = None,
    ) -> NewPage:
        """Process `image` into a page (in place of `replacing`, if given) and write its blob,
        then its source photo unless `source_sha256` says it is already kept."""
        from appliance.capture.images import check_dossier_total, encode_jpeg
        from appliance.capture.pages import process_page

        page = process_page(image, mode, corners, rotation % 360)
        current = dossier.total_bytes - (replacing.bytes if replacing is not None else 0)
        check_dossier_total(current, len(page.data), self._max_bytes)
        sha = self._blobs.put(page.data)
        if source_sha256 is None:
            source_sha256 = self._blobs.put(encode_jpeg(image, SOURCE_QUALITY))
        kept = page.corners if page.corners_found else None
        meta = PageMeta(sha, page.mode, page.width, page.height, len(page.data))
        return NewPage(meta, Cut(source_sha256, rotation % 360, kept))

    def recut(
        self,
        dossier: DossierRecord,
        page: PageRecord,
        *,
        rotation: int | None = None,
        corners: Corners | None = None,
    ) -> NewPage:
        """The page cut again from its source photo, turned to `rotation` and/or to `corners`
        (each kept as it was when not given), in the mode it already has."""
        cut = page.cut
        if cut is None or not self._blobs.exists(cut.source_sha256):
            raise DossierError("no_source", NO_SOURCE)
        image = self.source(cut)
        if corners is not None:
            height, width = image.shape[:2]
            corners = checked_corners(corners, width, height)
        return self.cut(
            dossier,
            image,
            page.mode,
            corners if corners is not None else cut.corners,
            cut.rotation if rotation is None else rotation,
            replacing=page,
            source_sha256=cut.source_sha256,
        )

    def source(self, cut: Cut) -> NDArray[np.uint8]:
        from appliance.capture.images import decode

        return decode(self._blobs.read(cut.source_sha256))


def checked_corners(corners: Corners, width: int, height: int) -> Corners:
    """The four corners a person set, clamped into the photo and put in TL, TR, BR, BL order;
    refused when they do not enclose a convex page of some size."""
    if len(corners) != 4 or not all(math.isfinite(v) for point in corners for v in point):
        raise DossierError("bad_corners", BAD_CORNERS)
    points = [(min(max(x, 0.0), width - 1.0), min(max(y, 0.0), height - 1.0)) for x, y in corners]
    cx, cy = sum(x for x, _ in points) / 4, sum(y for _, y in points) / 4
    points.sort(key=lambda p: math.atan2(p[1] - cy, p[0] - cx))  # clockwise on screen, y down
    start = min(range(4), key=lambda i: points[i][0] + points[i][1])  # the top-left one
    ordered = tuple(points[start:] + points[:start])
    turns = [_cross(ordered[i], ordered[(i + 1) % 4], ordered[(i + 2) % 4]) for i in range(4)]
    area = abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in _sides(ordered))) / 2
    if not all(t > 0 for t in turns) or area < MIN_AREA_SHARE * width * height:
        raise DossierError("bad_corners", BAD_CORNERS)
    return ordered


def _cross(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
    return (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])


def _sides(points: Corners) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return [(points[i], points[(i + 1) % len(points)]) for i in range(len(points))]
