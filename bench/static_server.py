"""The benchmark's baseline: a static copy of the home page (gzip bytes) under waitress.

Same server software and thread count as `hamletbox web`, so the difference is our app's own cost.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from waitress import serve

from appliance.config import WebSettings


def static_app(body: bytes) -> Callable[..., Iterable[bytes]]:
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Encoding", "gzip"),
        ("Vary", "Accept-Encoding"),
        ("Content-Length", str(len(body))),
    ]

    def app(_environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", headers)
        return [body]

    return app


if __name__ == "__main__":
    page, port = Path(sys.argv[1]), int(sys.argv[2])
    serve(
        static_app(page.read_bytes()),
        host="127.0.0.1",
        port=port,
        threads=WebSettings().threads,
        ident="hamletbox",
    )
