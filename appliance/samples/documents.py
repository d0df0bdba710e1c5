"""Synthetic photos of Vietnamese administrative papers, with the text and page corners they show.

The demo's folder camera, the page-pipeline tests and `bench/pages.py` need photos whose truth is
known: what the page says (to measure OCR error) and where its corners are (to check detection).
Each photo is made the way a phone or a copy-stand camera would see a form on a table: an A4 page
set in a darker table, tilted in perspective, lit unevenly, slightly blurred, noisy, saved as JPEG.
The same seed always gives the same bytes. OpenCV is imported only when a photo is made.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from appliance.pdf_layout import find_fonts

if TYPE_CHECKING:
    from numpy.typing import NDArray

Corners = tuple[tuple[float, float], ...]

RENDER_DPI = 240  # the page is drawn finer than the pipeline's 200 dpi output, as a camera sees it
A4_MM = (210.0, 297.0)
MARGIN_MM = 20.0
BODY_PT, TITLE_PT = 13.0, 15.0
SEAL_RED = (205, 32, 40)

_NAMES = ("NGUYỄN THỊ HOA", "TRẦN VĂN HÙNG", "LÊ THỊ THU TRANG", "PHẠM QUỐC BẢO", "ĐỖ THỊ MỸ LỆ")
_CHILDREN = ("TRẦN MINH KHÔI", "NGUYỄN GIA HÂN", "LÊ ĐỨC THỊNH", "PHẠM NGỌC ÁNH", "ĐỖ HOÀNG PHÚC")
_PLACES = (
    "Ấp 3, xã Xà Bang, huyện Châu Đức, tỉnh Bà Rịa - Vũng Tàu",
    "Thôn Xà Bang 1, xã Xà Bang, huyện Châu Đức",
    "Tổ 5, ấp Sông Cầu, xã Nghĩa Thành, huyện Châu Đức",
    "Thôn Phước Hưng, xã Bình Ba, huyện Châu Đức",
)


@dataclass(frozen=True)
class DocumentPhoto:
    """A synthetic photo (JPEG bytes and decoded RGB) with its ground truth."""

    jpeg: bytes
    image: NDArray[np.uint8]
    text: str  # every line printed on the page, in reading order, one per line
    corners: Corners  # the page's corners in the photo: TL, TR, BR, BL
    seal: bool


def form_lines(seed: int) -> list[tuple[str, bool, str]]:
    """The form's lines as (text, bold, align), varied by seed like different residents' papers."""
    rng = np.random.default_rng(seed)
    parent, child = _NAMES[rng.integers(len(_NAMES))], _CHILDREN[rng.integers(len(_CHILDREN))]
    place = _PLACES[rng.integers(len(_PLACES))]
    day, month, id_tail = int(rng.integers(1, 28)), int(rng.integers(1, 12)), rng.integers(10**6)
    return [
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True, "center"),
        ("Độc lập - Tự do - Hạnh phúc", True, "center"),
        ("TỜ KHAI ĐĂNG KÝ KHAI SINH", True, "title"),
        ("Kính gửi: Ủy ban nhân dân xã Xà Bang", False, "center"),
        (f"Họ, chữ đệm, tên người yêu cầu: {parent}", False, "left"),
        (f"Nơi cư trú: {place}", False, "left"),
        (f"Giấy tờ tùy thân: Căn cước công dân số 077190{id_tail:06d}", False, "left"),
        ("Quan hệ với người được khai sinh: Mẹ", False, "left"),
        ("Đề nghị cơ quan đăng ký khai sinh cho người dưới đây:", False, "left"),
        (f"Họ, chữ đệm, tên: {child}", False, "left"),
        (f"Ngày, tháng, năm sinh: {day:02d}/{month:02d}/2024", False, "left"),
        ("Giới tính: Nam. Dân tộc: Kinh. Quốc tịch: Việt Nam", False, "left"),
        ("Nơi sinh: Trạm y tế xã Xà Bang, huyện Châu Đức", False, "left"),
        ("Quê quán: xã Bình Ba, huyện Châu Đức", False, "left"),
        (f"Họ, chữ đệm, tên người mẹ: {parent}. Năm sinh: 1990", False, "left"),
        (f"Nơi cư trú: {place}", False, "left"),
        (
            "Tôi cam đoan nội dung đề nghị đăng ký khai sinh trên đây là đúng sự thật,",
            False,
            "left",
        ),
        (
            "được sự thỏa thuận nhất trí của các bên liên quan theo quy định pháp luật.",
            False,
            "left",
        ),
        (f"Làm tại: xã Xà Bang, ngày {day} tháng {month + 1} năm 2024", False, "right"),
        ("Người yêu cầu", True, "right"),
        ("(Ký, ghi rõ họ, chữ đệm, tên)", False, "right"),
        (parent.title(), False, "right"),
    ]


def render_page(
    seed: int, seal: bool = False, paper_mm: tuple[float, float] = A4_MM, body_pt: float = BODY_PT
) -> tuple[Image.Image, str]:
    """The flat page as printed, at RENDER_DPI, and the text on it (one line per printed line)."""
    px = RENDER_DPI / 25.4
    width, height = round(paper_mm[0] * px), round(paper_mm[1] * px)
    page = Image.new("RGB", (width, height), (250, 249, 245))
    draw = ImageDraw.Draw(page)
    fonts = find_fonts()
    size = {False: round(body_pt * RENDER_DPI / 72), True: round(TITLE_PT * RENDER_DPI / 72)}
    margin, y, printed = round(MARGIN_MM * px), round(MARGIN_MM * px), []
    for text, bold, align in form_lines(seed):
        title = align == "title"
        font = ImageFont.truetype(fonts.bold if bold else fonts.regular, size[title])
        line_w = draw.textlength(text, font=font)
        x = {"left": margin, "right": width - margin - line_w}.get(align, (width - line_w) / 2)
        if title:
            y += size[True]
        draw.text((x, y), text, font=font, fill=(25, 25, 30))
        printed.append(text)
        y += round(size[title] * (2.2 if title else 1.75))
    if seal:
        _draw_seal(page, (width - margin - round(62 * px), y - round(12 * px)), round(21 * px))
    return page, "\n".join(printed)


def _draw_seal(page: Image.Image, centre: tuple[int, int], radius: int) -> None:
    """A red round commune seal, printed over the signature as real seals are (multiply blend)."""
    ink = Image.new("L", page.size, 0)
    draw = ImageDraw.Draw(ink)
    cx, cy = centre
    for r, w in ((radius, radius // 14), (round(radius * 0.72), radius // 28)):
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=255, width=max(w, 2))
    star = [
        (
            cx + radius * 0.3 * (1 if k % 2 == 0 else 0.4) * np.sin(np.pi * k / 5),
            cy - radius * 0.3 * (1 if k % 2 == 0 else 0.4) * np.cos(np.pi * k / 5),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=255)
    red = Image.new("RGB", page.size, SEAL_RED)
    page.paste(
        Image.composite(
            Image.fromarray(np.minimum(np.asarray(page), np.asarray(red))),
            page,
            ink.point(lambda v: int(v * 0.85)),
        )
    )


def make_photo(
    seed: int,
    seal: bool = False,
    frame: tuple[int, int] = (4056, 3040),
    tilt: float = 0.2,
    shadow: float = 0.35,
    paper_mm: tuple[float, float] = A4_MM,
    body_pt: float = BODY_PT,
) -> DocumentPhoto:
    """A camera photo of the form on a table, the page tipped up to `tilt` radians each way, with a
    soft shadow darkening part of it by up to `shadow` (0: none)."""
    import cv2

    rng = np.random.default_rng(seed + 7919)
    page, text = render_page(seed, seal, paper_mm, body_pt)
    corners = _page_quad(rng, frame, page.size, tilt)
    src = np.array([[0, 0], [page.width, 0], [page.width, page.height], [0, page.height]])
    warp = cv2.getPerspectiveTransform(src.astype(np.float32), np.array(corners, np.float32))
    table = _table(rng, frame)
    flat = cv2.warpPerspective(np.asarray(page), warp, frame, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((page.height, page.width), 255, np.uint8), warp, frame)
    photo = np.where(mask[..., None] > 127, flat, table).astype(np.float32)
    cast = np.array([1.0, 0.97, 0.9], np.float32)
    photo *= _lighting(rng, frame, shadow)[..., None] * cast
    blurred = np.asarray(cv2.GaussianBlur(photo, (0, 0), float(rng.uniform(0.8, 1.3))), np.float32)
    jpeg = _jpeg(_noisy(rng, blurred), 90)
    image = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    return DocumentPhoto(jpeg, image, text, corners, seal)


def _page_quad(
    rng: np.random.Generator, frame: tuple[int, int], page: tuple[int, int], tilt: float
) -> Corners:
    """Where the page's corners land, by a pinhole camera (about 67° across) looking down at a page
    tipped up to `tilt` radians about each axis, turned a little, and placed off centre; drawn
    again until the whole page is in the frame, as a volunteer would frame it."""
    for _ in range(50):
        corners = _projected(rng, frame, page, tilt)
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        if (
            min(xs) > 0.01 * frame[0]
            and max(xs) < 0.99 * frame[0]
            and min(ys) > 0.01 * frame[1]
            and max(ys) < 0.99 * frame[1]
        ):
            break
    return corners


def _projected(
    rng: np.random.Generator, frame: tuple[int, int], page: tuple[int, int], tilt: float
) -> Corners:
    fw, fh = frame
    focal = 0.75 * fw
    half = np.array([page[0], page[1]], np.float64) / 2
    plane = np.array([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], np.float64)
    plane[:, :2] *= half
    ax, ay, az = rng.uniform(-tilt, tilt), rng.uniform(-tilt, tilt), rng.uniform(-0.1, 0.1)
    turned = plane @ (_rotation(0, ax) @ _rotation(1, ay) @ _rotation(2, az)).T
    distance = focal * page[1] / (fh * rng.uniform(0.78, 0.86))
    offset = np.array([rng.uniform(-0.07, 0.07) * fw, rng.uniform(-0.03, 0.03) * fh]) / focal
    turned[:, :2] += offset * distance
    turned[:, 2] += distance
    x = focal * turned[:, 0] / turned[:, 2] + fw / 2
    y = focal * turned[:, 1] / turned[:, 2] + fh / 2
    return tuple((float(a), float(b)) for a, b in zip(x, y, strict=True))


def _rotation(axis: int, angle: float) -> NDArray[np.float64]:
    c, s = np.cos(angle), np.sin(angle)
    i, j = [k for k in range(3) if k != axis]
    matrix = np.eye(3)
    matrix[i, i], matrix[i, j], matrix[j, i], matrix[j, j] = c, -s, s, c
    return matrix


def _table(rng: np.random.Generator, frame: tuple[int, int]) -> NDArray[np.uint8]:
    """A darker wooden table top, brown with soft grain: the page stands out as it does in life."""
    import cv2

    fw, fh = frame
    coarse = rng.normal(0, 1, (fh // 40, 8)).astype(np.float32)
    grain = np.asarray(cv2.resize(coarse, (fw, fh), interpolation=cv2.INTER_CUBIC), np.float32)
    base = np.array([118.0, 84.0, 58.0], np.float32) * np.float32(rng.uniform(0.8, 1.1))
    return np.clip(base * (1 + 0.08 * grain[..., None]), 0, 255).astype(np.uint8)


def _noisy(rng: np.random.Generator, photo: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Sensor noise, then 8 bits as the camera stores them."""
    photo += rng.standard_normal(photo.shape, dtype=np.float32) * np.float32(3.5)
    return np.clip(photo, 0, 255).astype(np.uint8)


