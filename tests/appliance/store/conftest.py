"""Store fixtures: an engine built the way services build it, on a file in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from appliance.store import migrate
from appliance.store.db import make_engine


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hamletbox.sqlite3"


@pytest.fixture
def bare_engine(db_path: Path) -> Iterator[Engine]:
    """An engine on a database no migration has touched yet."""
    engine = make_engine(db_path)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """An engine on a database at the head revision."""
    migrate.upgrade(bare_engine)
    return bare_engine
