"""Fixtures shared by the relay's client and enrolment tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.upstream_server import UpstreamServer
from upstream.settings import UpstreamSettings


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[UpstreamServer]:
    server = UpstreamServer(UpstreamSettings(db_url=f"sqlite:///{tmp_path / 'up.sqlite3'}"))
    server.start()
    yield server
    server.stop()
