"""Runs every check at once, each in its own thread and bounded by a timeout: a modem that never
answers or an upstream behind a dead link costs its own check, never the others, and an
exception inside a check becomes that check's failure with its message."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from appliance.capture.camera import Camera, open_camera
from appliance.config import Settings
from appliance.doctor import checks, thermal
from appliance.doctor.checks import Check
from appliance.doctor.upstream import Connect, check_clock, check_upstream, connect
from appliance.hardware.modem import open_modem
from appliance.hardware.modem_api import Modem
from appliance.store.blobs import BlobStore
from appliance.store.outbox_repo import OutboxRepo, OutboxStats

CHECK_SECONDS = 30.0
NAMES = (
    "services",
    "camera",
    "modem",
    "upstream",
    "queue",
    "disk",
    "temperature",
    "clock",
    "hotspot",
    "version",
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Probes:
    """Everything the checks reach outside the settings, so tests can stand in for each."""

    clock: Callable[[], datetime] = _utc_now
    run: thermal.Runner = thermal.run_command
    thermal_zone: Path = thermal.THERMAL_ZONE
    connect: Connect = connect
    open_camera: Callable[[Settings], Camera | None] = open_camera
    open_modem: Callable[[Settings], Modem | None] = open_modem
    held_camera: Camera | None = None  # the camera this process holds (the web's)
    environ: Mapping[str, str] | None = None
    timeout: float = CHECK_SECONDS


@dataclass
class _Pending:
    """One check running in a daemon thread (a hung one must not keep the process alive)."""

    name: str
    thunk: Callable[[], Check]
    done: threading.Event = field(default_factory=threading.Event)
    result: Check | None = None

    def start(self) -> _Pending:
        threading.Thread(target=self._run, name=f"doctor-{self.name}", daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            self.result = self.thunk()
        except Exception as exc:
            self.result = Check(
                self.name, False, f"kiểm tra bị lỗi / the check failed: {type(exc).__name__}: {exc}"
            )
        finally:
            self.done.set()

    def wait(self, deadline: float, timeout: float) -> Check:
        if self.done.wait(max(0.0, deadline - time.monotonic())) and self.result is not None:
            return self.result
        return Check(
            self.name,
            False,
            f"không xong trong {timeout:.0f} giây / did not finish within {timeout:.0f} s",
        )


def run_checks(
    settings: Settings, sessions: sessionmaker[Session] | None, probes: Probes | None = None
) -> list[Check]:
    """Every check, in NAMES order. `sessions` None: the store could not be opened."""
    job = _Run(settings, sessions, probes or Probes())
    timeout = job.probes.timeout
    deadline = time.monotonic() + timeout
    pending = {name: _Pending(name, thunk).start() for name, thunk in job.thunks().items()}
    found = {name: one.wait(deadline, timeout) for name, one in pending.items()}
    clock = _Pending("clock", job.clock).start()  # after the upstream: it uses its answer
    found["clock"] = clock.wait(time.monotonic() + timeout, timeout)
    return [found[name] for name in NAMES]


class _Run:
    """One run's inputs, and the clock offset the upstream check measured for the clock check."""

    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session] | None, probes: Probes
    ) -> None:
        self.settings, self.sessions, self.probes = settings, sessions, probes
        self.now = probes.clock()
        self.offset: float | None = None

    def thunks(self) -> dict[str, Callable[[], Check]]:
        s, p, now = self.settings, self.probes, self.now
        return {
            "services": lambda: checks.check_services(s, now),
            "camera": lambda: checks.check_camera(s, now, held=p.held_camera, opener=p.open_camera),
            "modem": lambda: checks.check_modem(s, now, opener=p.open_modem),
            "upstream": self.upstream,
            "queue": self.queue,
            "disk": lambda: checks.check_disk(s),
            "temperature": lambda: thermal.check_temperature(p.run, p.thermal_zone),
            "hotspot": lambda: checks.check_hotspot(s, now),
            "version": checks.check_version,
        }

    def stats(self) -> OutboxStats | None:
        if self.sessions is None:
            return None
        return OutboxRepo(self.sessions, BlobStore(self.settings.blob_dir)).stats(self.now)

    def queue(self) -> Check:
        found = self.stats()
        if found is None:
            where = self.settings.database_path
            return Check("queue", False, f"không có kho dữ liệu {where} / no store at {where}")
        return checks.check_queue(found)

    def upstream(self) -> Check:
        found = self.stats()
        depth = 0 if found is None else found.queue_depth
        p, settings = self.probes, self.settings
        result = check_upstream(settings, self.now, depth, connect=p.connect, environ=p.environ)
        self.offset = result.clock_offset
        return result.check

    def clock(self) -> Check:
        return check_clock(self.settings, self.now, self.offset)
