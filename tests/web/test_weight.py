"""Each page with its stylesheet stays under 30 KB on the wire (gzip): one radio, many phones."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import text

LIMIT = 30 * 1024
GZIP = {"Accept-Encoding": "gzip"}
PAGES = ["/", "/p/1.001193", "/p/3.000722", "/search?q=khai+sinh", "/search?q=zzz", "/portal"]


def transfer_size(client: FlaskClient, path: str) -> int:
    """Compressed bytes of the HTML plus every stylesheet it links."""
    page = client.get(path, headers=GZIP)
    assert page.status_code == 200
    assert page.headers["Content-Encoding"] == "gzip"
    size = len(page.get_data())
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', text(page)):
        css = client.get(href, headers=GZIP)
        assert css.headers["Content-Encoding"] == "gzip"
        size += len(css.get_data())
    return size


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_page_weight(client: FlaskClient, path: str, lang: str) -> None:
    client.set_cookie("lang", lang)
    assert transfer_size(client, path) <= LIMIT
