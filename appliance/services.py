"""Composition root: builds everything a process needs from its settings.

This is the only place that decides between real and fake hardware (later issues add devices here).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from appliance.catalog_source import CatalogSource
from appliance.config import Settings, prepare_data_dir
from appliance.store import migrate
from appliance.store.db import make_engine, make_sessions


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    catalog: CatalogSource

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings) -> Services:
    """Prepare the data dir, bring the store to the current schema, and wire the services."""
    prepare_data_dir(settings)
    engine = make_engine(settings.database_path)
    migrate.upgrade(engine)
    return Services(
        settings=settings,
        engine=engine,
        sessions=make_sessions(engine),
        catalog=CatalogSource(settings.catalog.override),
    )
