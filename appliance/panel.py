"""`hamletbox panel`: the status LEDs and the shutdown button.

Every second it reads the box's state (the runtime files and the store) and shows
`appliance.domain.panel.patterns` on the LEDs. An LED is touched only when its pattern changes, so
a blink is never restarted. runtime_dir/panel.json says what the LEDs show and why (the technician
page mirrors it). Holding the shutdown button powers the box off cleanly, with every LED blinking
fast meanwhile; the panel opens no camera or modem, which belong to the web and the relay.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from appliance.box_state import read_box_state
from appliance.config import Settings
from appliance.domain.panel import COLOURS, BoxState, Leds, patterns
from appliance.errors import HamletBoxError
from appliance.hardware.gpio import LedPanel, ShutdownButton, pin_conflicts, pin_factory
from appliance.liveness import write_beat
from appliance.relay import systemd
from appliance.services import build
from appliance.stopping import stop_on_signals

log = logging.getLogger("hamletbox.panel")

EX_CONFIG = 78  # sysexits.h: the settings are wrong; systemd does not restart into the same fault
PANEL_FILE = "panel.json"
TICK_SECONDS = 1.0
REFRESH_SECONDS = 10.0  # an unchanged panel.json is rewritten this often, so its age shows liveness
FEEDBACK_SECONDS = 5.0  # the shutdown blink, when no poweroff follows (empty command, or it failed)
POWERING_OFF = Leds("fast", "fast", "fast", "fast", ("Đang tắt máy… / Powering off…",))
STOPPED = Leds("off", "off", "off", "off", ("Bảng đèn đã dừng / The LED panel has stopped",))

Runner = Callable[[list[str]], int]


class PanelError(HamletBoxError):
    """The panel's pins would not open (another program holds one, or this is not a Pi)."""


