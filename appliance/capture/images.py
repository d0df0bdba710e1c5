"""Photos from phones and cameras in, plain RGB arrays out; JPEG bytes out for pages and previews.

An upload is hostile until proven otherwise: its size is capped before anything is decoded, its real
type is read from its first bytes (never from its name or the browser's claim), its pixel count is
read from the header before the image is decoded, and a truncated file is refused rather than
padded with grey. Phones embed GPS positions in EXIF; the orientation is applied and everything
else is dropped by turning the picture into a bare array. numpy and Pillow load only when used.
"""

from __future__ import annotations

import io
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy
    from PIL import Image as PILImage

MAX_PIXELS = 50_000_000  # 50 megapixels: above any phone's default photo, far below a bomb
MB = 1024 * 1024

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
AVIF_BRANDS = {b"avif", b"avis"}
# What a refused file is, in Vietnamese and English, so the message can name it.
KIND_NAMES = {
    "pdf": ("tài liệu PDF", "a PDF document"),
    "gif": ("ảnh GIF", "a GIF image"),
    "webp": ("ảnh WebP", "a WebP image"),
    "avif": ("ảnh AVIF", "an AVIF image"),
    "bmp": ("ảnh BMP", "a BMP image"),
    "tiff": ("ảnh TIFF", "a TIFF image"),
    "video": ("video", "a video"),
    "zip": ("tệp nén hoặc tài liệu Word/Excel", "a ZIP archive or an Office document"),
}

HEIC_REFUSED = (
    "Ảnh HEIC chưa được hỗ trợ — trên iPhone chọn 'Tương thích nhất' "
    "(Cài đặt > Camera > Định dạng) hoặc gửi ảnh JPEG / HEIC photos are not supported — on an "
    "iPhone choose 'Most Compatible' (Settings > Camera > Formats) or send a JPEG photo"
)
EMPTY = (
    "Tệp trống — hãy chụp hoặc chọn lại ảnh / The file is empty — take or choose the photo again"
)
UNKNOWN = (
    "Không nhận ra loại tệp này — hãy gửi ảnh JPEG hoặc PNG / "
    "This file type is not recognised — please send a JPEG or PNG photo"
)
DAMAGED = (
    "Ảnh bị hỏng hoặc chưa tải lên hết — hãy chụp hoặc gửi lại / "
    "The photo is damaged or was not uploaded completely — take or send it again"
)
# Pillow's complaints about a file it cannot decode: each means "this image is broken".
DECODE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
)


class UploadError(ValueError):
    """A file that cannot become a page; the message says why, in Vietnamese then English."""


def sniff(data: bytes) -> str:
    """The real type of a file from its first bytes: "jpeg", "png", "heic", a KIND_NAMES key, or
    "unknown"."""
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if data.startswith(PNG_MAGIC):
        return "png"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        return "heic" if brand in HEIF_BRANDS else "avif" if brand in AVIF_BRANDS else "video"
    prefixes = (
        (b"%PDF-", "pdf"),
        (b"GIF87a", "gif"),
        (b"GIF89a", "gif"),
        (b"BM", "bmp"),
        (b"II*\x00", "tiff"),
        (b"MM\x00*", "tiff"),
        (b"PK\x03\x04", "zip"),
    )
    for prefix, kind in prefixes:
        if data.startswith(prefix):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "unknown"


