"""Response headers every page gets, and the response type whose headers are already final."""

from __future__ import annotations

from werkzeug.wrappers import Response

SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)


class Prepared(Response):
    """A response built with all its headers (encoding, caching, security) from a cached page;
    the after_request hooks leave it alone, which keeps the hot pages cheap on a Pi."""


def security_headers(response: Response) -> Response:
    """Only the box's own files; no scripts at all; not framed; no referrer sent to other sites."""
    if not isinstance(response, Prepared):
        for name, value in SECURITY_HEADERS:
            response.headers.setdefault(name, value)
    return response
