"""Rows for whatever schema a database has, made from reflection, and snapshots of them as stored.

The migration tests fill every table of a database at some revision, upgrade it, and compare
snapshots. Nothing here names a table, so a new revision is covered without editing this file;
a column type or constraint it cannot satisfy fails loudly, saying what to teach it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Connection, Engine, MetaData, Table, inspect
from sqlalchemy.engine.interfaces import ReflectedCheckConstraint
from sqlalchemy.exc import IntegrityError

ROWS_PER_TABLE = 6
# Each insert is retried with the next variant (another choice for enums and foreign keys) when a
# CHECK constraint refuses it: enough to reach every value of the longest enum.
VARIANTS = 16
SKIPPED_TABLES = {"alembic_version"}
VIETNAMESE = tuple(
    unicodedata.normalize("NFC", text)
    for text in (
        "Nguyễn Thị Hồng Nhung",
        "Thôn Xà Bang 1, xã Xà Bang, tỉnh Đồng Nai",
        "Giấy chứng sinh (bản chính)",
        "Trần Văn Đức — ghi chú: cần bổ sung giấy tờ",
        "Lê Hoàng Yến, ấp 3",
        "Đăng ký khai sinh cho con",
    )
)
BASE_TIME = datetime(2025, 3, 6, 1, 30, 15, 250_000)  # naive: how DATETIME reflects on SQLite

Snapshot = dict[str, list[tuple[tuple[str, Any], ...]]]


def fill(engine: Engine) -> None:
    """Insert ROWS_PER_TABLE rows in every table, parents first; even rows leave nullables NULL."""
    metadata = MetaData()
    metadata.reflect(engine)
    inspector = inspect(engine)
    ids: dict[str, list[Any]] = {}
    for table in metadata.sorted_tables:
        if table.name in SKIPPED_TABLES:
            continue
        enums = enum_values(inspector.get_check_constraints(table.name))
        ids[table.name] = [_insert(engine, table, row, enums, ids) for row in range(ROWS_PER_TABLE)]


def snapshot(conn: Connection, columns: dict[str, list[str]]) -> Snapshot:
    """Every stored value of the given columns, with its Python type, in row order."""
    out: Snapshot = {}
    for table, names in columns.items():
        select = ", ".join(f'"{name}"' for name in names)
        rows = conn.exec_driver_sql(f'SELECT {select} FROM "{table}" ORDER BY rowid').all()
        out[table] = [tuple((type(value).__name__, value) for value in row) for row in rows]
    return out


def columns_of(engine: Engine) -> dict[str, list[str]]:
    """The tables and their columns as the database has them now."""
    inspector = inspect(engine)
    return {
        table: [column["name"] for column in inspector.get_columns(table)]
        for table in inspector.get_table_names()
        if table not in SKIPPED_TABLES
    }


def enum_values(checks: Sequence[ReflectedCheckConstraint]) -> dict[str, tuple[Any, ...]]:
    """Column -> allowed values, from CHECK constraints of the form `column IN ('a', 'b')` or
    `column IN (1, 2)`."""
    out: dict[str, tuple[Any, ...]] = {}
    for check in checks:
        match = re.fullmatch(r"\s*(\w+)\s+IN\s*\(([^)]*)\)\s*", check["sqltext"], re.IGNORECASE)
        if match:
            literals = re.findall(r"'((?:[^']|'')*)'", match.group(2))
            if literals:
                out[match.group(1)] = tuple(value.replace("''", "'") for value in literals)
            elif re.fullmatch(r"[\s\d,-]+", match.group(2)):
                out[match.group(1)] = tuple(int(n) for n in match.group(2).split(","))
    return out


def _insert(
    engine: Engine,
    table: Table,
    row: int,
    enums: dict[str, tuple[Any, ...]],
    ids: dict[str, list[Any]],
) -> Any:
    """The new row's primary key: SQLite's rowid, or the key the row was given (a name)."""
    errors: list[str] = []
    for variant in range(VARIANTS):
        values = {
            column.name: _value(table, column, row, variant, enums, ids)
            for column in table.columns
            if not _is_rowid(column)
        }
        try:
            with engine.begin() as conn:
                key = conn.execute(table.insert().values(**values)).inserted_primary_key
        except IntegrityError as exc:
            errors.append(str(exc.orig))
            continue
        assert key is not None
        return key[0]
    raise AssertionError(f"rows.py cannot make row {row} of {table.name}: {sorted(set(errors))}")


def _is_rowid(column: Column[Any]) -> bool:
    """An INTEGER PRIMARY KEY on its own is SQLite's rowid: let SQLite number the rows."""
    table = column.table
    return (
        column.primary_key and len(table.primary_key.columns) == 1 and _python_type(column) is int
    )


def _value(
    table: Table,
    column: Column[Any],
    row: int,
    variant: int,
    enums: dict[str, tuple[Any, ...]],
    ids: dict[str, list[Any]],
) -> Any:
    if column.nullable and row % 2 == 0:
        return None
    for fk in column.foreign_keys:
        parents = ids[fk.column.table.name]
        return parents[(row + variant) % len(parents)]
    if column.name in enums:
        choices = enums[column.name]
        return choices[(row + variant) % len(choices)]
    return _typed_value(table, column, row)


def _typed_value(table: Table, column: Column[Any], row: int) -> Any:
    """A value of the column's type; later columns get later times (e.g. slot_end > slot_start)."""
    index = list(table.columns).index(column)
    kind = dict if isinstance(column.type, JSON) else _python_type(column)
    if kind is bool:
        return row % 2 == 1
    if kind is int:
        return 1 + row + 100 * index
    if kind is float:
        return row + 0.25 * index
    if kind is datetime:
        return BASE_TIME + timedelta(days=row, minutes=index)
    if kind is date:
        return date(1940 + 7 * row, 1 + index % 12, 1 + row)
    if kind is str:
        return _text(table, column, row, index)
    if kind is dict:
        return {"ghi_chú": VIETNAMESE[row % len(VIETNAMESE)], "số": row, "danh_sách": [1.5, None]}
    if kind is bytes:
        return bytes(range(row, row + 16))
    raise AssertionError(f"rows.py cannot make a {column.type!r} for {table.name}.{column.name}")


def _text(table: Table, column: Column[Any], row: int, index: int) -> str:
    if column.name.endswith("sha256"):
        return hashlib.sha256(f"{table.name}/{row}".encode()).hexdigest()
    text = f"{row}-{index} {VIETNAMESE[(row + index) % len(VIETNAMESE)]}"
    length = getattr(column.type, "length", None)
    return text[:length] if length else text


def _python_type(column: Column[Any]) -> type | None:
    try:
        kind: type = column.type.python_type
    except NotImplementedError:
        return None
    return kind
