"""Migrations upgrade a box in the field without losing a row, and leave the models' schema."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, Engine, inspect

import appliance
from appliance.cli import main
from appliance.services import Services
from appliance.store import migrate
from appliance.store.migrate import MigrationError
from appliance.store.tables import Base
from tests.appliance.store import rows

REVISIONS = [
    script.revision
    for script in reversed(list(ScriptDirectory(str(migrate.MIGRATIONS_DIR)).walk_revisions()))
]


def _schema(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql("SELECT name, sql FROM sqlite_master")]


def test_the_revisions_are_one_line_from_0001_to_head() -> None:
    assert REVISIONS[0] == "0001"
    assert REVISIONS[-1] == migrate.head()
    assert len(set(REVISIONS)) == len(REVISIONS)


@pytest.mark.parametrize("start", REVISIONS)
def test_every_row_survives_the_upgrade_to_head(bare_engine: Engine, start: str) -> None:
    migrate.upgrade(bare_engine, start)
    rows.fill(bare_engine)
    columns = rows.columns_of(bare_engine)
    with bare_engine.connect() as conn:
        before = rows.snapshot(conn, columns)

    migrate.upgrade(bare_engine)

    assert migrate.current(bare_engine) == migrate.head()
    with bare_engine.connect() as conn:
        assert rows.snapshot(conn, columns) == before
    _assert_the_fill_was_thorough(before, columns)


def _assert_the_fill_was_thorough(before: rows.Snapshot, columns: dict[str, list[str]]) -> None:
    """The survival test means little if the rows were empty, or all NULL, or plain ASCII."""
    assert set(columns) >= {"dossiers", "pages", "outbox", "users", "events"}
    texts = [v for table in before.values() for row in table for t, v in row if t == "str"]
    assert any(text != text.encode("ascii", "ignore").decode() for text in texts)
    assert all(unicodedata.is_normalized("NFC", text) for text in texts)
    for table, table_rows in before.items():
        assert len(table_rows) == rows.ROWS_PER_TABLE, table
        for index, column in enumerate(columns[table]):
            values = [row[index][1] for row in table_rows]
            assert any(value is not None for value in values), f"{table}.{column} all NULL"
    nullable_values = [row[columns["dossiers"].index("phone")][1] for row in before["dossiers"]]
    assert None in nullable_values


def test_0002_records_consent_version_and_channel_for_older_dossiers(bare_engine: Engine) -> None:
    migrate.upgrade(bare_engine, "0001")
    rows.fill(bare_engine)
    migrate.upgrade(bare_engine, "0002")
    with bare_engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT consent_at IS NOT NULL, consent_text_version, channel FROM dossiers"
        ).all()
    assert {tuple(row) for row in found} == {(1, "1", "station"), (0, None, "station")}


def test_the_migrated_schema_is_what_the_models_declare(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_the_migrated_check_constraints_are_what_the_models_declare(engine: Engine) -> None:
    """Alembic's comparison skips CHECK constraints, and ours carry the rules: compare them here."""
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        stored = {
            check["name"]: " ".join(check["sqltext"].split())
            for check in inspector.get_check_constraints(table.name)
        }
        declared = {
            str(check.name): " ".join(str(check.sqltext).split())
            for check in table.constraints
            if isinstance(check, CheckConstraint)
        }
        assert stored == declared, table.name


def test_upgrading_again_changes_nothing(bare_engine: Engine) -> None:
    migrate.upgrade(bare_engine, "0001")
    migrate.upgrade(bare_engine, "0001")
    assert migrate.current(bare_engine) == "0001"
    migrate.upgrade(bare_engine)
    rows.fill(bare_engine)
    schema = _schema(bare_engine)
    columns = rows.columns_of(bare_engine)
    with bare_engine.connect() as conn:
        before = rows.snapshot(conn, columns)
    migrate.upgrade(bare_engine)
    migrate.upgrade(bare_engine, migrate.head())
    assert _schema(bare_engine) == schema
    with bare_engine.connect() as conn:
        assert rows.snapshot(conn, columns) == before
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1


def test_a_service_starting_while_another_writes_is_not_held_up(
    engine: Engine, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At head, upgrade() only reads: the relay holding the write lock doesn't stall a start."""
    monkeypatch.setattr(migrate, "MIGRATION_BUSY_TIMEOUT_MS", 50)
    writer = sqlite3.connect(db_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        migrate.upgrade(engine)
    finally:
        writer.close()


def test_the_engine_keeps_foreign_keys_on_after_a_migration(bare_engine: Engine) -> None:
    """The migration turns foreign keys off on its own connection; none of the pool's may be."""
    migrate.upgrade(bare_engine)
    with bare_engine.connect() as first, bare_engine.connect() as second:
        for conn in (first, second):
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_migration_that_breaks_a_foreign_key_is_rolled_back_whole(
    bare_engine: Engine, db_path: Path
) -> None:
    migrate.upgrade(bare_engine, "0001")
    rows.fill(bare_engine)
    columns = rows.columns_of(bare_engine)
    schema = _schema(bare_engine)
    raw = sqlite3.connect(db_path)  # foreign keys off: plant a row the check must catch
    with raw:
        raw.execute("DELETE FROM dossiers WHERE id = (SELECT max(dossier_id) FROM events)")
    raw.close()
    with bare_engine.connect() as conn:
        before = rows.snapshot(conn, columns)

    with pytest.raises(MigrationError, match="foreign keys"):
        migrate.upgrade(bare_engine)

    assert migrate.current(bare_engine) == "0001"
    assert _schema(bare_engine) == schema
    with bare_engine.connect() as conn:
        assert rows.snapshot(conn, columns) == before


def test_services_starting_together_migrate_once(db_path: Path) -> None:
    """Separate processes, as systemd starts web, relay and panel at boot."""
    script = (
        "import sys; from pathlib import Path;"
        "from appliance.store import migrate; from appliance.store.db import make_engine;"
        "engine = make_engine(Path(sys.argv[1])); migrate.upgrade(engine);"
        "print(migrate.current(engine))"
    )
    root = Path(appliance.__file__).resolve().parents[1]
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(db_path)],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [start.communicate(timeout=120) for start in starts]
    assert [start.returncode for start in starts] == [0] * 4, [err for _, err in results]
    assert [out.strip() for out, _ in results] == [migrate.head()] * 4
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


def test_migrations_are_found_beside_the_package_from_any_directory(
    bare_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert migrate.MIGRATIONS_DIR.parent == Path(migrate.__file__).resolve().parent
    migrate.upgrade(bare_engine)
    assert migrate.current(bare_engine) == migrate.head()


def test_hamletbox_db_upgrade(settings_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = settings_file.parent / "data"
    assert main(["--config", str(settings_file), "db", "upgrade", "--revision", "0001"]) == 0
    assert main(["--config", str(settings_file), "db", "upgrade"]) == 0

    out = capsys.readouterr().out
    assert f"at revision {migrate.head()}" in out.splitlines()[-1]
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    conn = sqlite3.connect(data / "hamletbox.sqlite3")
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
            migrate.head(),
        )
    finally:
        conn.close()


def test_a_service_start_brings_the_store_to_head(services: Services) -> None:
    assert migrate.current(services.engine) == migrate.head()
