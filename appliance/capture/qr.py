"""Frames -> QR text: a cascade of attempts, cheapest first, under a time budget per frame.

Measured on generated card photos (bench/qr.py), zxing-cpp on the whole grey frame reads most
cards in a tenth of ZBar's time, so it goes first. When it fails the QR is usually there but
spoiled (blur, glare, modules under 3 px): we locate it — where zxing saw a symbol it could not
decode, or a dense square of edges — and retry on an enlarged crop with sharpening, local
thresholds and contrast equalisation, with both zxing-cpp and ZBar (pyzbar), which fail on
different photos. Whole-frame equalisation and ZBar come last, for QRs the locator missed. The
bench measures each stage's share; rotation is no stage, as both decoders read a QR at any angle.
Frames stay in memory; nothing is written to disk. cv2, zxingcpp and pyzbar load on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

Box = tuple[float, float, float]  # centre x, centre y, side, in frame pixels
Decoder = Callable[["NDArray[np.uint8]"], list[bytes]]
Attempt = tuple[Decoder, "NDArray[np.uint8]"]

LOCATE_SIDE = 1024  # the locator works on the frame shrunk to this longest side
CROP_FACTOR = 2.0  # crops are enlarged this much before decoding...
CROP_LARGE = 1000  # ...unless already this wide
MAX_CANDIDATES = 3
ZBAR_FRAME_SIDE = 2048  # whole-frame ZBar: larger frames are shrunk first (cost grows with area)


@dataclass(frozen=True)
class QrResult:
    texts: tuple[str, ...]  # every distinct text the successful attempt read, in its order
    stage: str  # which stage of the cascade read it (for the benchmark and the logs)
    elapsed_s: float

    @property
    def text(self) -> str:
        return self.texts[0]


def decode_qr(
    frame: NDArray[np.uint8],
    budget_s: float = 1.5,
    clock: Callable[[], float] = time.monotonic,
    only: Collection[str] | None = None,
) -> QrResult | None:
    """Run the cascade until an attempt reads a QR or the budget is spent (an attempt already
    running is finished, so the overrun is at most one attempt). None if nothing was read.
    `only` keeps just the named stages, for measuring what each adds."""
    start = clock()
    work = _Work(_gray(frame))
    for stage, attempts in STAGES:
        if only is not None and stage not in only:
            continue
        for decoder, image in attempts(work):
            if clock() - start >= budget_s:
                return None
            found = decoder(image)
            if found:
                texts = tuple(dict.fromkeys(qr_text(data) for data in found))
                return QrResult(texts, stage, clock() - start)
    return None


def qr_text(data: bytes) -> str:
    """QR bytes as text. Cards write UTF-8; bytes that are not UTF-8 are read as ISO-8859-1, the
    QR standard's default, which also covers encoders that pick it for text like "Thôn Xà"."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


@dataclass
class _Work:
    """One frame's grey image and what the stages learn about it on the way."""

    gray: NDArray[np.uint8]
    seen: list[Box] = field(default_factory=list)  # symbols zxing found but could not decode

    @cached_property
    def crops(self) -> list[tuple[NDArray[np.uint8], float]]:
        """Enlarged crops around the likely QRs, with the enlargement used."""
        boxes = _merge([*self.seen, *_texture_boxes(self.gray)])[:MAX_CANDIDATES]
        return [_crop(self.gray, box) for box in boxes]


