"""A dossier's pages for the officer's browser: each page as an image, and all of them as a PDF.

Text pages arrive as TIFF Group 4, which browsers do not show, so they are turned into PNG; colour
pages are JPEG already and go out as they came. A page's bytes never change (they are keyed by
their SHA-256), so the browser may keep its own copy.
"""

from __future__ import annotations

import io
import re
import warnings
from typing import Any

import img2pdf
from flask import Blueprint, request
from PIL import Image, UnidentifiedImageError
from werkzeug.wrappers import Response

from upstream import inbox_store
from upstream.app import upstream
from upstream.inbox import not_found
from upstream.officer_ui import message_page
from upstream.officers import require_officer

PRIVATE_CACHE = "private, max-age=86400"
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9-]")

bp = Blueprint("pages_view", __name__)
bp.before_request(require_officer)


class PageUnreadable(ValueError):
    """Stored bytes that are not an image Pillow can open within its size limits."""


@bp.get("/ho-so/<uuid:uuid>/trang/<int:position>")
def page_image(uuid: Any, position: int) -> Response:
    blob = inbox_store.page_blob(upstream().sessions, str(uuid), position)
    if blob is None:
        return message_page(
            404,
            "Không có trang này / No such page",
            "Hồ sơ không có trang số này. / The dossier has no page with this number.",
        )
    response = Response(status=200)
    response.set_etag(blob.sha256)
    response.headers["Cache-Control"] = PRIVATE_CACHE
    if request.if_none_match.contains(blob.sha256):
        response.status_code = 304
        return response
    try:
        response.data, response.mimetype = viewable(blob.data)
    except PageUnreadable:
        return _unreadable()
    return response


@bp.get("/ho-so/<uuid:uuid>.pdf")
def pdf(uuid: Any) -> Response:
    """Every page in order in one PDF, named with the receipt code, for printing or filing."""
    found = inbox_store.page_blobs(upstream().sessions, str(uuid))
    if found is None or not found[1]:
        return not_found()
    code, blobs = found
    try:
        data: bytes = img2pdf.convert(blobs)
    except Exception:  # img2pdf raises many kinds for bytes that are not an image it can embed
        return _unreadable()
    name = _FILENAME_UNSAFE.sub("", code) or str(uuid)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="ho-so-{name}.pdf"'
    response.headers["Cache-Control"] = PRIVATE_CACHE
    return response


def viewable(data: bytes) -> tuple[bytes, str]:
    """Bytes a browser shows and their media type: JPEG as it is, anything else as PNG."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format == "JPEG":
                    return data, "image/jpeg"
                out = io.BytesIO()
                image.save(out, "PNG")
                return out.getvalue(), "image/png"
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PageUnreadable() from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or malformed files
        raise PageUnreadable() from exc


def _unreadable() -> Response:
    return message_page(
        422,
        "Không mở được trang / The page cannot be opened",
        "Tệp ảnh của trang bị hỏng hoặc không đúng định dạng. Hãy báo kỹ thuật viên. / "
        "The page's image file is damaged or of an unknown kind. Tell the technician.",
    )
