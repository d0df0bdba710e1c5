"""Synthetic photos of citizen ID cards (CCCD) whose QR text is known, for the demo and the tests.

A real card's photo must never be kept, so the demo's folder camera, the QR tests and `bench/qr.py`
use these instead: a card-shaped 85.6 × 54 mm rectangle with a CCCD-format QR (UTF-8, Vietnamese
name and address), set on a table in a frame of up to 12 MP, and spoiled on purpose — small modules,
rotation, perspective, blur, glare, low contrast, noise, JPEG. The same seed gives the same pixels.
OpenCV is imported only when a photo is made.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont

from appliance.domain.citizen_id import PROVINCES, Gender, century_sex_digit
from appliance.pdf_layout import find_fonts

if TYPE_CHECKING:
    from numpy.typing import NDArray

Corners = tuple[tuple[float, float], ...]

CARD_MM = (85.6, 54.0)
QR_SHARE = 0.21  # the QR's side as a share of the card's width (about 18 mm, as on the chip card)
QUIET_MODULES = 2  # the printed card leaves a narrow white margin, not the standard four modules

_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
           "Đỗ")  # fmt: skip
_MIDDLE = {"male": ("Văn", "Hữu", "Đức", "Minh", "Quốc"), "female": ("Thị", "Ngọc", "Thu", "Mỹ")}
_GIVEN = {
    "male": ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Phúc", "Sơn", "Tuấn"),
    "female": ("Hà", "Hằng", "Hoa", "Hương", "Lan", "Linh", "Mai", "Phương", "Thảo", "Trang",
               "Yến"),
}  # fmt: skip
_TABLES = ((120, 84, 58), (92, 94, 98), (40, 40, 44), (200, 196, 188), (150, 118, 80))
_PLACES = ("Thôn Xà Bang 1, Xã Xà Bang", "Ấp 3, Xã Bình Ba", "Tổ 5, Ấp Sông Cầu, Xã Nghĩa Thành")


@dataclass(frozen=True)
class Shot:
    """How the camera sees the card. Sizes are in frame pixels, angles in degrees."""

    frame: tuple[int, int] = (2028, 1520)  # width, height (12 MP: 4056 × 3040)
    module_px: float = 4.0  # size of one QR module where the card faces the camera
    angle: float = 0.0  # in-plane rotation of the card
    tilt: float = 0.0  # how far the card's plane is turned away from the camera (perspective)
    centre: tuple[float, float] = (0.5, 0.5)  # the card's centre, as shares of the frame
    blur: float = 0.0  # Gaussian sigma (focus)
    motion: float = 0.0  # length of a motion-blur streak
    glare: float = 0.0  # 0..1: a bright elliptical highlight on the laminate over the QR
    contrast: float = 1.0  # 1: normal; 0.2: a dim, washed-out photo
    noise: float = 2.0  # sensor noise, standard deviation in grey levels
    jpeg: int | None = 90  # JPEG quality the camera saved with; None: no compression


@dataclass(frozen=True)
class CardPhoto:
    image: NDArray[np.uint8]  # RGB, H × W × 3
    payload: str  # the QR's text
    qr_corners: Corners  # where the QR symbol landed in the frame: TL, TR, BR, BL


def sample_card_payload(seed: int, inconsistent: bool = False) -> str:
    """A CCCD QR text. `inconsistent` flips the sex digit and the year digits of the ID number,
    which a careful reader must notice."""
    rng = np.random.default_rng(seed)
    gender: Gender = "female" if rng.integers(2) else "male"
    code = sorted(PROVINCES)[rng.integers(len(PROVINCES))]
    year, month, day = (int(rng.integers(lo, hi)) for lo, hi in ((1935, 2010), (1, 13), (1, 29)))
    digit, yy = century_sex_digit(year, gender), year % 100
    if inconsistent:
        digit, yy = digit ^ 1, (yy + 7) % 100
    number = f"{code}{digit}{yy:02d}{int(rng.integers(10**6)):06d}"
    old = f"{int(rng.integers(10**8, 10**9))}" if rng.integers(3) == 0 else ""
    name = " ".join((_pick(rng, _FAMILY), _pick(rng, _MIDDLE[gender]), _pick(rng, _GIVEN[gender])))
    address = f"{_pick(rng, _PLACES)}, {PROVINCES[code]}"
    issued = f"{int(rng.integers(1, 29)):02d}{int(rng.integers(1, 13)):02d}"
    issued += str(int(rng.integers(2016, 2025)))
    sex = "Nữ" if gender == "female" else "Nam"
    return f"{number}|{old}|{name}|{day:02d}{month:02d}{year}|{sex}|{address}|{issued}"


def _pick(rng: np.random.Generator, items: tuple[str, ...]) -> str:
    return items[int(rng.integers(len(items)))]


def card_photo(payload: str, shot: Shot = Shot(), seed: int = 0) -> CardPhoto:
    """The card with this QR text photographed as `shot` says."""
    import cv2

    rng = np.random.default_rng(seed)
    card, qr_box, render_module = _render_card(payload)
    scale = shot.module_px / render_module
    if scale < 0.9:  # blur before shrinking, as a lens would, instead of aliasing
        card = np.asarray(cv2.GaussianBlur(card, (0, 0), 0.45 / scale), np.uint8)
    warp = _placement(rng, shot, card.shape[1], card.shape[0], scale)
    size = shot.frame
    flat = cv2.warpPerspective(card, warp, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(_rounded_mask(card.shape[1], card.shape[0]), warp, size)
    alpha = mask.astype(np.float32) / 255
    photo = cv2.blendLinear(flat, _table(rng, size), alpha, 1 - alpha).astype(np.float32)
    photo *= _lighting(rng, size)[..., None]
    qr_corners = _transform(warp, qr_box)
    if shot.glare > 0:
        photo += _glare(rng, size, qr_corners, shot.glare)[..., None]
    return CardPhoto(_spoil(rng, photo, shot), payload, qr_corners)


def _render_card(payload: str) -> tuple[NDArray[np.uint8], Corners, int]:
    """The flat card front, the QR's corners on it and the module size it was drawn with."""
    qr = np.asarray(segno.make(payload, encoding="utf-8", micro=False).matrix, np.uint8)
    module = 8
    side = qr.shape[0] * module
    width = round(side / QR_SHARE)
    height = round(width * CARD_MM[1] / CARD_MM[0])
    card = Image.new("RGB", (width, height), (238, 234, 220))
    draw = ImageDraw.Draw(card)
    for k in range(0, height, max(height // 40, 2)):  # faint guilloche lines
        draw.arc((-width // 2, k - height, width * 3 // 2, k + height), 0, 180, (222, 216, 200))
    _draw_text(draw, payload, width, height)
    x0, y0 = width - round(0.04 * width) - side, round(0.06 * height)
    quiet = QUIET_MODULES * module
    draw.rectangle((x0 - quiet, y0 - quiet, x0 + side + quiet, y0 + side + quiet), (250, 250, 248))
    pixels = np.asarray(card).copy()
    big = np.kron(qr, np.ones((module, module), np.uint8)).astype(bool)
    pixels[y0 : y0 + side, x0 : x0 + side][big] = (24, 22, 30)
    box = ((x0, y0), (x0 + side, y0), (x0 + side, y0 + side), (x0, y0 + side))
    return pixels, tuple((float(x), float(y)) for x, y in box), module


def _draw_text(draw: ImageDraw.ImageDraw, payload: str, width: int, height: int) -> None:
    """The printed side: emblem, heading, a photo box and the holder's fields, left of the QR."""
    fonts = find_fonts()
    r, cx, cy = round(0.065 * width), round(0.1 * width), round(0.17 * height)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), (200, 30, 36))
    draw.regular_polygon((cx, cy, r * 0.6), 5, fill=(250, 215, 60))
    heading = (
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", fonts.bold, (30, 30, 40)),
        ("Độc lập - Tự do - Hạnh phúc", fonts.regular, (30, 30, 40)),
        ("CĂN CƯỚC CÔNG DÂN", fonts.bold, (190, 30, 36)),
    )
    for k, (line, face, ink) in enumerate(heading):
        _fit_text(draw, (0.19 * width, (0.06 + 0.09 * k) * height), line, face, ink, 0.5 * width)
    draw.rectangle((0.04 * width, 0.4 * height, 0.27 * width, 0.85 * height), (150, 160, 175))
    fields = [*payload.split("|"), "", "", "", "", "", "", ""]
    lines = (
        f"Số / No.: {fields[0]}",
        f"Họ và tên / Full name: {fields[2].upper()}",
        f"Ngày sinh / Date of birth: {fields[3]}",
        f"Giới tính / Sex: {fields[4]}    Quốc tịch / Nationality: Việt Nam",
        "Nơi thường trú / Place of residence:",
        fields[5],
    )
    for k, line in enumerate(lines):
        at = (0.31 * width, (0.42 + 0.085 * k) * height)
        _fit_text(draw, at, line, fonts.regular, (35, 35, 45), 0.66 * width)


def _fit_text(
    draw: ImageDraw.ImageDraw,
    at: tuple[float, float],
    text: str,
    face: Path,
    ink: tuple[int, int, int],
    room: float,
) -> None:
    """Draw one line, shrinking the font until it fits in `room` pixels."""
    size = max(round(draw.im.size[1] / 20), 8)
    font = ImageFont.truetype(face, size)
    while size > 8 and draw.textlength(text, font=font) > room:
        size -= 1
        font = ImageFont.truetype(face, size)
    draw.text(at, text, ink, font)


def _rounded_mask(width: int, height: int) -> NDArray[np.uint8]:
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, width - 1, height - 1), width // 25, 255)
    return np.asarray(mask)


def _placement(
    rng: np.random.Generator, shot: Shot, width: int, height: int, scale: float
) -> NDArray[np.float64]:
    """The homography from the flat card to the frame: tilt in 3-D, project, turn, move."""
    import cv2

    w, h = width * scale, height * scale
    pts = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]])
    axis_angle = rng.uniform(0, 2 * np.pi)
    axis = np.array([np.cos(axis_angle), np.sin(axis_angle), 0.0])
    rot, _ = cv2.Rodrigues(axis * np.radians(shot.tilt))
    pts = pts @ rot.T
    distance = 2.0 * max(w, h)  # a short copy stand: the near edge looks visibly larger
    pts = pts[:, :2] * (distance / (distance + pts[:, 2:3]))
    turn = np.radians(shot.angle)
    spin = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    dst = pts @ spin.T + np.array([shot.centre[0] * shot.frame[0], shot.centre[1] * shot.frame[1]])
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    return np.asarray(cv2.getPerspectiveTransform(src, dst.astype(np.float32)), np.float64)


