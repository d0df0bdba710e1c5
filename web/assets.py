"""Static files, read and compressed once when the app is built and then served from memory.

Links carry the content hash (`/static/style.css?v=1a2b…`), so a phone may keep the file for a year;
without the matching hash the file is still served, but revalidated with its ETag.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, abort, current_app, request, url_for
from werkzeug.wrappers import Response

from web.compress import accepts_gzip, compressible, gzip_bytes

EXTENSION = "hamletbox.assets"
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, no-cache"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None  # None when compressing would not help
    mimetype: str
    version: str  # first 12 hex digits of the SHA-256 of the body

    def response(self, version: str | None, gzip_ok: bool) -> Response:
        use_gzip = gzip_ok and self.gzipped is not None
        response = Response(self.gzipped if use_gzip else self.body, mimetype=self.mimetype)
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
        if self.gzipped is not None:
            response.vary.add("Accept-Encoding")
        response.set_etag(f"{self.version}-gz" if use_gzip else self.version)
        response.headers["Cache-Control"] = LONG_CACHE if version == self.version else SHORT_CACHE
        return response


def load_asset(path: Path) -> Asset:
    body = path.read_bytes()
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    gzipped = gzip_bytes(body) if compressible(mimetype) else None
    if gzipped is not None and len(gzipped) >= len(body):
        gzipped = None
    version = hashlib.sha256(body).hexdigest()[:12]
    return Asset(body, gzipped, mimetype, version)


def init_app(app: Flask, folder: Path) -> None:
    """Load every file of `folder` and serve them at /static/<filename> (endpoint `static`)."""
    files = {p.name: load_asset(p) for p in sorted(folder.iterdir()) if p.is_file()}
    app.extensions[EXTENSION] = files
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=serve_static)
    app.jinja_env.globals["asset_url"] = asset_url


def serve_static(filename: str) -> Response:
    asset = current_app.extensions[EXTENSION].get(filename)
    if asset is None:
        abort(404)
    response: Response = asset.response(
        request.args.get("v"), accepts_gzip(request.headers.get("Accept-Encoding", ""))
    )
    return response.make_conditional(request)


def asset_url(filename: str) -> str:
    """The URL of a static file with its content hash, so it can be cached for a long time."""
    asset: Asset = current_app.extensions[EXTENSION][filename]
    return url_for("static", filename=filename, v=asset.version)
