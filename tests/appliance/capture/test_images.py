"""Uploads from phones: what is accepted, what is refused and how, and what is stripped."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy
import pytest
from PIL import ExifTags, Image

from appliance.capture import images
from appliance.capture.images import (
    UploadError,
    check_dossier_total,
    downscale,
    encode_jpeg,
    load_upload,
    sniff,
)

MB = 1024 * 1024
LIMIT = 15 * MB


def jpeg_bytes(image: Image.Image, **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, **save)
    return out.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def noisy(width: int, height: int) -> Image.Image:
    """Noise compresses badly, so a truncated file really lacks image data."""
    rng = numpy.random.default_rng(7)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=numpy.uint8))


def phone_photo() -> bytes:
    """A JPEG as phones write them: stored sideways (orientation 6) with a GPS position."""
    stored = Image.new("RGB", (40, 20), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 10, 10))  # red in the stored top-left corner
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (10.0, 45.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (106.0, 40.0, 10.0)
    return jpeg_bytes(stored, exif=exif)


def test_phone_photo_comes_out_upright_and_without_exif() -> None:
    data = phone_photo()
    with Image.open(io.BytesIO(data)) as original:  # the input really carries GPS
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)

    frame = load_upload(data, LIMIT)

    assert frame.shape == (40, 20, 3)  # 90° clockwise: the sideways photo stands up
    assert frame.dtype == numpy.uint8
    top_right, bottom_left = frame[2, 17], frame[37, 2]
    assert top_right[0] > 200 and top_right[2] < 60  # the red corner moved to the top right
    assert bottom_left[2] > 200 and bottom_left[0] < 60
    encoded = encode_jpeg(frame)
    with Image.open(io.BytesIO(encoded)) as again:
        assert again.format == "JPEG"
        assert not again.getexif()
        assert "exif" not in again.info
    assert b"Exif" not in encoded and b"PhoneMaker" not in encoded


def test_png_is_accepted_and_transparency_becomes_white() -> None:
    image = Image.new("RGBA", (30, 10), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (0, 0, 10, 10))
    frame = load_upload(png_bytes(image), LIMIT)
    assert frame.shape == (10, 30, 3)
    assert frame[5, 5].tolist() == [0, 128, 0]
    assert frame[5, 25].tolist() == [255, 255, 255]


def test_sixteen_bit_greyscale_png_is_accepted() -> None:
    grey = numpy.full((8, 8), 40000, dtype=numpy.uint16)
    frame = load_upload(png_bytes(Image.fromarray(grey)), LIMIT)
    assert frame[0, 0].tolist() == [156, 156, 156]  # 40000 >> 8


def huge_png(width: int, height: int) -> bytes:
    """A real, decodable greyscale PNG of width×height black pixels that is small on disk."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte + pixels
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return images.PNG_MAGIC + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_hundred_megapixel_png_is_refused_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = huge_png(10_000, 10_000)
    assert len(data) < LIMIT  # small on the wire: only the pixel count gives it away
    decoded: list[bytes] = []
    monkeypatch.setattr(images, "decode", decoded.append)
    started = time.monotonic()
    with pytest.raises(UploadError, match="10000×10000, 100 megapixel") as refused:
        load_upload(data, LIMIT)
    assert time.monotonic() - started < 1.0
    assert decoded == []
    assert str(refused.value).startswith("Ảnh có quá nhiều điểm ảnh")


def test_jpeg_whose_header_claims_a_huge_size_is_refused() -> None:
    data = bytearray(jpeg_bytes(Image.new("RGB", (16, 16), "white")))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 30_000, 20_000)  # height, width
    with pytest.raises(UploadError, match="20000×30000"):
        load_upload(bytes(data), LIMIT)


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_truncated_image_is_refused(kind: str) -> None:
    image = noisy(200, 150)
    data = jpeg_bytes(image) if kind == "jpeg" else png_bytes(image)
    with pytest.raises(UploadError) as refused:
        load_upload(data[: len(data) // 2], LIMIT)
    assert str(refused.value) == images.DAMAGED


def test_pdf_renamed_jpg_is_refused_by_name() -> None:
    with pytest.raises(UploadError) as refused:
        load_upload(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", LIMIT)
    message = str(refused.value)
    assert message.startswith("Tệp này là tài liệu PDF")
    assert "This file is a PDF document" in message


def test_heic_is_refused_with_the_iphone_setting_to_change() -> None:
    heic = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic" + bytes(64)
    with pytest.raises(UploadError) as refused:
        load_upload(heic, LIMIT)
    assert str(refused.value) == images.HEIC_REFUSED
    assert "Tương thích nhất" in str(refused.value)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"GIF89a" + bytes(20), "gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(20), "webp"),
        (b"\x00\x00\x00\x1cftypavif" + bytes(20), "avif"),
        (b"\x00\x00\x00\x14ftypqt  " + bytes(20), "video"),
        (b"PK\x03\x04" + bytes(20), "zip"),
        (b"hello, world", "unknown"),
    ],
)
def test_other_files_are_named_in_the_refusal(data: bytes, kind: str) -> None:
    assert sniff(data) == kind
    with pytest.raises(UploadError) as refused:
        load_upload(data, LIMIT)
    expected = images.UNKNOWN if kind == "unknown" else images.KIND_NAMES[kind][1]
    assert expected in str(refused.value)


def test_empty_file_is_refused() -> None:
    with pytest.raises(UploadError) as refused:
        load_upload(b"", LIMIT)
    assert str(refused.value) == images.EMPTY


def test_size_cap_comes_before_decoding() -> None:
    data = png_bytes(noisy(800, 800))
    size = len(data) / MB
    assert 1 < size < 2
    with pytest.raises(UploadError, match=r"^Ảnh quá lớn") as refused:
        load_upload(data, 1 * MB)
    assert f"({size:.1f} MB, at most 1 MB)" in str(refused.value)
    assert load_upload(data, 2 * MB).shape == (800, 800, 3)


def test_header_without_image_data_is_damaged() -> None:
    with pytest.raises(UploadError) as refused:
        load_upload(images.JPEG_MAGIC + b"\xe0\x00\x10JFIF" + bytes(10), LIMIT)
    assert str(refused.value) == images.DAMAGED


def test_encode_jpeg_refuses_what_is_not_an_rgb_frame() -> None:
    with pytest.raises(ValueError, match="H×W×3 uint8"):
        encode_jpeg(numpy.zeros((4, 4), dtype=numpy.uint8))


def test_downscale_keeps_the_shape_of_the_frame() -> None:
    frame = numpy.zeros((720, 1280, 3), dtype=numpy.uint8)
    assert downscale(frame, 640).shape == (360, 640, 3)
    small = numpy.zeros((100, 50, 3), dtype=numpy.uint8)
    assert downscale(small, 640) is small


def test_dossier_cap() -> None:
    check_dossier_total(70 * MB, 10 * MB, 80 * MB)
    with pytest.raises(UploadError, match=r"80 MB") as refused:
        check_dossier_total(75 * MB, 6 * MB, 80 * MB)
    assert str(refused.value).startswith("Hồ sơ đã vượt dung lượng")