def _gray(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Grey from the camera's RGB (or RGBA, or grey already), in one contiguous block as the
    decoders' buffers need."""
    import cv2

    if frame.ndim == 2:
        return np.ascontiguousarray(frame)
    code = cv2.COLOR_RGBA2GRAY if frame.shape[2] == 4 else cv2.COLOR_RGB2GRAY
    return np.asarray(cv2.cvtColor(frame, code), np.uint8)


# Decoders -------------------------------------------------------------------------------------


def _zxing(image: NDArray[np.uint8]) -> list[bytes]:
    return [b.bytes for b in _zxing_read(image, return_errors=False) if b.valid]


def _zxing_read(image: NDArray[np.uint8], return_errors: bool) -> list[Any]:
    import zxingcpp

    qr = zxingcpp.BarcodeFormat.QRCode  # accepted for BarcodeFormats at run time, in 2.x and 3.x
    return list(zxingcpp.read_barcodes(image, formats=qr, return_errors=return_errors))  # type: ignore[arg-type]


def _zbar(image: NDArray[np.uint8]) -> list[bytes]:
    """ZBar through pyzbar's ctypes layer, in binary mode: pyzbar's decode() lets ZBar guess the
    QR's character set, and it mistakes UTF-8 Vietnamese for Shift-JIS or Big5 on about one card
    in four. Binary mode (ZBar 0.23+) returns the bytes as stored."""
    from pyzbar import wrapper as zb

    scanner = zb.zbar_image_scanner_create()
    img = zb.zbar_image_create()
    try:
        zb.zbar_image_scanner_set_config(scanner, 0, zb.ZBarConfig.CFG_ENABLE, 0)
        for name in (b"qrcode.enable", b"qrcode.binary"):
            _zbar_config(scanner, name)
        height, width = image.shape
        data = np.ascontiguousarray(image).tobytes()
        zb.zbar_image_set_format(img, _Y800)
        zb.zbar_image_set_size(img, width, height)
        zb.zbar_image_set_data(img, data, len(data), None)
        zb.zbar_scan_image(scanner, img)
        return list(_zbar_symbols(img))
    finally:
        zb.zbar_image_destroy(img)
        zb.zbar_image_scanner_destroy(scanner)


_Y800 = 0x30303859  # ZBar's fourcc for 8-bit grey


def _zbar_config(scanner: object, name: bytes) -> None:
    """Apply one 'symbology.option' setting; an option this ZBar does not know is skipped."""
    import ctypes

    from pyzbar import wrapper as zb

    symbology, config, value = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    refs = ctypes.byref(symbology), ctypes.byref(config), ctypes.byref(value)
    if zb.zbar_parse_config(name, *refs) == 0:
        zb.zbar_image_scanner_set_config(scanner, symbology.value, config.value, value.value)


def _zbar_symbols(img: object) -> Iterator[bytes]:
    import ctypes

    from pyzbar import wrapper as zb
    from pyzbar.pyzbar import ZBarSymbol

    symbol = zb.zbar_image_first_symbol(img)
    while symbol:
        if symbol.contents.type == ZBarSymbol.QRCODE:
            size = zb.zbar_symbol_get_data_length(symbol)
            yield ctypes.string_at(zb.zbar_symbol_get_data(symbol), size)
        symbol = zb.zbar_symbol_next(symbol)


def _zxing_seeing(work: _Work) -> Decoder:
    """zxing on the whole frame that also remembers where it saw symbols it could not decode."""

    def decode(image: NDArray[np.uint8]) -> list[bytes]:
        found = _zxing_read(image, return_errors=True)
        work.seen.extend(_box(b.position) for b in found if not b.valid)
        return [b.bytes for b in found if b.valid]

    return decode


# Locating the QR ------------------------------------------------------------------------------


def _box(position: Any) -> Box:
    corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    xs, ys = [float(p.x) for p in corners], [float(p.y) for p in corners]
    return (sum(xs) / 4, sum(ys) / 4, max(max(xs) - min(xs), max(ys) - min(ys)))


def _texture_boxes(gray: NDArray[np.uint8]) -> list[Box]:
    """Dense, roughly square patches of strong edges: a QR's modules, not text lines or edges."""
    import cv2

    scale = min(1.0, LOCATE_SIDE / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    edges = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    _, mask = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[tuple[float, Box]] = []
    for contour in contours:
        (cx, cy), (w, h), _ = cv2.minAreaRect(contour)
        area = float(cv2.contourArea(contour))
        if min(w, h) < 12 or max(w, h) > 1.8 * min(w, h) or area < 0.6 * w * h:
            continue
        found.append((area, (cx / scale, cy / scale, max(w, h) / scale)))
    return [box for _, box in sorted(found, reverse=True)]


def _merge(boxes: list[Box]) -> list[Box]:
    """One box per place: boxes whose centres lie inside an earlier one grow it instead."""
    merged: list[Box] = []
    for cx, cy, side in boxes:
        for k, (mx, my, mside) in enumerate(merged):
            if abs(cx - mx) < mside / 2 and abs(cy - my) < mside / 2:
                merged[k] = (mx, my, max(mside, side + 2 * max(abs(cx - mx), abs(cy - my))))
                break
        else:
            merged.append((cx, cy, side))
    return merged


def _crop(gray: NDArray[np.uint8], box: Box) -> tuple[NDArray[np.uint8], float]:
    """The box with a quiet-zone margin, doubled in size unless already large. A fixed factor,
    because the locator's box is only a rough guess of the QR's size (at 12 MP it often takes in
    the card's text too), and doubling lifts the 2-3 px modules that defeat both decoders."""
    import cv2

    cx, cy, side = box
    half = side * 0.75 + 8
    x0, y0 = max(int(cx - half), 0), max(int(cy - half), 0)
    x1, y1 = min(int(cx + half), gray.shape[1]), min(int(cy + half), gray.shape[0])
    crop = gray[y0:y1, x0:x1]
    if max(crop.shape) > CROP_LARGE:
        return np.asarray(crop, np.uint8), 1.0
    big = cv2.resize(crop, None, fx=CROP_FACTOR, fy=CROP_FACTOR, interpolation=cv2.INTER_CUBIC)
    return np.asarray(big, np.uint8), CROP_FACTOR


# Stages ---------------------------------------------------------------------------------------

Attempts = Callable[[_Work], Iterator[Attempt]]
Transform = Callable[["NDArray[np.uint8]", float], "NDArray[np.uint8]"]


def _whole_frame(work: _Work) -> Iterator[Attempt]:
    yield _zxing_seeing(work), work.gray


def _on_crops(transform: Transform) -> Attempts:
    """Both decoders on each candidate crop after `transform`."""

    def attempts(work: _Work) -> Iterator[Attempt]:
        for crop, factor in work.crops:
            image = transform(crop, factor)
            yield _zxing, image
            yield _zbar, image

    return attempts


def _as_is(crop: NDArray[np.uint8], factor: float) -> NDArray[np.uint8]:
    return crop


def _sharpen(
    crop: NDArray[np.uint8], factor: float, sigma: float = 1.5, amount: float = 3.0
) -> NDArray[np.uint8]:
    """Unsharp mask: steepens module edges that focus or a shaky hand softened."""
    import cv2

    soft = cv2.GaussianBlur(crop, (0, 0), sigma * factor)
    return np.asarray(cv2.addWeighted(crop, 1 + amount, soft, -amount, 0), np.uint8)


def _adaptive(
    crop: NDArray[np.uint8], factor: float, window: float = 5, offset: int = 0
) -> NDArray[np.uint8]:
    """A threshold that follows the local mean over about `window` source pixels (one to two
    modules): survives uneven light and keeps blurred modules apart."""
    import cv2

    block = 2 * round(window * factor / 2) + 1
    binary = cv2.adaptiveThreshold(
        crop, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, offset
    )
    return np.asarray(binary, np.uint8)


def _adaptive_wide(crop: NDArray[np.uint8], factor: float) -> NDArray[np.uint8]:
    """The same over several modules and a little below the mean: under the edge of a glare the
    dark modules are lighter than their neighbourhood but still below it."""
    return _adaptive(crop, factor, window=13, offset=3)


def _equalise(crop: NDArray[np.uint8], factor: float) -> NDArray[np.uint8]:
    """CLAHE: stretches a dim or washed-out code's contrast tile by tile."""
    import cv2

    return np.asarray(cv2.createCLAHE(clipLimit=4.0, tileGridSize=(8, 8)).apply(crop), np.uint8)


def _zbar_frame(work: _Work) -> Iterator[Attempt]:
    """ZBar on the whole frame (shrunk if huge): for a QR the locator did not pick out."""
    import cv2

    scale = ZBAR_FRAME_SIDE / max(work.gray.shape)
    if scale >= 1:
        yield _zbar, work.gray
    else:
        small = cv2.resize(work.gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        yield _zbar, np.asarray(small, np.uint8)


def _equalised_frame(work: _Work) -> Iterator[Attempt]:
    yield _zxing, _equalise(work.gray, 1.0)


# In the order that reads soonest. Of the benchmark's photos that whole-frame zxing missed (three
# seeds, 57 photos) each stage alone read: crop sharpen 25, adaptive 19, adaptive wide 17, crop as
# is 16, equalise 13, equalised frame 10, ZBar frame 2. Background normalisation + Otsu read 1: cut.
STAGES: tuple[tuple[str, Attempts], ...] = (
    ("zxing frame", _whole_frame),
    ("crop sharpen", _on_crops(_sharpen)),
    ("crop adaptive", _on_crops(_adaptive)),
    ("crop adaptive wide", _on_crops(_adaptive_wide)),
    ("crop", _on_crops(_as_is)),
    ("crop equalise", _on_crops(_equalise)),
    ("equalised frame", _equalised_frame),
    ("zbar frame", _zbar_frame),
)