def header_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """Width and height as the file's header states them, read without decoding any pixels."""
    if kind == "png":
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return _jpeg_size(data) if kind == "jpeg" else None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the JPEG markers up to the first start-of-frame, which holds the image size."""
    sof = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
    standalone = {0x01, *range(0xD0, 0xD9)}
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker in standalone:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in sof:
            if i + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        if marker in (0xD9, 0xDA) or length < 2:  # end of image or scan data before any frame
            return None
        i += 2 + length
    return None


def load_upload(data: bytes, max_bytes: int) -> numpy.ndarray:
    """An uploaded photo as an H×W×3 RGB uint8 array, upright, with no metadata left."""
    check_upload(data, max_bytes)
    return decode(data)


def check_upload(data: bytes, max_bytes: int) -> str:
    """Every check that needs no decoding (size, type, pixel count); returns the sniffed type."""
    if not data:
        raise UploadError(EMPTY)
    if len(data) > max_bytes:
        raise UploadError(_too_large(len(data), max_bytes))
    kind = sniff(data)
    if kind == "heic":
        raise UploadError(HEIC_REFUSED)
    if kind in KIND_NAMES:
        vi, en = KIND_NAMES[kind]
        raise UploadError(
            f"Tệp này là {vi}, không phải ảnh JPEG hay PNG — hãy gửi ảnh chụp / "
            f"This file is {en}, not a JPEG or PNG photo — please send a photo"
        )
    if kind not in ("jpeg", "png"):
        raise UploadError(UNKNOWN)
    size = header_size(data, kind)
    if size is None or 0 in size:
        raise UploadError(DAMAGED)
    _check_pixels(*size)
    return kind


def _too_large(size: int, max_bytes: int) -> str:
    got, limit = size / MB, max_bytes / MB
    return (
        f"Ảnh quá lớn ({got:.1f} MB, tối đa {limit:.0f} MB) — hãy chụp lại với độ phân giải thấp "
        f"hơn / The photo is too large ({got:.1f} MB, at most {limit:.0f} MB) — take it again at a "
        "lower resolution"
    )


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        got, limit = width * height / 1e6, MAX_PIXELS / 1e6
        raise UploadError(
            f"Ảnh có quá nhiều điểm ảnh ({width}×{height}, {got:.0f} megapixel; tối đa "
            f"{limit:.0f}) — hãy gửi ảnh nhỏ hơn / The image has too many pixels "
            f"({width}×{height}, {got:.0f} megapixels; at most {limit:.0f}) — please send a "
            "smaller image"
        )


def decode(data: bytes) -> numpy.ndarray:
    """Decode a JPEG or PNG fully (truncation is an error), apply its EXIF orientation, and return
    RGB pixels; transparent areas become white, as on paper."""
    import numpy
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data), formats=("JPEG", "PNG")) as image:
            _check_pixels(*image.size)  # Pillow's reading of the header, in case ours differs
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = _flatten(upright)
    except UploadError:
        raise
    except Image.DecompressionBombError as exc:  # only if Pillow reads a size we did not
        raise UploadError(DAMAGED) from exc
    except DECODE_ERRORS as exc:
        raise UploadError(DAMAGED) from exc
    return numpy.asarray(rgb, dtype=numpy.uint8).copy()


def _flatten(image: PILImage.Image) -> PILImage.Image:
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if image.mode == "I" or image.mode.startswith("I;16"):  # 16-bit grey: keep the top 8 bits
        import numpy

        grey = numpy.clip(numpy.asarray(image).astype(numpy.int64) >> 8, 0, 255)
        image = Image.fromarray(grey.astype(numpy.uint8))
    return image.convert("RGB")


def encode_jpeg(frame: numpy.ndarray, quality: int = 85) -> bytes:
    """JPEG bytes of an RGB frame, with no EXIF or other metadata."""
    out = io.BytesIO()
    _to_image(frame).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def downscale(frame: numpy.ndarray, longest: int) -> numpy.ndarray:
    """The frame shrunk so that its longest side is at most `longest` (unchanged if already so)."""
    import numpy
    from PIL import Image

    height, width = frame.shape[:2]
    if max(width, height) <= longest:
        return frame
    scale = longest / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = _to_image(frame).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return numpy.asarray(small, dtype=numpy.uint8)


def _to_image(frame: numpy.ndarray) -> PILImage.Image:
    from PIL import Image

    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype.name != "uint8":
        raise ValueError(f"expected an H×W×3 uint8 RGB frame, got {frame.shape} {frame.dtype}")
    return Image.fromarray(frame)


def check_dossier_total(current_bytes: int, adding: int, max_bytes: int) -> None:
    """Refuse a page that would take a dossier over its size cap (what the relay's link can
    carry and the commune's inbox accepts)."""
    if current_bytes + adding > max_bytes:
        limit = max_bytes / MB
        raise UploadError(
            f"Hồ sơ đã vượt dung lượng cho phép ({limit:.0f} MB) — hãy bớt trang hoặc chụp lại "
            f"với độ phân giải thấp hơn / The dossier is over its size limit ({limit:.0f} MB) — "
            "remove pages or take them again at a lower resolution"
        )
