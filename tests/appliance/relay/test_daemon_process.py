"""`hamletbox relay` as systemd and a technician run it: a separate process, stopped by SIGTERM,
or `--once` from a terminal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.appliance.relay.helpers import queue_dossier, rows, wait_for
from tests.support.box import Box, enroll, make_box
from tests.support.upstream_server import make_token, running_upstream
from upstream import tables as up
from upstream.db import open_store
from upstream.settings import UpstreamSettings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def upstream(tmp_path: Path) -> UpstreamSettings:
    return UpstreamSettings(db_url=f"sqlite:///{tmp_path / 'upstream.sqlite3'}")


@pytest.fixture
def upstream_url(upstream: UpstreamSettings) -> Iterator[str]:
    with running_upstream(upstream) as url:
        yield url


def hamletbox(box: Box, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAMLETBOX_", "NOTIFY_"))}
    command = [sys.executable, "-m", "appliance.cli", "--config", str(box.settings_file), *args]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_once_on_a_box_not_enrolled_says_so_plainly(tmp_path: Path) -> None:
    box = make_box(tmp_path / "box", "http://127.0.0.1:9")
    proc = hamletbox(box, "relay", "--once")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "Hộp chưa đăng ký với xã" in err and "This box is not enrolled" in err
    assert "Traceback" not in err


def test_once_drains_the_queue_and_says_what_it_did(
    tmp_path: Path, upstream: UpstreamSettings, upstream_url: str
) -> None:
    box = make_box(tmp_path / "box", upstream_url)
    enroll(box, upstream_url, make_token(upstream))
    with box.services() as services:
        queue_dossier(services, "a", datetime.now(UTC))
    proc = hamletbox(box, "relay", "--once")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.splitlines() == [
        "đã gửi 3 mục, 0 bị từ chối, 0 xung đột / delivered 3 items, 0 refused, 0 conflicts"
    ]
    with box.services() as services:
        assert {r.state for r in rows(services)} == {"delivered"}
    status = json.loads((box.settings.runtime_dir / "relay.json").read_text())
    assert (status["uplink"], status["queue_depth"], status["last_error"]) == ("online", 0, None)


def test_sigterm_finishes_the_request_in_flight_and_exits_cleanly(
    tmp_path: Path, upstream: UpstreamSettings, upstream_url: str
) -> None:
    """Uploads are capped at 2 kbit/s, so each page takes a couple of seconds: the signal comes
    while one is on the wire, and the box and the upstream must agree on what was delivered."""
    box = make_box(tmp_path / "box", upstream_url, extra="max_kbps = 2\n")
    enroll(box, upstream_url, make_token(upstream))
    with box.services() as services:
        for tag in "abc":
            queue_dossier(services, tag, datetime.now(UTC))
    proc = hamletbox(box, "relay")
    try:
        # relay.json is first written once the first page is delivered and the first round of
        # polls is done: the second page is then on the wire.
        wait_for((box.settings.runtime_dir / "relay.json").exists)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    with box.services() as services:
        items = rows(services)
    assert "in_flight" not in {r.state for r in items}
    delivered = {r.key for r in items if r.kind == "blob" and r.state == "delivered"}
    engine, sessions = open_store(upstream.db_url)
    try:
        with sessions() as session:
            held = set(session.scalars(select(up.Blob.sha256)))
    finally:
        engine.dispose()
    assert delivered == held, "what the upstream holds is exactly what the box recorded"
    assert len(delivered) < len([r for r in items if r.kind == "blob"]), "stopped early"
