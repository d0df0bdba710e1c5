"""Schema migrations: bring a box's database to the schema this code expects, at every start.

Every service calls `upgrade()` before it touches the store, so a box updated in the field
migrates itself. The whole upgrade is one SQLite transaction taken with BEGIN IMMEDIATE: a power
cut leaves the old schema or the new one, and when several services start at once the first
migrates while the others wait on the lock, then find nothing left to do.
"""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sqlalchemy import Connection, Engine

from appliance.errors import HamletBoxError

if TYPE_CHECKING:  # Alembic is imported when used: commands that never migrate start faster.
    from alembic.config import Config

# Beside this module, so it is found the same way in a source tree and in an installed package.
MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
# Waiting for another service's migration is the normal case at boot; a table rebuild on an SD card
# can take longer than the engine's everyday busy timeout.
MIGRATION_BUSY_TIMEOUT_MS = 120_000


class MigrationError(HamletBoxError):
    """The migrated database failed a check; the transaction was rolled back."""


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision`; a quick read and no lock when already at head."""
    if revision == "head" and current(engine) == head():
        return
    conn = engine.connect()
    try:
        _upgrade_on(conn, revision)
    finally:
        # This connection's pragmas now differ from the engine's: never hand it back to the pool.
        conn.invalidate()
        conn.close()


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database no migration has touched."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@functools.cache
def head() -> str:
    """The newest revision this code ships."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(_config()).get_current_head()
    if revision is None:
        raise MigrationError(f"no migrations found in {MIGRATIONS_DIR}")
    return revision


def _upgrade_on(conn: Connection, revision: str) -> None:
    """Run Alembic in one explicit transaction, foreign keys off as SQLite's table rebuild needs.

    With foreign keys on, the DROP TABLE in a batch rebuild of `dossiers` would cascade and delete
    every page. pysqlite opens no transaction for DDL by itself, so we take over BEGIN and COMMIT.
    """
    from alembic import command

    raw = cast(sqlite3.Connection, conn.connection.driver_connection)
    raw.isolation_level = None
    raw.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: set it before BEGIN
    raw.execute(f"PRAGMA busy_timeout={MIGRATION_BUSY_TIMEOUT_MS}")
    with conn.begin():
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        command.upgrade(_config(conn), revision)
        _check_foreign_keys(conn)


def _check_foreign_keys(conn: Connection) -> None:
    """Refuse to commit a migration that left a row pointing at nothing."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise MigrationError(f"foreign keys broken by the migration: {broken[:5]}")


def _config(conn: Connection | None = None) -> Config:
    """Alembic's settings, built in code: there is no alembic.ini on a box."""
    from alembic.config import Config

    config = Config()
    # Config values go through configparser interpolation, where "%" is special.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if conn is not None:
        config.attributes["connection"] = conn
    return config
