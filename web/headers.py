"""Response headers every page gets, and the response type whose headers are already final."""

from __future__ import annotations

from typing import TypeVar

from werkzeug.wrappers import Response

AnyResponse = TypeVar("AnyResponse", bound=Response)  # Flask's or Werkzeug's, kept as given

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


# The station's pages run the box's own scripts (dragging a page's corners, reloading when the
# shutter button adds a page); every other page runs none. Only the script source differs.
OWN_SCRIPTS_CSP = SECURITY_HEADERS[0][1].replace("script-src 'none'", "script-src 'self'")


class Prepared(Response):
    """A response built with all its headers (encoding, caching, security) from a cached page;
    the after_request hooks leave it alone, which keeps the hot pages cheap on a Pi."""


def security_headers(response: Response) -> Response:
    """Only the box's own files; no scripts (unless allow_own_scripts); not framed; no referrer
    sent to other sites."""
    if not isinstance(response, Prepared):
        for name, value in SECURITY_HEADERS:
            response.headers.setdefault(name, value)
    return response


def allow_own_scripts(response: Response) -> Response:
    """An after_request hook for a blueprint whose pages load scripts from /static: only the
    box's own files may run, never an inline script (a name with <script> in it stays text)."""
    response.headers["Content-Security-Policy"] = OWN_SCRIPTS_CSP
    return response


def no_store(response: AnyResponse) -> AnyResponse:
    """For answers that belong to one person or one moment: never kept by a browser or proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response
