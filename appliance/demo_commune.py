"""The demo's commune side: a reference upstream and the box's relay, as child processes.

`hamletbox demo` files dossiers at the box (web, in the foreground); the relay carries them to
the upstream on the same machine, where the demo officer processes them; decisions flow back.
The box is enrolled with a one-time token the first time, exactly as a technician would do it.
The relay's GSM modem is the FakeModem over a pty, held by this (the demo's) process: the SMS the
relay sends show on the technician's SMS page. The LED panel runs beside them on gpiozero's
MockFactory (the demo's settings give it pins and an empty poweroff command).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from appliance.config import Settings
from appliance.errors import HamletBoxError
from appliance.hardware.fakes import FakeModem

DEMO_OFFICER = ("canbo", "demo-can-bo")
START_TIMEOUT_S = 30.0


class DemoError(HamletBoxError):
    """A part of the demo that would not start; the message says which and why."""


class DemoCommune:
    """Starts the upstream, makes the demo officer, enrolls the box once, starts the relay and
    the LED panel."""

    def __init__(self, folder: Path, settings: Settings, config_file: Path, port: int) -> None:
        self.folder, self.settings, self.config_file, self.port = (
            folder,
            settings,
            config_file,
            port,
        )
        self.db_url = f"sqlite:///{folder / 'upstream.sqlite3'}"
        self.url = f"http://127.0.0.1:{port}"
        self._children: list[subprocess.Popen[bytes]] = []
        self.modem: FakeModem | None = None

    def start(self) -> None:
        upstream = self._spawn("upstream", "--db", self.db_url, "serve", "--port", str(self.port))
        _wait_listening(self.port, upstream, "upstream")
        self._ensure_officer()
        self._ensure_enrolled()
        self.modem = FakeModem().start()
        modem = {"HAMLETBOX_MODEM__URL": self.modem.path}  # every process knows it, as on a box
        self._spawn("relay", env=modem)
        self._spawn("panel", env=modem)

    def web_settings(self) -> Settings:
        """The demo's settings for the web, which runs in this process: with the fake modem's
        port, so the technician's pages show the modem the relay holds."""
        if self.modem is None:
            return self.settings
        modem = dataclasses.replace(self.settings.modem, url=self.modem.path)
        return dataclasses.replace(self.settings, modem=modem)

    def stop(self) -> None:
        """The panel and the relay first (it finishes the request in flight), then the upstream."""
        for child in reversed(self._children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in reversed(self._children):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self._children.clear()
        if self.modem is not None:  # after the relay, which holds its port
            self.modem.stop()
            self.modem = None

    def _spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        environ = {**os.environ, **env} if env else None
        child = subprocess.Popen(_hamletbox("--config", str(self.config_file), *args), env=environ)
        self._children.append(child)
        return child

    def _run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _hamletbox("--config", str(self.config_file), *args),
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )

    def _ensure_officer(self) -> None:
        name, password = DEMO_OFFICER
        if _officer_exists(self.db_url, name):
            return
        done = self._run(
            "upstream", "--db", self.db_url, "officer", "add", name, "--password-stdin",
            stdin=password + "\n",
        )  # fmt: skip
        if done.returncode != 0:
            raise DemoError(f"demo officer: {done.stderr.strip()}")

    def _ensure_enrolled(self) -> None:
        """Enroll with a fresh token unless the box holds a device the upstream still knows."""
        device_file = self.settings.relay.device_file
        if device_file.exists():
            if _device_known(self.db_url, device_file):
                return
            device_file.unlink()  # the demo's upstream database was removed: enroll again
        token = self._run(
            "upstream", "--db", self.db_url, "token", "--hamlet", self.settings.box.hamlet
        )
        if token.returncode != 0:
            raise DemoError(f"enrolment token: {token.stderr.strip()}")
        done = self._run("enroll", "--upstream", self.url, "--token", token.stdout.strip())
        if done.returncode != 0:
            raise DemoError(f"enrolment: {done.stderr.strip()}")


def _hamletbox(*args: str) -> list[str]:
    return [sys.executable, "-m", "appliance.cli", *args]


def _wait_listening(port: int, child: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise DemoError(f"the demo {what} exited with status {child.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise DemoError(f"the demo {what} did not answer on port {port}")


def _officer_exists(db_url: str, name: str) -> bool:
    from sqlalchemy import select

    from upstream.db import open_store
    from upstream.tables import Officer

    engine, sessions = open_store(db_url)
    try:
        with sessions() as session:
            return session.scalar(select(Officer.id).where(Officer.name == name)) is not None
    finally:
        engine.dispose()


def _device_known(db_url: str, device_file: Path) -> bool:
    import json

    from upstream.db import open_store
    from upstream.tables import Device

    try:
        device_id = json.loads(device_file.read_text(encoding="utf-8"))["device_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    engine, sessions = open_store(db_url)
    try:
        with sessions() as session:
            return session.get(Device, device_id) is not None
    finally:
        engine.dispose()