def _lighting(
    rng: np.random.Generator, frame: tuple[int, int], shadow: float
) -> NDArray[np.float32]:
    """A gain field: light falling off across the table, a vignette, and maybe a hand's shadow.
    Made at an eighth of the size and enlarged: light varies slowly."""
    import cv2

    gain = _gain(rng, (frame[0] // 8, frame[1] // 8), shadow).astype(np.float32)
    return np.asarray(cv2.resize(gain, frame, interpolation=cv2.INTER_LINEAR))


def _gain(rng: np.random.Generator, frame: tuple[int, int], shadow: float) -> NDArray[np.float64]:
    import cv2

    fw, fh = frame
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float64)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (xx / fw - 0.5) + np.sin(angle) * (yy / fh - 0.5)) * 2
    radius = ((xx / fw - 0.5) ** 2 + (yy / fh - 0.5) ** 2) / 0.5
    gain = 0.92 + 0.12 * ramp * rng.uniform(0.6, 1.0) - 0.18 * radius
    if shadow:
        side = np.cos(angle + np.pi / 2) * (xx / fw - 0.5) + np.sin(angle + np.pi / 2) * (yy / fh)
        edge = np.quantile(side, rng.uniform(0.12, 0.25))
        dark = cv2.GaussianBlur((side < edge).astype(np.float64), (0, 0), fw / 60)
        gain *= 1 - shadow * dark
    return np.asarray(gain)


def blank_photo(seed: int, frame: tuple[int, int] = (2028, 1520)) -> bytes:
    """A photo with no page in it, just the table unevenly lit: the whole-frame fallback's case."""
    rng = np.random.default_rng(seed)
    photo = _table(rng, frame) * _lighting(rng, frame, shadow=0.0)[..., None]
    return _jpeg(_noisy(rng, photo), 90)


def _jpeg(rgb: NDArray[np.uint8], quality: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality)
    return out.getvalue()


def write_samples(
    folder: Path, count: int = 4, frame: tuple[int, int] = (2028, 1520)
) -> list[Path]:
    """Sample photos for the demo's folder camera: every other one carries a red seal."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(count):
        path = folder / f"giay-to-{seed + 1:02d}.jpg"
        path.write_bytes(make_photo(seed, seal=seed % 2 == 1, frame=frame).jpeg)
        paths.append(path)
    return paths
