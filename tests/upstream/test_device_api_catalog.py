"""GET /v1/catalog: the commune's catalog (or the built-in one) with a strong ETag."""

from __future__ import annotations

import dataclasses
import hashlib
from importlib import resources
from pathlib import Path

import pytest

from appliance.domain.catalog import CatalogError
from tests.support.upstream_server import FakeClock, Signer, enroll, make_token
from upstream.app import Upstream, create_app
from upstream.settings import UpstreamSettings

COMMUNE_FILE = """\
version = 1

[[procedures]]
code = "9.000001"
field = "ho-tich"
name = { vi = "Thủ tục thử của xã" }
summary = { vi = "Một thủ tục chỉ có ở xã này." }
time_limit = { vi = "3 ngày làm việc" }
fee = { vi = "Miễn phí" }
legal_basis = ["Quyết định của UBND xã"]
portal_url = "https://dichvucong.gov.vn/"
steps = [{ vi = "Nộp hồ sơ tại nhà văn hóa thôn." }]

[[procedures.papers]]
name = { vi = "Tờ khai" }
required = true
bring = "photo"
"""


def test_the_built_in_catalog_is_served_with_a_strong_etag(signed: Signer) -> None:
    answer = signed("GET", "/v1/catalog")
    assert answer.status_code == 200
    assert answer.mimetype == "application/toml"
    bundled = resources.files("appliance").joinpath("data/catalog.toml").read_bytes()
    assert answer.data == bundled
    etag = answer.headers["ETag"]
    assert etag == f'"{hashlib.sha256(bundled).hexdigest()}"'
    same = signed("GET", "/v1/catalog", headers={"If-None-Match": etag})
    assert same.status_code == 304
    assert same.data == b""
    assert same.headers["ETag"] == etag
    for stale in ('"old"', f'W/"{etag[1:-1]}x"'):
        assert signed("GET", "/v1/catalog", headers={"If-None-Match": stale}).status_code == 200


def test_a_communes_catalog_file_is_served_as_written(
    upstream_settings: UpstreamSettings, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(COMMUNE_FILE, encoding="utf-8")
    app = create_app(dataclasses.replace(upstream_settings, catalog=path), clock=clock)
    context: Upstream = app.extensions["upstream"]
    try:
        client = app.test_client()
        signer = Signer(client, enroll(client, make_token(context.sessions, now=clock.now)), clock)
        answer = signer("GET", "/v1/catalog")
        assert answer.data == COMMUNE_FILE.encode()
        assert answer.headers["ETag"] == f'"{hashlib.sha256(answer.data).hexdigest()}"'
    finally:
        context.close()


def test_a_broken_catalog_file_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(COMMUNE_FILE.replace('bring = "photo"', 'bring = "fax"'), encoding="utf-8")
    settings = UpstreamSettings(db_url=f"sqlite:///{tmp_path / 'up.sqlite3'}", catalog=path)
    with pytest.raises(CatalogError, match="bring"):
        create_app(settings)
    with pytest.raises(CatalogError, match="cannot be read"):
        create_app(dataclasses.replace(settings, catalog=tmp_path / "missing.toml"))
