"""The commune's catalog reaches the box: fetched with its ETag, checked, kept on the card, and
served between the built-in catalog and the commune's local override."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.catalog_source import CatalogSource, load_builtin, synced_path
from appliance.config import Settings
from appliance.domain.catalog import Catalog
from appliance.relay.catalog_sync import sync_catalog
from appliance.relay.client import UpstreamClient
from appliance.services import Services, build
from appliance.store.relay_repo import CATALOG, RelayRepo
from tests.appliance.relay.helpers import FakeClient, at, enrolled_client, reply
from tests.appliance.test_catalog_source import Clock, _procedure
from tests.appliance.test_catalog_source import _write as write
from tests.support.upstream_server import running_upstream
from upstream.settings import UpstreamSettings

NOW = at(1_760_000_000)


def commune_file(*procedures: tuple[str, str]) -> str:
    return "version = 1\n" + "".join(_procedure(c, n) for c, n in procedures)


@pytest.fixture(scope="module")
def builtin() -> Catalog:
    return load_builtin()


@pytest.fixture
def upstream(tmp_path: Path) -> UpstreamSettings:
    catalog = tmp_path / "commune-catalog.toml"
    write(catalog, commune_file(("1.999001", "Xác nhận của xã Xà Bang")))
    return UpstreamSettings(db_url=f"sqlite:///{tmp_path / 'upstream.sqlite3'}", catalog=catalog)


@pytest.fixture
def client(upstream: UpstreamSettings) -> Iterator[UpstreamClient]:
    with running_upstream(upstream) as url:
        found = enrolled_client(url, upstream)
        yield found
        found.close()


def test_the_communes_catalog_is_fetched_once_then_only_checked(
    settings: Settings, services: Services, client: UpstreamClient, upstream: UpstreamSettings
) -> None:
    repo = RelayRepo(services.sessions)
    assert sync_catalog(client, settings, repo, NOW) == "updated"
    path = synced_path(settings.data_dir)
    assert upstream.catalog is not None
    assert path.read_bytes() == upstream.catalog.read_bytes()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert repo.state(CATALOG) == {"etag": f'"{digest}"'}, "kept as sent, quotes and all"
    assert sync_catalog(client, settings, repo, NOW) == "unchanged"

    path.unlink()  # lost from the card: the ETag alone must not stop it coming back
    assert sync_catalog(client, settings, repo, NOW) == "updated"
    assert path.is_file()


def test_a_box_started_after_a_sync_serves_the_synced_catalog(
    settings: Settings, services: Services, client: UpstreamClient
) -> None:
    sync_catalog(client, settings, RelayRepo(services.sessions), NOW)
    later = build(settings, devices=False)
    try:
        found = later.catalog.current().get("1.999001")
        assert found is not None and found.name.vi == "Xác nhận của xã Xà Bang"
        assert later.catalog.current().get("1.001193") is not None, "built-in ones stay"
        assert later.catalog.problem is None
    finally:
        later.close()


@pytest.mark.parametrize(
    "body",
    [
        b"version = 1\n[[procedures]\n",
        commune_file(("1.999001", "Hỏng")).replace('bring = "original"', 'bring = "x"').encode(),
        b"\xff\xfe",
    ],
)
def test_a_broken_catalog_from_upstream_is_refused_and_the_old_one_stays(
    settings: Settings, services: Services, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    repo = RelayRepo(services.sessions)
    good = commune_file(("1.999001", "Bản tốt")).encode()
    fake = FakeClient()
    fake.script("catalog", reply(200, raw=good, etag="good"), reply(200, raw=body, etag="bad"))
    assert sync_catalog(fake, settings, repo, NOW) == "updated"  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        assert sync_catalog(fake, settings, repo, NOW) == "refused"  # type: ignore[arg-type]
    assert "catalog from the upstream refused" in caplog.text
    assert synced_path(settings.data_dir).read_bytes() == good
    assert repo.state(CATALOG) == {"etag": "good"}
    assert fake.called("catalog") == [(None,), ("good",)]


def test_the_local_override_beats_the_synced_catalog_which_beats_the_built_in(
    tmp_path: Path, builtin: Catalog
) -> None:
    synced, override, clock = tmp_path / "upstream.toml", tmp_path / "local.toml", Clock()
    write(synced, commune_file(("1.001193", "Khai sinh (xã)"), ("1.999001", "Của xã")))
    write(override, commune_file(("1.999001", "Của thôn")))
    source = CatalogSource(override, synced=synced, now=clock, builtin=builtin)
    catalog = source.current()
    assert [catalog.get(c).name.vi for c in ("1.001193", "1.999001")] == [  # type: ignore[union-attr]
        "Khai sinh (xã)",
        "Của thôn",
    ]
    assert catalog.get("1.000656") == builtin.get("1.000656")
    assert source.problem is None


def test_the_synced_file_is_watched_and_a_bad_one_keeps_the_last_good(
    tmp_path: Path, builtin: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    synced, clock = tmp_path / "catalog" / "upstream.toml", Clock()
    source = CatalogSource(None, synced=synced, now=clock, builtin=builtin)
    assert source.current() is builtin and source.problem is None, "no sync yet is no problem"

    write(synced, commune_file(("1.999001", "Bản một")))
    clock.t += 30
    first = source.current()
    assert first.get("1.999001") is not None

    write(synced, "version = 1\n[[procedures]\n")
    clock.t += 30
    with caplog.at_level(logging.WARNING):
        assert source.current() is first
    assert source.problem is not None and source.problem.startswith(f"{synced}: ")
    assert "synced catalog refused" in caplog.text

    synced.unlink()
    clock.t += 30
    assert source.current() is builtin and source.problem is None


def test_a_new_synced_catalog_is_applied_under_an_unchanged_override(
    tmp_path: Path, builtin: Catalog
) -> None:
    synced, override, clock = tmp_path / "upstream.toml", tmp_path / "local.toml", Clock()
    write(override, commune_file(("1.999001", "Của thôn")))
    source = CatalogSource(override, synced=synced, now=clock, builtin=builtin)
    assert source.current().get("1.999002") is None
    write(synced, commune_file(("1.999002", "Mới từ xã")))
    clock.t += 30
    catalog = source.current()
    assert catalog.get("1.999002") is not None and catalog.get("1.999001") is not None
