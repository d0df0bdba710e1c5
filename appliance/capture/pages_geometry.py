"""Where the page is in a photo, how big it really is, and how to lay it flat.

The page is found on a small copy of the photo as the largest solid convex quadrilateral of
plausible size among three candidate regions (unsaturated paper, bright paper, closed edges), then
its sides are sharpened on the full photo. Its real proportions are estimated from the sides and
snapped to a paper size when close, so the PDF prints at true size. OpenCV is imported inside the
functions: the web process imports this module's callers without paying for it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cv2.typing import MatLike
    from numpy.typing import NDArray

Corners = tuple[tuple[float, float], ...]

OUTPUT_DPI = 200
WORK_SIDE = 1000  # the photo is searched at this longest side: fast, and precise to a few pixels
MIN_AREA, MAX_AREA = 0.12, 0.985  # share of the frame a page can plausibly cover
# Short and long sides in millimetres; A5 has A4's shape, so a page of that shape prints as A4.
PAPERS: dict[str, tuple[float, float]] = {
    "A4": (210.0, 297.0),
    "Letter": (215.9, 279.4),
    "Legal": (215.9, 355.6),
}
REFINE_REACH = 0.01  # edges are looked for this far (share of the photo) either side of a side
MIN_SIDE = 8.0  # photo pixels: corners closer than this enclose no page
DEGENERATE = "Bốn góc không tạo thành một trang / The four corners do not enclose a page"
SOLID = 0.9  # a page's region fills its quadrilateral; one cut by a shadow does not
SNAP = 0.05  # a measured shape within 5 % of a paper's is that paper (tilt skews the estimate)


def detect_corners(image: NDArray[np.uint8]) -> tuple[Corners, bool]:
    """The page's corners (TL, TR, BR, BL, in the photo's pixels) and whether a page was found;
    when none is, the whole frame's corners, so the caller can still go on."""
    import cv2

    height, width = image.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    quads = [quad for mask in _page_masks(small) for quad in _quads(mask)]
    if not quads:
        return frame_corners(width, height), False
    best = max(quads, key=lambda quad: float(cv2.contourArea(quad.astype(np.float32))))
    return _ordered(_refined(image, best / scale)), True


def frame_corners(width: int, height: int) -> Corners:
    return ((0.0, 0.0), (float(width), 0.0), (float(width), float(height)), (0.0, float(height)))


def _page_masks(small: MatLike) -> Iterator[MatLike]:
    """Candidate page regions, each right where the others fail: paper is less saturated than a
    wooden or coloured table even in shadow; brighter than a grey one; and outlined by edges."""
    import cv2

    hsv = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2HSV), (0, 0), 2.0)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    for channel, kind in ((1, cv2.THRESH_BINARY_INV), (2, cv2.THRESH_BINARY)):
        _, mask = cv2.threshold(hsv[..., channel], 0, 255, kind + cv2.THRESH_OTSU)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
        yield cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    gray = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (0, 0), 1.5)
    edges = cv2.dilate(cv2.Canny(gray, 30, 90), np.ones((3, 3), np.uint8))
    filled = np.zeros_like(edges)
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(filled, contours, -1, 255, thickness=cv2.FILLED)
    yield filled


def _quads(mask: MatLike) -> Iterator[NDArray[np.float64]]:
    """Regions of the mask that are solid convex quadrilaterals of plausible area."""
    import cv2

    frame_area = float(mask.shape[0] * mask.shape[1])
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:3]:
        hull = cv2.convexHull(contour)
        area = cv2.contourArea(hull)
        if not MIN_AREA <= area / frame_area <= MAX_AREA:
            continue
        quad = _four_corners(hull)
        if quad is None:
            continue
        quad_area = cv2.contourArea(quad.astype(np.float32))
        solid = quad_area > 0.92 * area and cv2.contourArea(contour) > SOLID * quad_area
        if solid and _sides_on_border(quad, mask.shape[1], mask.shape[0]) <= 1:
            yield quad


def _sides_on_border(quad: NDArray[np.float64], width: int, height: int) -> int:
    """How many sides run along the frame's edge: a region bounded by the frame on two sides is
    light falling across the table, not a page (one side may be a page running off the photo)."""
    margin = 0.01 * max(width, height)
    near = [
        (quad[:, 0] < margin),
        (quad[:, 0] > width - 1 - margin),
        (quad[:, 1] < margin),
        (quad[:, 1] > height - 1 - margin),
    ]
    return sum(any(edge[k] and edge[(k + 1) % 4] for edge in near) for k in range(4))


def _four_corners(hull: MatLike) -> NDArray[np.float64] | None:
    import cv2

    perimeter = cv2.arcLength(hull, True)
    for tolerance in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, tolerance * perimeter, True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            return np.asarray(approx.reshape(4, 2), np.float64)
    return None


