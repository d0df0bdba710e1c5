"""The relay through a link that cuts, errs, stalls and truncates 30% of its requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.conftest import assert_exactly_once, drain, enrolled_box
from tests.support.box import file_dossiers
from tests.support.fault_proxy import FAULTS, FaultProxy
from tests.support.postgres import PostgresServer, fresh_database
from tests.support.upstream_server import UpstreamServer
from upstream.settings import UpstreamSettings

DOSSIERS = 5


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The upstream's database: SQLite, and once on the private PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upstream.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    with fresh_database(server) as url:
        yield url


def test_every_dossier_arrives_exactly_once_through_a_link_failing_30_percent(
    tmp_path: Path, db: str
) -> None:
    upstream = UpstreamServer(UpstreamSettings(db_url=db))
    upstream.start()
    proxy = FaultProxy(upstream.port, rate=0.3, seed=2026, delay=(0.5, 2.0)).start()
    try:
        box = enrolled_box(tmp_path / "box", upstream, proxy.url)
        with box.services() as services:
            file_dossiers(services, DOSSIERS, seed=1)
        drain(box)
        stats = proxy.stats()
    finally:
        proxy.stop()
        upstream.stop()
    assert_exactly_once(box, db)
    assert set(stats.faults) <= set(FAULTS)
    assert sum(stats.faults.values()) >= 5, stats  # ~30% of 30-odd requests
