"""`hamletbox upstream token|dump|serve|officer add`, run as a technician would, in a subprocess."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from flask.testing import FlaskClient

from appliance.domain.protocol import HEADER_SERVER_TIME, body_digest
from tests.support.postgres import free_port
from tests.support.upstream_server import (
    FakeClock,
    Signer,
    deliver_dossier,
    enroll,
    http_request,
    page_bytes,
)

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 30


def hamletbox(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HAMLETBOX_")}
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environ,
        timeout=WAIT_S,
        check=False,
    )


def test_token_prints_one_token_that_enrolls_once(
    db_url: str, upstream_client: FlaskClient
) -> None:
    done = hamletbox("upstream", "--db", db_url, "token", "--hamlet", "Thôn Suối Râm")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    device = enroll(upstream_client, lines[0])
    assert device.hamlet == "Thôn Suối Râm"
    again = upstream_client.post("/v1/enroll", json={"token": lines[0]})
    assert again.status_code == 403


def test_token_refuses_a_blank_hamlet_or_bad_days(db_url: str) -> None:
    blank = hamletbox("upstream", "--db", db_url, "token", "--hamlet", "  ")
    assert blank.returncode == 2
    assert blank.stdout == ""
    assert "hamlet" in blank.stderr and "thôn" in blank.stderr
    days = hamletbox("upstream", "--db", db_url, "token", "--hamlet", "Thôn A", "--days", "0")
    assert days.returncode == 2
    assert "days" in days.stderr


def test_dump_prints_each_received_dossier_oldest_first(
    db_url: str, signed: Signer, clock: FakeClock
) -> None:
    first_pages = [page_bytes(1), page_bytes(2), page_bytes(3)]
    first = deliver_dossier(signed, first_pages, receipt_code="XB1-2222A")
    clock.advance(60)
    second = deliver_dossier(signed, [page_bytes(4)], receipt_code="XB1-3333B")
    done = hamletbox("upstream", "--db", db_url, "dump")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "uuid": first["uuid"],
            "receipt_code": "XB1-2222A",
            "hamlet": "Thôn Xà Bang 1",
            "procedure": "1.001193",
            "status": "sent",
            "pages": [body_digest(p) for p in first_pages],
        },
        {
            "uuid": second["uuid"],
            "receipt_code": "XB1-3333B",
            "hamlet": "Thôn Xà Bang 1",
            "procedure": "1.001193",
            "status": "sent",
            "pages": [body_digest(page_bytes(4))],
        },
    ]
    assert "Thôn Xà Bang 1" in lines[0]  # not \\u-escaped


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'upstream.sqlite3'}"


class _Serving:
    """A `hamletbox upstream serve` process and the lines it prints."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "appliance.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def next_line(self) -> str:
        return self.lines.get(timeout=WAIT_S)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=WAIT_S)
        for stream in (self.process.stdout, self.process.stderr):
            assert stream is not None
            stream.close()
        return code


@pytest.fixture
def serving(sqlite_url: str) -> Iterator[tuple[_Serving, int]]:
    port = free_port()
    process = _Serving("upstream", "--db", sqlite_url, "serve", "--port", str(port))
    yield process, port
    process.stop()


def test_serve_answers_on_its_port_and_stops_on_sigterm(serving: tuple[_Serving, int]) -> None:
    process, port = serving
    assert process.next_line().strip() == f"đang phục vụ / serving on http://127.0.0.1:{port}/"
    answer = http_request(f"http://127.0.0.1:{port}", "GET", "/v1/updates")
    assert answer.status == 401
    assert answer.json()["error"] == "unsigned"
    assert float(answer.headers[HEADER_SERVER_TIME.lower()]) > 0
    assert process.stop() == 0


def test_serve_on_a_taken_port_says_so_in_one_line(sqlite_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = hamletbox("upstream", "--db", sqlite_url, "serve", "--port", port)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_serve_refuses_a_broken_catalog(sqlite_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "catalog.toml"
    broken.write_text('version = 1\n[[procedures]]\ncode = "1.000001"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "upstream", "--db", sqlite_url, "serve"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HAMLETBOX_UPSTREAM_CATALOG": str(broken)},
        timeout=WAIT_S,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"hamletbox: {broken}")
    assert "Traceback" not in done.stderr


def test_officer_add(sqlite_url: str) -> None:
    command = ("upstream", "--db", sqlite_url, "officer", "add", "lan.nguyen", "--password-stdin")
    added = hamletbox(*command, stdin="mot-mat-khau-dai\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "đã thêm cán bộ lan.nguyen / added officer lan.nguyen"
    again = hamletbox(*command, stdin="mot-mat-khau-khac\n")
    assert again.returncode == 2
    assert again.stderr.startswith("hamletbox: ")
    assert "already exists" in again.stderr


def test_dump_of_an_empty_upstream_prints_nothing(sqlite_url: str) -> None:
    done = hamletbox("upstream", "--db", sqlite_url, "dump")
    assert (done.returncode, done.stdout) == (0, "")
