"""Fault tests: a real upstream on loopback, boxes in temporary folders, the real `hamletbox relay`.

Every test ends with `assert_exactly_once`: the upstream holds exactly the dossiers the box
accepted, each once, with every page's bytes read back and hashed.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.box import (
    Box,
    accepted,
    delivery,
    drain_queue,
    enroll,
    make_box,
    outbox_states,
    queue,
)
from tests.support.postgres import PostgresServer, postgres_server
from tests.support.upstream_server import UpstreamServer, make_token
from upstream import store, tables
from upstream.db import open_store
from upstream.settings import UpstreamSettings

RELAY_TIMEOUT = 60.0  # one `relay --once` at most; the faulty links here are much quicker


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def upstream_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'upstream.sqlite3'}"


@pytest.fixture
def upstream(upstream_db: str) -> Iterator[UpstreamServer]:
    """A real upstream under waitress, stopped at the end."""
    server = UpstreamServer(UpstreamSettings(db_url=upstream_db))
    server.start()
    yield server
    server.stop()


def enrolled_box(folder: Path, upstream: UpstreamServer, relay_url: str, extra: str = "") -> Box:
    """A box whose relay goes to `relay_url` (a proxy, or the upstream itself), enrolled."""
    box = make_box(folder, relay_url, extra)
    enroll(box, upstream.url, make_token(upstream.settings))
    return box


def drain(box: Box) -> None:
    """Run `hamletbox relay --once` until the box's queue is empty."""
    if not drain_queue(box, max_runs=6, timeout=RELAY_TIMEOUT):
        pytest.fail(f"the queue did not drain: {queue(box)}; see {box.folder / 'relay.log'}")


@contextmanager
def reaped(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """The process, killed and reaped if it still runs when the block ends (a failed test)."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def wait_for_start(box: Box, relay: subprocess.Popen[bytes]) -> None:
    """Until the relay has done its first turn (it writes its pid to relay.json after it)."""

    def started() -> bool:
        if relay.poll() is not None:
            log = (box.folder / "relay.log").read_text(errors="replace")[-3000:]
            pytest.fail(f"the relay exited with {relay.returncode} at its start:\n{log}")
        return relay_status(box).get("pid") == relay.pid

    wait_until(started, 30, "the relay to start")


def relay_status(box: Box) -> dict[str, Any]:
    """The relay's runtime_dir/relay.json ({} before the relay first wrote it)."""
    try:
        found: dict[str, Any] = json.loads((box.settings.runtime_dir / "relay.json").read_text())
    except FileNotFoundError:
        return {}
    return found


def assert_exactly_once(box: Box, upstream_db: str) -> None:
    """The upstream holds exactly the dossiers the box accepted, each once, every page intact;
    every outbox row of the box is delivered (none left pending or in flight)."""
    with box.services() as services:
        box_dossiers = accepted(services)
        states = outbox_states(services)
    found = delivery(box_dossiers, upstream_db)
    assert box_dossiers
    assert not found.lost, f"lost: {sorted(found.lost)}"
    assert not found.strays, f"never accepted by the box: {sorted(found.strays)}"
    assert found.duplicates == 0
    assert found.bad_pages == ()
    assert states == {"delivered": 4 * len(box_dossiers)}, states


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `condition` (a store or a file another process writes) until true, or fail."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def blobs_at(upstream_db: str) -> int:
    """How many page blobs the upstream holds."""
    engine, sessions = open_store(upstream_db)
    try:
        return store.count_rows(sessions, tables.Blob)
    finally:
        engine.dispose()
