"""The support bundle: one zip a technician downloads and sends to the district when a box
misbehaves. It holds how the box is, never whom it served: logs (with long digit runs such as
phone and ID numbers masked), the settings with secrets masked, counts from the store (no rows),
the doctor's checks, the software version and the runtime files."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.box_state import WEB_FILE
from appliance.config import Settings, effective
from appliance.doctor.checks import Check
from appliance.doctor.command import as_document
from appliance.doctor.thermal import run_command
from appliance.panel import PANEL_FILE
from appliance.relay.heartbeat import MODEM_FILE
from appliance.relay.status_file import FILE_NAME as RELAY_FILE
from appliance.relay.transport import software_version
from appliance.store.tables import Base, Dossier, OutboxItem

JOURNAL = ("journalctl", "-u", "hamletbox*", "--since", "2 days ago", "-o", "short-iso")
JOURNAL_SECONDS = 60.0
RUNTIME_FILES = (RELAY_FILE, MODEM_FILE, PANEL_FILE, WEB_FILE)
NO_JOURNAL = (
    "Không có journalctl (hay không đọc được nhật ký) ở máy này: gói không có nhật ký.\n"
    "journalctl is not available (or the journal cannot be read) here: no logs in this bundle.\n"
)
# A phone or ID number: nine digits or more, perhaps split by spaces, dots or dashes.
_NUMBER = re.compile(r"\+?\d(?:[ .-]?\d){8,}")

Journal = Callable[[Sequence[str]], str | None]


def read_journal(argv: Sequence[str]) -> str | None:
    return run_command(argv, timeout=JOURNAL_SECONDS)


def build_bundle(
    settings: Settings,
    sessions: sessionmaker[Session],
    checks: Sequence[Check],
    now: datetime,
    *,
    journal: Journal = read_journal,
) -> bytes:
    """The zip's bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("made_at.txt", now.isoformat() + "\n")
        bundle.writestr("version.txt", software_version() + "\n")
        logs = journal(JOURNAL)
        if logs is None:
            bundle.writestr("logs-NOTE.txt", NO_JOURNAL)
        else:
            bundle.writestr("logs.txt", mask_numbers(logs))
        bundle.writestr("settings.json", _json(effective(settings)))
        bundle.writestr("store.json", _json(store_statistics(sessions)))
        bundle.writestr("doctor.json", as_document(checks) + "\n")
        for name in RUNTIME_FILES:
            path = settings.runtime_dir / name
            if path.is_file():
                bundle.writestr(f"runtime/{name}", mask_numbers(path.read_text("utf-8", "replace")))
    return buffer.getvalue()


def mask_numbers(text: str) -> str:
    return _NUMBER.sub("[số / number]", text)


def store_statistics(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Counts only: rows per table, outbox items by kind and state, dossiers by status."""
    with sessions() as session:
        tables = {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }
        outbox = session.execute(
            select(OutboxItem.kind, OutboxItem.state, func.count())
            .group_by(OutboxItem.kind, OutboxItem.state)
            .order_by(OutboxItem.kind, OutboxItem.state)
        ).all()
        dossiers = session.execute(
            select(Dossier.status, func.count()).group_by(Dossier.status).order_by(Dossier.status)
        ).all()
    return {
        "rows_per_table": tables,
        "outbox": [{"kind": k, "state": s, "count": n} for k, s, n in outbox],
        "dossiers_by_status": {status: n for status, n in dossiers},
    }


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