def _refined(image: NDArray[np.uint8], quad: NDArray[np.float64]) -> NDArray[np.float64]:
    """Corners sharpened on the full photo: along each side, the strongest brightness step across
    it marks the paper's edge; lines fitted to those points meet at sub-pixel corners. The rough
    quadrilateral from the small copy can be off by several pixels of the full photo."""
    import cv2

    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    reach = max(4, round(REFINE_REACH * max(gray.shape)))
    lines = [_edge_line(gray, quad[k], quad[(k + 1) % 4], reach) for k in range(4)]
    crossed = [_intersect(lines[k - 1], lines[k]) for k in range(4)]
    if any(c is None for c in crossed):
        return quad
    result = np.array(crossed, np.float64)
    return result if float(np.abs(result - quad).max()) <= reach else quad


def _edge_line(
    gray: MatLike, start: NDArray[np.float64], end: NDArray[np.float64], reach: int
) -> tuple[float, float, float, float] | None:
    """The paper's edge near the side start→end as a line (point, direction), or None."""
    import cv2

    direction = (end - start) / max(float(np.linalg.norm(end - start)), 1e-9)
    normal = np.array([-direction[1], direction[0]])
    along = np.linspace(0.08, 0.92, 32)[:, None]
    centres = start + along * (end - start)
    offsets = np.arange(-reach, reach + 1, dtype=np.float64)
    xs = centres[:, 0:1] + offsets[None, :] * normal[0]
    ys = centres[:, 1:2] + offsets[None, :] * normal[1]
    profiles = cv2.remap(
        gray,
        xs.astype(np.float32),
        ys.astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    ).astype(np.float32)
    steps = np.abs(np.diff(cv2.GaussianBlur(profiles, (0, 0), sigmaX=1.5, sigmaY=0.1), axis=1))
    best = steps.argmax(axis=1)
    strong = steps[np.arange(len(best)), best] > 4
    if strong.sum() < 8:
        return None
    points = centres[strong] + (offsets[best[strong]] + 0.5)[:, None] * normal
    vx, vy, x0, y0 = cv2.fitLine(points.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    return (float(x0), float(y0), float(vx), float(vy))


def _intersect(
    first: tuple[float, float, float, float] | None,
    second: tuple[float, float, float, float] | None,
) -> tuple[float, float] | None:
    if first is None or second is None:
        return None
    x1, y1, dx1, dy1 = first
    x2, y2, dx2, dy2 = second
    det = dx1 * dy2 - dy1 * dx2
    if abs(det) < 1e-9:
        return None
    t = ((x2 - x1) * dy2 - (y2 - y1) * dx2) / det
    return (x1 + t * dx1, y1 + t * dy1)


def _ordered(points: NDArray[np.float64]) -> Corners:
    """TL, TR, BR, BL: by the sum and the difference of the coordinates, as a person reads them."""
    total, diff = points.sum(axis=1), points[:, 1] - points[:, 0]
    order = (np.argmin(total), np.argmin(diff), np.argmax(total), np.argmax(diff))
    if len(set(order)) < 4:  # a page turned near 45°: clockwise round the centre instead
        centre = points.mean(axis=0)
        order = tuple(np.argsort(np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])))
    return tuple((float(points[i][0]), float(points[i][1])) for i in order)


def side_lengths(corners: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The page's width and height in photo pixels: the mean of opposite sides."""
    tl, tr, br, bl = (np.array(c) for c in corners)
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    return float(width), float(height)


def output_size(corners: Corners, found: bool, dpi: int = OUTPUT_DPI) -> tuple[int, int]:
    """Pixels for the flat page at `dpi`: a known paper's size when the shape is close to one,
    otherwise the measured shape with A4's short side (or, for the whole frame, A4's long side)."""
    width, height = side_lengths(corners)
    short, long_ = sorted((width, height))
    if short < MIN_SIDE:
        raise ValueError(DEGENERATE)
    mm = _paper_mm(long_ / short) if found else None
    if mm is None:
        a4_short, a4_long = PAPERS["A4"]
        unit = a4_short / short if found else a4_long / long_
        mm = (short * unit, long_ * unit)
    px_short, px_long = (round(side / 25.4 * dpi) for side in mm)
    return (px_short, px_long) if width <= height else (px_long, px_short)


def _paper_mm(ratio: float) -> tuple[float, float] | None:
    name = min(PAPERS, key=lambda p: abs(math.log(ratio * PAPERS[p][0] / PAPERS[p][1])))
    short, long_ = PAPERS[name]
    return (short, long_) if abs(ratio / (long_ / short) - 1) <= SNAP else None


def warp(image: NDArray[np.uint8], corners: Corners, size: tuple[int, int]) -> NDArray[np.uint8]:
    """The page seen straight on, `size` pixels (width, height). Bicubic: where the photo has fewer
    pixels than the page at 200 dpi, it keeps the strokes' edges sharper for the threshold."""
    import cv2

    width, height = size
    src = np.array(corners, np.float32)
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    return np.asarray(
        cv2.warpPerspective(
            image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
        ),
        np.uint8,
    )
