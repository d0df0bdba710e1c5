"""`hamletbox upstream …`: serve, make enrolment tokens, dump what was received, add officers.

Called by appliance/cli.py with settings already read; each returns the exit status.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType

from sqlalchemy.orm import Session, sessionmaker

from upstream import store
from upstream.db import open_store
from upstream.settings import UpstreamSettings

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
MAX_TOKEN_DAYS = 365
HAMLET_MAX = 200


def serve(settings: UpstreamSettings, host: str, port: int, threads: int) -> int:
    """Serve the device API and the officers' pages until SIGTERM or Ctrl-C."""
    from upstream.app import create_app
    from upstream.server import close, listen, make_server

    app = create_app(settings)  # a broken catalog stops here (CatalogError, reported by the caller)
    try:
        try:
            sock = listen(host, port)
        except OSError as exc:
            _fail(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                " / không mở được cổng (đang có chương trình khác dùng?)"
            )
            return EXIT_FAILED
        server = make_server(app, sock, threads)
        signal.signal(signal.SIGTERM, _stop)
        print(f"đang phục vụ / serving on http://{_url_host(host)}:{port}/", flush=True)
        server.run()  # returns on SystemExit or KeyboardInterrupt
        close(server)
    finally:
        app.extensions["upstream"].close()
    return 0


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def new_token(settings: UpstreamSettings, hamlet: str, days: int) -> int:
    """Print a one-time enrolment token (only the token, one line) for a box of `hamlet`."""
    hamlet = hamlet.strip()
    if not hamlet or len(hamlet) > HAMLET_MAX:
        _fail(
            f"tên thôn cần 1 đến {HAMLET_MAX} ký tự / the hamlet needs 1 to {HAMLET_MAX} characters"
        )
        return EXIT_BAD_INPUT
    if not 1 <= days <= MAX_TOKEN_DAYS:
        _fail(f"số ngày phải từ 1 đến {MAX_TOKEN_DAYS} / days must be 1 to {MAX_TOKEN_DAYS}")
        return EXIT_BAD_INPUT
    with _sessions(settings) as sessions:
        token = store.new_token(sessions, hamlet, days, datetime.now(UTC))
    print(token)
    return 0


def dump(settings: UpstreamSettings) -> int:
    """One JSON line per received dossier, oldest first, with its pages' hashes."""
    with _sessions(settings) as sessions:
        for dossier in store.received_dossiers(sessions):
            print(json.dumps(dossier, ensure_ascii=False))
    return 0


def add_officer(settings: UpstreamSettings, name: str, password: str) -> int:
    from appliance.domain.credentials import AccountError
    from upstream.officers import add_officer as add

    with _sessions(settings) as sessions:
        try:
            add(sessions, name, password)
        except AccountError as exc:
            _fail(str(exc))
            return EXIT_BAD_INPUT
    print(f"đã thêm cán bộ {name} / added officer {name}")
    return 0


@contextmanager
def _sessions(settings: UpstreamSettings) -> Iterator[sessionmaker[Session]]:
    engine, sessions = open_store(settings.db_url)
    try:
        yield sessions
    finally:
        engine.dispose()


def _fail(message: str) -> None:
    print(f"hamletbox: {message}", file=sys.stderr)
