"""`hamletbox doctor [--json]`: the checks as a table for a person or as JSON for a script.

It exits 0 only when every check passes, so `hamletbox doctor && …` works in a technician's
script. It opens the store only when it is already there: a diagnostic must never create one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from appliance.config import Settings
from appliance.doctor.checks import Check
from appliance.doctor.run import Probes, run_checks
from appliance.store.db import make_engine, make_sessions


def run_command(settings: Settings, *, as_json: bool, probes: Probes | None = None) -> int:
    with open_store(settings) as sessions:
        found = run_checks(settings, sessions, probes)
    print(as_document(found) if as_json else as_table(found))
    return 0 if all(check.ok for check in found) else 1


@contextmanager
def open_store(settings: Settings) -> Iterator[sessionmaker[Session] | None]:
    """Sessions on the box's database, or None when there is none (the queue check says so)."""
    if not settings.database_path.is_file():
        yield None
        return
    engine = make_engine(settings.database_path)
    try:
        yield make_sessions(engine)
    finally:
        engine.dispose()


def as_document(found: Sequence[Check]) -> str:
    return json.dumps({"checks": [check.as_json() for check in found]}, ensure_ascii=False)


def as_table(found: Sequence[Check]) -> str:
    width = max(len(check.name) for check in found)
    lines = [f"{'✓' if c.ok else '✗'} {c.name.ljust(width)}  {c.detail}" for c in found]
    failed = sum(not check.ok for check in found)
    summary = (
        "Mọi kiểm tra đều đạt / All checks passed"
        if not failed
        else f"{failed} kiểm tra không đạt / {failed} checks failed"
    )
    return "\n".join([*lines, "", summary])