def run_poweroff(argv: list[str]) -> int:
    """Run the poweroff command; its exit status (127 when it cannot be started)."""
    try:
        return subprocess.run(argv, check=False).returncode
    except OSError as exc:
        log.error("cannot run %s / không chạy được lệnh tắt máy: %s", argv[0], exc)
        return 127


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PanelDaemon:
    """The LEDs and the shutdown button on one pin factory; `tick()` is one look at the box."""

    def __init__(
        self,
        settings: Settings,
        read_state: Callable[[datetime], BoxState],
        factory: Any | None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        runner: Runner = run_poweroff,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        gpio = settings.gpio
        self._read_state, self._clock, self._runner, self._environ = (
            read_state,
            clock,
            runner,
            environ,
        )
        self._command = shlex.split(gpio.poweroff_command)
        self._path = settings.runtime_dir / PANEL_FILE
        self._lock = threading.Lock()  # the LEDs: the loop and the button's thread both set them
        self._shown: dict[str, str] = {}
        self._written: dict[str, Any] | None = None
        self._written_at: datetime | None = None
        self._powering_off = False
        self._feedback_until: datetime | None = None
        self._leds = LedPanel({c: getattr(gpio, f"{c}_pin") for c in COLOURS}, factory)
        self._button: ShutdownButton | None = None
        if gpio.shutdown_pin is not None:
            try:
                self._button = ShutdownButton(
                    gpio.shutdown_pin, factory, gpio.shutdown_hold_seconds
                )
            except Exception:
                self._leds.close()
                raise
            self._button.when_held(self._held)

    def tick(self) -> Leds:
        """Read the box's state and show it (or the shutdown feedback while it lasts)."""
        now = self._clock()
        shown = patterns(self._read_state(now))  # outside the lock: the store can be slow
        with self._lock:
            leds = POWERING_OFF if self._in_feedback(now) else shown
            self._show(leds)
        self._publish(leds, now)
        return leds

    def run(self, stopping: threading.Event) -> None:
        """Tick every second until `stopping` is set; then every LED off and the pins let go."""
        systemd.notify("READY=1", self._environ)
        failed = ""
        try:
            while not stopping.is_set():
                try:
                    self.tick()
                    failed = ""
                except Exception as exc:  # a locked or broken store: keep pinging, say it once
                    if str(exc) != failed:
                        log.exception("cannot read the box's state / không đọc được trạng thái")
                    failed = str(exc)
                systemd.notify("WATCHDOG=1", self._environ)
                stopping.wait(TICK_SECONDS)
        finally:
            systemd.notify("STOPPING=1", self._environ)
            self.close()

    def close(self) -> None:
        with self._lock:
            if self._button is not None:
                self._button.close()
                self._button = None
            self._leds.close()
            self._shown = STOPPED.by_colour()
        self._publish(STOPPED, self._clock())

    def _in_feedback(self, now: datetime) -> bool:
        if self._feedback_until is not None and now >= self._feedback_until:
            self._feedback_until = None
        return self._powering_off or self._feedback_until is not None

    def _show(self, leds: Leds) -> None:
        """Set only the LEDs whose pattern changed (lock held)."""
        for colour, pattern in leds.by_colour().items():
            if self._shown.get(colour) != pattern:
                self._leds.show(colour, pattern)
                self._shown[colour] = pattern

    def _held(self) -> None:
        """The shutdown button was held long enough: feedback first, then the poweroff, once."""
        now = self._clock()
        with self._lock:
            if self._in_feedback(now):
                return
            self._powering_off = True
            self._show(POWERING_OFF)
        self._publish(POWERING_OFF, now)
        if not self._command:
            log.warning("gpio.poweroff_command is empty: would power off now / sẽ tắt máy")
            done = False
        else:
            log.warning("shutdown button held: powering off / giữ nút tắt máy: đang tắt máy")
            done = self._runner(self._command) == 0
        if not done:  # show the feedback a little, then the box's state again
            with self._lock:
                self._powering_off = False
                self._feedback_until = self._clock() + timedelta(seconds=FEEDBACK_SECONDS)

    def _publish(self, leds: Leds, now: datetime) -> None:
        """panel.json when what it says changed, and every REFRESH_SECONDS."""
        document = {"leds": leds.by_colour(), "reasons": list(leds.reasons)}
        with self._lock:
            fresh = self._written_at is not None and (
                (now - self._written_at).total_seconds() < REFRESH_SECONDS
            )
            if document == self._written and fresh:
                return
            self._written, self._written_at = document, now
        try:
            write_beat(self._path, document, now)
        except OSError as exc:
            log.warning("cannot write %s: %s", self._path, exc)


def run_command(settings: Settings) -> int:
    """`hamletbox panel`: refuse a pin named twice before opening anything (exit 78), else run
    until SIGTERM / SIGINT."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    conflicts = pin_conflicts(settings)
    if conflicts:
        for message in conflicts:
            print(f"hamletbox panel: {message}", file=sys.stderr)
        print("Sửa mục [gpio] trong tệp cài đặt / Fix [gpio] in the settings file", file=sys.stderr)
        return EX_CONFIG
    stopping = threading.Event()
    stop_on_signals(stopping)
    services = build(settings, devices=False)
    factory = pin_factory(settings.gpio.pin_factory)
    try:
        daemon = _open(
            settings, lambda now: read_box_state(settings, services.sessions, now), factory
        )
        log.info("panel started / bảng đèn đã chạy")
        daemon.run(stopping)
        log.info("panel stopped / bảng đèn đã dừng")
    finally:
        if factory is not None:
            factory.close()
        services.close()
    return 0


def _open(
    settings: Settings, read_state: Callable[[datetime], BoxState], factory: Any | None
) -> PanelDaemon:
    try:
        return PanelDaemon(settings, read_state, factory)
    except Exception as exc:
        raise PanelError(
            f"không mở được chân GPIO của bảng đèn / the panel's GPIO pins did not open: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
