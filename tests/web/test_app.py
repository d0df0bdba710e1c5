"""The app as a whole: security headers, the secret key, the 500 page, compression and caching."""

from __future__ import annotations

import dataclasses
import gzip
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Settings
from appliance.domain.catalog import Catalog
from appliance.services import Services
from tests.web.conftest import text
from web import create_app
from web.pages import EXTENSION as PAGES
from web.pages import PageCache

GZIP = {"Accept-Encoding": "gzip, deflate"}


@pytest.mark.parametrize(
    "path", ["/", "/p/1.001193", "/search?q=khai", "/portal", "/nope", "/generate_204"]
)
def test_security_headers(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'none'" in csp
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_security_headers_on_the_stylesheet(client: FlaskClient) -> None:
    assert client.get("/static/style.css").headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_scripts_or_styles(client: FlaskClient) -> None:
    for path in ("/", "/p/1.001193", "/search?q=khai", "/portal", "/nope"):
        html = text(client.get(path))
        assert "<script" not in html and "<style" not in html and " style=" not in html


def test_secret_key_from_settings(app: Flask, settings: Settings) -> None:
    assert app.secret_key == "test-secret-key"
    assert not (settings.data_dir / "web-secret").exists()


def test_secret_key_is_made_once_and_kept(settings: Settings, services: Services) -> None:
    bare = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key=""))
    first = create_app(bare, services).secret_key
    path = settings.data_dir / "web-secret"
    assert isinstance(first, str) and len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_app(bare, services).secret_key == first


def test_an_empty_secret_file_is_replaced(settings: Settings, services: Services) -> None:
    bare = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key=""))
    path: Path = settings.data_dir / "web-secret"
    path.write_text("")
    key = create_app(bare, services).secret_key
    assert key and path.read_text().strip() == key


def test_server_error_is_a_calm_page(settings: Settings, services: Services) -> None:
    app = create_app(settings, services)

    def boom() -> str:
        raise RuntimeError("secret detail")

    app.add_url_rule("/boom", view_func=boom)
    app.logger.disabled = True
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = text(response)
    assert "Có lỗi xảy ra" in html and 'href="/"' in html
    assert "secret detail" not in html and "Traceback" not in html


def test_search_page_is_gzipped(client: FlaskClient) -> None:
    plain = client.get("/search?q=khai+sinh")
    zipped = client.get("/search?q=khai+sinh", headers=GZIP)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert int(zipped.headers["Content-Length"]) == len(zipped.get_data())


@pytest.mark.parametrize("path", ["/", "/p/1.001193", "/portal", "/nope"])
def test_pages_are_gzipped(client: FlaskClient, path: str) -> None:
    plain = client.get(path)
    zipped = client.get(path, headers=GZIP)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()


def test_no_gzip_when_refused(client: FlaskClient) -> None:
    for path in ("/", "/search?q=khai"):
        response = client.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
        assert "Content-Encoding" not in response.headers


def test_small_answers_are_not_gzipped(client: FlaskClient) -> None:
    response = client.get("/lang/en?next=/", headers=GZIP)
    assert "Content-Encoding" not in response.headers


def test_home_page_is_revalidated_with_its_etag(client: FlaskClient) -> None:
    first = client.get("/", headers=GZIP)
    assert first.headers["Cache-Control"] == "no-cache"
    assert first.headers["Vary"] == "Accept-Encoding, Cookie"
    etag = first.headers["ETag"]
    again = client.get("/", headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 200  # other encoding
    english = client.get("/?lang=en", headers=GZIP).headers["ETag"]
    assert english != etag


def stylesheet_url(client: FlaskClient) -> str:
    match = re.search(r'<link rel="stylesheet" href="([^"]+)"', text(client.get("/")))
    assert match
    return match.group(1)


def test_stylesheet_is_cached_for_a_year_by_its_hash(client: FlaskClient) -> None:
    url = stylesheet_url(client)
    assert re.fullmatch(r"/static/style\.css\?v=[0-9a-f]{12}", url)
    response = client.get(url, headers=GZIP)
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = client.get(url)
    assert gzip.decompress(response.get_data()) == plain.get_data()
    assert plain.get_data() == (Path("web/static/style.css").read_bytes())


def test_stylesheet_without_its_hash_is_revalidated(client: FlaskClient) -> None:
    response = client.get("/static/style.css?v=old")
    assert response.headers["Cache-Control"] == "public, no-cache"
    again = client.get("/static/style.css", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_unknown_static_file_is_404(client: FlaskClient) -> None:
    assert client.get("/static/nope.css").status_code == 404
    assert client.get("/static/../__init__.py").status_code == 404


class SwappableCatalog:
    """Stands in for the CatalogSource: returns whichever catalog the test sets."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.problem: str | None = None

    def current(self) -> Catalog:
        return self.catalog


def test_a_new_catalog_shows_at_once(client: FlaskClient, services: Services) -> None:
    original = services.catalog.current()
    source = SwappableCatalog(original)
    services.catalog = source  # type: ignore[assignment]
    assert 'href="/p/2.000884"' in text(client.get("/"))
    source.catalog = Catalog(fields=original.fields, procedures=original.procedures[:1])
    html = text(client.get("/"))
    assert 'href="/p/2.000884"' not in html
    assert client.get("/p/2.000884").status_code == 404


def test_page_cache_renders_once_per_version_and_key() -> None:
    cache = PageCache(max_pages=2)
    calls: list[str] = []

    def render(name: str) -> Callable[[], str]:
        def page() -> str:
            calls.append(name)
            return f"<p>{name}</p>"

        return page

    version = object()
    key = ("path", "/", "vi")
    first = cache.get(version, key, render("a"))
    assert cache.get(version, key, render("b")) is first
    assert calls == ["a"]
    assert cache.peek(object(), key) is None
    cache.get(object(), key, render("c"))
    assert calls == ["a", "c"] and len(cache) == 1


def test_page_cache_forgets_the_least_recently_used() -> None:
    cache = PageCache(max_pages=2)
    version = object()
    for name in ("a", "b"):
        cache.get(version, ("search", name, "vi"), lambda: "x")
    cache.peek(version, ("search", "a", "vi"))
    cache.get(version, ("search", "c", "vi"), lambda: "x")
    assert len(cache) == 2
    assert cache.peek(version, ("search", "b", "vi")) is None
    assert cache.peek(version, ("search", "a", "vi")) is not None


def test_the_same_search_is_rendered_once(app: Flask, client: FlaskClient) -> None:
    cache: PageCache = app.extensions[PAGES]
    client.get("/search?q=khai+sinh")
    size = len(cache)
    again = client.get("/search?q=%20khai%20%20sinh%00")  # cleans to the same query
    assert len(cache) == size and again.status_code == 200
