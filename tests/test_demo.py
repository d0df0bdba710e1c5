"""`hamletbox demo`: the whole loop on one machine — file at the box, decide at the commune, and
the decision comes back to the box — then Ctrl-C stops every process it started."""

from __future__ import annotations

import http.cookiejar
import json
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from appliance.demo import DEMO_ACCOUNTS
from appliance.demo_commune import DEMO_OFFICER
from appliance.samples.documents import make_photo
from tests.support.processes import clean_env, hamletbox_command

WAIT_S = 90.0
T = TypeVar("T")


@dataclass
class Demo:
    folder: Path
    box: str
    commune: str
    process: subprocess.Popen[bytes]

    @property
    def settings(self) -> Path:
        return self.folder / "hamletbox.toml"

    @property
    def upstream_db(self) -> str:
        return f"sqlite:///{self.folder / 'upstream.sqlite3'}"


def _free_pair() -> int:
    """A port P with P and P + 10 both free: the demo's web and upstream."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + 10 < 65536 and _free(port + 10):
            return port
    raise AssertionError("no free pair of ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _eventually(check: Callable[[], T | None], what: str, log: Path) -> T:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = check()
        if found is not None:
            return found
        time.sleep(0.25)
    raise AssertionError(f"demo: {what} did not happen; log:\n{log.read_text(errors='replace')}")


def _answers(url: str) -> bool | None:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return None


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("demo")
    port = _free_pair()
    log = folder / "demo.log"
    hamletbox = hamletbox_command(folder)[0]
    cmd = [hamletbox, "demo", "--dir", str(folder), "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=clean_env(), stdout=out, stderr=subprocess.STDOUT)
    running = Demo(folder, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 10}", process)
    try:
        _eventually(lambda: _answers(running.box + "/"), "the box's web UI", log)
        _eventually(lambda: _answers(running.commune + "/dang-nhap"), "the commune inbox", log)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def _file_dossier(demo: Demo) -> dict[str, str]:
    photo = demo.folder / "to-khai.jpg"
    photo.write_bytes(make_photo(2, frame=(1200, 900)).jpeg)
    done = subprocess.run(
        [
            *hamletbox_command(demo.settings),
            *("dossier", "create", "--procedure", "1.001193", "--name", "Trần Văn Bình"),
            *("--phone", "0912345678", "--page", str(photo), "--consent", "--json"),
        ],
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    filed: dict[str, str] = json.loads(done.stdout)
    return filed


def _received_upstream(demo: Demo, uuid: str) -> dict[str, object] | None:
    done = subprocess.run(
        [*hamletbox_command(demo.settings), "upstream", "--db", demo.upstream_db, "dump"],
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    return next((row for row in rows if row["uuid"] == uuid), None)


def _box_status(demo: Demo, uuid: str) -> tuple[str, str | None]:
    with sqlite3.connect(demo.folder / "data" / "hamletbox.sqlite3") as conn:
        row = conn.execute(
            "SELECT status, result_due FROM dossiers WHERE uuid = ?", (uuid,)
        ).fetchone()
    return row[0], row[1]


def _sms_sent(demo: Demo, uuid: str, count: int) -> list[str] | None:
    """The keys of the SMS sent for the dossier, once there are `count` of them."""
    with sqlite3.connect(demo.folder / "data" / "hamletbox.sqlite3") as conn:
        keys = [
            key
            for (key,) in conn.execute(
                "SELECT json_extract(payload, '$.key') FROM events WHERE kind = 'sms_sent'"
                " ORDER BY id"
            )
            if uuid in key
        ]
    return keys if len(keys) >= count else None


class Officer:
    """The demo officer's browser, as plain HTTP with a cookie jar."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as answer:
            return str(answer.read().decode())

    def post(self, path: str, form: dict[str, str]) -> str:
        page = self.get(path)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None, page
        data = urllib.parse.urlencode({**form, "csrf_token": token.group(1)}).encode()
        with self.opener.open(self.base + path, data=data, timeout=10) as answer:
            return str(answer.read().decode())


def test_demo_prints_every_account(demo: Demo) -> None:
    log = (demo.folder / "demo.log").read_text()
    for name, _role, password in DEMO_ACCOUNTS:
        assert f"{name} / {password}" in log
    assert f"{DEMO_OFFICER[0]} / {DEMO_OFFICER[1]}" in log
    assert demo.commune in log


def test_file_at_the_box_decide_at_the_commune(demo: Demo) -> None:
    log = demo.folder / "demo.log"
    filed = _file_dossier(demo)
    arrived = _eventually(lambda: _received_upstream(demo, filed["uuid"]), "delivery", log)
    assert arrived["receipt_code"] == filed["receipt_code"]
    assert arrived["status"] == "sent"
    assert _eventually(
        lambda: _box_status(demo, filed["uuid"])[0] == "sent" or None, "sent on the box", log
    )

    officer = Officer(demo.commune)
    name, password = DEMO_OFFICER
    officer.post("/dang-nhap", {"name": name, "password": password})
    due = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    page = officer.post(
        f"/ho-so/{filed['uuid']}",
        {"action": "received", "seen": "sent", "appointment_date": due},
    )
    assert filed["receipt_code"] in page

    status = _eventually(
        lambda: ((s := _box_status(demo, filed["uuid"]))[0] == "received" and s) or None,
        "the decision back at the box",
        log,
    )
    assert status == ("received", due)
    # The relay's modem is the demo's FakeModem: the receipt and the decision went out by SMS.
    keys = _eventually(lambda: _sms_sent(demo, filed["uuid"], 2), "the residents' SMS", log)
    assert keys[0] == f"receipt:{filed['uuid']}" and keys[1].startswith(f"status:{filed['uuid']}")


def test_ctrl_c_stops_the_relay_and_the_upstream(demo: Demo) -> None:
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=60) == 0
    port = int(demo.commune.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    relays = subprocess.run(["pgrep", "-f", f"{demo.settings} relay"], capture_output=True)
    assert relays.returncode == 1, "the demo's relay is still running"
    panels = subprocess.run(["pgrep", "-f", f"{demo.settings} panel"], capture_output=True)
    assert panels.returncode == 1, "the demo's panel is still running"
