"""Gzip for text responses: phones on the hotspot share one small radio, so every byte counts.

Responses that are already encoded (cached pages, static files: compressed once, kept in memory)
pass through untouched; everything else text-like and over `MIN_SIZE` is compressed here.
"""

from __future__ import annotations

import gzip

from flask import request
from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Response

from web.headers import Prepared

LEVEL = 6
MIN_SIZE = 500
TEXT_TYPES = frozenset(
    {"application/json", "application/javascript", "application/xml", "image/svg+xml"}
)


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip (no timestamp), so the same page always gives the same bytes and ETag."""
    return gzip.compress(data, compresslevel=LEVEL, mtime=0)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip; parsed only when it carries q-values."""
    if "gzip" not in accept_encoding:
        return False
    return ";" not in accept_encoding or parse_accept_header(accept_encoding)["gzip"] > 0


def compressible(mimetype: str) -> bool:
    """Text-like content types, given without parameters (`text/css`, not `…; charset=utf-8`)."""
    return mimetype.startswith("text/") or mimetype in TEXT_TYPES


def compress_response(response: Response) -> Response:
    """An after_request hook: gzip a text body when the client accepts it and it is worth it."""
    if (
        isinstance(response, Prepared)
        or response.direct_passthrough
        or response.status_code in (204, 304)
        or response.status_code < 200
        or "Content-Encoding" in response.headers
        or not compressible(response.mimetype or "")
    ):
        return response
    response.vary.add("Accept-Encoding")
    if not accepts_gzip(request.headers.get("Accept-Encoding", "")):
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:
        return response
    response.set_data(gzip_bytes(body))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(f"{etag}-gz", bool(weak))
    return response