def _transform(warp: NDArray[np.float64], points: Corners) -> Corners:
    homogeneous = np.array([[x, y, 1.0] for x, y in points]) @ warp.T
    return tuple((float(p[0] / p[2]), float(p[1] / p[2])) for p in homogeneous)


def _table(rng: np.random.Generator, size: tuple[int, int]) -> NDArray[np.uint8]:
    """A table or copy-stand base: a colour with a soft mottle, made small and enlarged."""
    import cv2

    shape = (max(size[1] // 64, 2), max(size[0] // 64, 2), 1)
    base = np.array(_TABLES[int(rng.integers(len(_TABLES)))], np.float32)
    small = base * (1 + 0.06 * rng.normal(0, 1, shape).astype(np.float32))
    small = np.clip(small, 0, 255).astype(np.uint8)
    return np.asarray(cv2.resize(small, size, interpolation=cv2.INTER_CUBIC), np.uint8)


def _lighting(rng: np.random.Generator, size: tuple[int, int]) -> NDArray[np.float32]:
    """Light falling off across the stand plus a vignette, as a gain field."""
    import cv2

    w, h = max(size[0] // 16, 2), max(size[1] // 16, 2)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * (xx / w - 0.5) + np.sin(angle) * (yy / h - 0.5)
    radius = (xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2
    gain = 0.95 + 0.15 * ramp - 0.3 * radius
    return np.asarray(cv2.resize(gain, size, interpolation=cv2.INTER_LINEAR), np.float32)


def _glare(
    rng: np.random.Generator, size: tuple[int, int], qr: Corners, strength: float
) -> NDArray[np.float32]:
    """A specular highlight near the QR: an ellipse with a saturating core and a soft fall-off."""
    import cv2

    corners = np.array(qr)
    side = float(np.linalg.norm(corners[1] - corners[0]))
    centre = corners.mean(axis=0) + rng.uniform(-0.45, 0.45, 2) * side
    axes = side * rng.uniform(0.2, 0.45), side * rng.uniform(0.08, 0.2)
    spot = np.zeros((size[1], size[0]), np.float32)
    cv2.ellipse(
        spot,
        (round(centre[0]), round(centre[1])),
        (round(axes[0]), round(axes[1])),
        float(rng.uniform(0, 180)),
        0,
        360,
        1.0,
        -1,
    )
    soft = cv2.GaussianBlur(spot, (0, 0), max(axes[1] * 0.6, 1.0))
    return np.asarray(soft * (255 * 1.6 * strength), np.float32)


def _spoil(rng: np.random.Generator, photo: NDArray[np.float32], shot: Shot) -> NDArray[np.uint8]:
    """Contrast loss, focus and motion blur, noise and JPEG, in the order a camera adds them."""
    import cv2

    np.clip(photo, 0, 255, out=photo)
    if shot.contrast != 1.0:
        photo *= np.float32(shot.contrast)
        photo += np.float32(110 * (1 - shot.contrast))
    if shot.blur > 0:
        photo = np.asarray(cv2.GaussianBlur(photo, (0, 0), shot.blur), np.float32)
    if shot.motion > 0:
        photo = np.asarray(cv2.filter2D(photo, -1, _streak(rng, shot.motion)), np.float32)
    if shot.noise > 0:
        _add_noise(rng, photo, shot.noise)
    pixels = np.clip(photo, 0, 255).astype(np.uint8)
    if shot.jpeg is None:
        return pixels
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=shot.jpeg)
    return np.asarray(Image.open(io.BytesIO(out.getvalue())).convert("RGB"))


def _add_noise(rng: np.random.Generator, photo: NDArray[np.float32], sigma: float) -> None:
    """Sensor noise, in place; one random tile laid over and over, since drawing 36 million
    normals for a 12 MP frame takes a second."""
    th, tw = 251, 257
    tile = rng.standard_normal((th, tw, photo.shape[2]), dtype=np.float32) * np.float32(sigma)
    for y in range(0, photo.shape[0], th):
        for x in range(0, photo.shape[1], tw):
            block = photo[y : y + th, x : x + tw]
            block += tile[: block.shape[0], : block.shape[1]]


def _streak(rng: np.random.Generator, length: float) -> NDArray[np.float32]:
    import cv2

    size = int(np.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, :] = 1
    turn = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), rng.uniform(0, 180), 1.0)
    turned = cv2.warpAffine(kernel, turn, (size, size))
    return np.asarray(turned / turned.sum(), np.float32)
