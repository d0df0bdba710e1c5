"""The panel daemon on gpiozero's MockFactory: what each LED shows in each situation, the
shutdown button's hold, panel.json, and a clean stop on SIGTERM."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gpiozero import Button
from gpiozero.pins.mock import MockFactory

from appliance import config, panel
from appliance.domain.panel import BoxState
from appliance.hardware.fakes import press
from appliance.hardware.gpio import LedPanel
from appliance.liveness import read_json
from appliance.panel import (
    EX_CONFIG,
    FEEDBACK_SECONDS,
    PANEL_FILE,
    PanelDaemon,
    PanelError,
    run_command,
)
from tests.appliance.domain.test_panel import HEALTHY
from tests.appliance.relay.helpers import wait_for
from tests.conftest import write_settings
from tests.support.leds import changes, observe
from tests.support.processes import clean_env, hamletbox_command

LEDS = {"green": 5, "blue": 6, "amber": 13, "red": 19}
SHUTDOWN = 26
HOLD_S = 0.5
WAIT_S = 5.0
GPIO = (
    '[gpio]\npin_factory = "mock"\ngreen_pin = 5\nblue_pin = 6\namber_pin = 13\nred_pin = 19\n'
    f"shutdown_pin = {SHUTDOWN}\nshutdown_hold_seconds = {HOLD_S}\n"
)


class Clock:
    """The daemon's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Box:
    """The state the daemon reads, set by the test, and the poweroff commands it ran."""

    def __init__(self) -> None:
        self.state = HEALTHY
        self.ran: list[list[str]] = []

    def read(self, now: datetime) -> BoxState:
        return self.state

    def run(self, argv: list[str]) -> int:
        self.ran.append(argv)
        return 0


def settings_for(tmp_path: Path, extra: str) -> config.Settings:
    return config.load(write_settings(tmp_path, extra), environ={})


@pytest.fixture
def box() -> Box:
    return Box()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_daemon(
    tmp_path: Path, factory: MockFactory, box: Box, clock: Clock, command: str = "/sbin/poweroff"
) -> PanelDaemon:
    settings = settings_for(tmp_path, GPIO + f'poweroff_command = "{command}"\n')
    return PanelDaemon(settings, box.read, factory, clock=clock, runner=box.run)


def pins(factory: MockFactory) -> dict[str, Any]:
    return {colour: factory.pin(pin) for colour, pin in LEDS.items()}


def panel_json(tmp_path: Path) -> dict[str, Any]:
    found = read_json(tmp_path / "run" / PANEL_FILE)
    assert found is not None
    return found


SITUATIONS = [
    ("all well", {}, {"green": "slow", "blue": "on", "amber": "off", "red": "off"}),
    (
        "sending, one dossier stuck",
        {"uplink": "sending", "queue_depth": 2, "oldest_waiting_seconds": 3 * 86400},
        {"green": "slow", "blue": "slow", "amber": "fast", "red": "off"},
    ),
    (
        "relay down, camera missing, dossiers waiting",
        {"relay_alive": False, "uplink": "unknown", "camera": "missing", "queue_depth": 1},
        {"green": "on", "blue": "off", "amber": "on", "red": "on"},
    ),
]


@pytest.mark.parametrize(
    ("changes_", "expected"), [pytest.param(c, e, id=name) for name, c, e in SITUATIONS]
)
def test_led_timelines_per_situation(
    tmp_path: Path,
    factory: MockFactory,
    box: Box,
    clock: Clock,
    changes_: dict[str, Any],
    expected: dict[str, str],
) -> None:
    box.state = replace(HEALTHY, **changes_)
    daemon = make_daemon(tmp_path, factory, box, clock)
    try:
        daemon.tick()
        assert observe(pins(factory)) == expected
        written = panel_json(tmp_path)
        assert written["leds"] == expected
        assert written["pid"] > 0 and written["updated_at"] == clock.now.isoformat()
    finally:
        daemon.close()


def test_a_missing_camera_says_why_red_is_lit(
    tmp_path: Path, factory: MockFactory, box: Box, clock: Clock
) -> None:
    box.state = replace(HEALTHY, camera="missing")
    daemon = make_daemon(tmp_path, factory, box, clock)
    try:
        daemon.tick()
        reasons = panel_json(tmp_path)["reasons"]
        assert reasons == ["Không thấy máy ảnh của trạm / The station's camera is missing"]
    finally:
        daemon.close()


def test_an_unchanged_pattern_is_not_restarted(
    tmp_path: Path, factory: MockFactory, box: Box, clock: Clock
) -> None:
    daemon = make_daemon(tmp_path, factory, box, clock)
    green = factory.pin(LEDS["green"])
    try:
        daemon.tick()
        wait_for(lambda: len(green.states) >= 3, WAIT_S)  # lit 1 s, now in its dark second
        box.state = replace(HEALTHY, queue_depth=1)  # only amber changes
        daemon.tick()
        assert factory.pin(LEDS["amber"]).state
        assert changes(green) == [False, True, False]  # a restarted blink would be lit again
        assert not green.state
    finally:
        daemon.close()


def test_panel_json_is_rewritten_on_change_and_every_ten_seconds(
    tmp_path: Path, factory: MockFactory, box: Box, clock: Clock
) -> None:
    daemon = make_daemon(tmp_path, factory, box, clock)
    try:
        daemon.tick()
        first = panel_json(tmp_path)["updated_at"]
        clock.now += timedelta(seconds=3)
        daemon.tick()
        assert panel_json(tmp_path)["updated_at"] == first  # nothing new to say
        box.state = replace(HEALTHY, disk_low=True)
        daemon.tick()
        changed = panel_json(tmp_path)
        assert changed["updated_at"] == clock.now.isoformat()
        assert changed["leds"]["red"] == "on" and "SD card" in changed["reasons"][0]
        clock.now += timedelta(seconds=10)
        daemon.tick()
        assert panel_json(tmp_path)["updated_at"] == clock.now.isoformat()  # still alive
    finally:
        daemon.close()


def test_holding_the_shutdown_button_blinks_everything_and_powers_off_once(
    tmp_path: Path, factory: MockFactory, box: Box, clock: Clock
) -> None:
    daemon = make_daemon(tmp_path, factory, box, clock, command="/sbin/poweroff --no-wall")
    try:
        daemon.tick()
        button = factory.pin(SHUTDOWN)
        press(factory, SHUTDOWN)  # a short press first: nothing
        for pin in pins(factory).values():
            pin.clear_states()
        started = time.monotonic()
        button.drive_low()
        wait_for(lambda: bool(box.ran), WAIT_S)
        held_after = time.monotonic() - started
        button.drive_high()
        assert box.ran == [["/sbin/poweroff", "--no-wall"]]
        assert held_after >= HOLD_S * 0.9  # the hold did it, not the short press
        assert observe(pins(factory)) == dict.fromkeys(LEDS, "fast")
        clock.now += timedelta(seconds=60)
        daemon.tick()  # the box's state does not take the LEDs back while powering off
        written = panel_json(tmp_path)
        assert written["leds"] == dict.fromkeys(LEDS, "fast")
        assert "Powering off" in written["reasons"][0]
        assert box.ran == [["/sbin/poweroff", "--no-wall"]]
    finally:
        daemon.close()


def test_an_empty_poweroff_command_only_logs_then_the_panel_resumes(
    tmp_path: Path,
    factory: MockFactory,
    box: Box,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="hamletbox.panel")
    daemon = make_daemon(tmp_path, factory, box, clock, command="")
    try:
        daemon.tick()
        for pin in pins(factory).values():
            pin.clear_states()
        factory.pin(SHUTDOWN).drive_low()
        wait_for(lambda: "would power off" in caplog.text, WAIT_S)
        factory.pin(SHUTDOWN).drive_high()
        assert box.ran == []
        assert observe(pins(factory)) == dict.fromkeys(LEDS, "fast")
        clock.now += timedelta(seconds=FEEDBACK_SECONDS)
        for pin in pins(factory).values():
            pin.clear_states()
        daemon.tick()
        assert panel_json(tmp_path)["leds"] == {
            "green": "slow", "blue": "on", "amber": "off", "red": "off",
        }  # fmt: skip
        assert not factory.pin(LEDS["red"]).state and factory.pin(LEDS["blue"]).state
    finally:
        daemon.close()


def test_run_stops_with_every_led_off_and_the_pins_free(
    tmp_path: Path, factory: MockFactory, box: Box, clock: Clock
) -> None:
    box.state = replace(HEALTHY, camera="missing", queue_depth=1)
    daemon = make_daemon(tmp_path, factory, box, clock)
    stopping = threading.Event()
    runner = threading.Thread(target=daemon.run, args=(stopping,))
    runner.start()
    wait_for(lambda: factory.pin(LEDS["red"]).state, WAIT_S)
    stopping.set()
    runner.join(WAIT_S)
    assert not runner.is_alive()
    assert not any(pin.state for pin in pins(factory).values())
    assert panel_json(tmp_path)["leds"] == dict.fromkeys(LEDS, "off")
    LedPanel(LEDS, factory).close()  # would raise GPIOPinInUse if the daemon still held one


def test_a_pin_named_twice_is_refused_before_anything_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path, GPIO + "shutter_pin = 19\n")  # red's pin
    assert run_command(settings) == EX_CONFIG
    err = capsys.readouterr().err
    assert "GPIO 19" in err and "gpio.red_pin" in err and "gpio.shutter_pin" in err
    assert not (tmp_path / "run" / PANEL_FILE).exists()
    assert not settings.database_path.exists()


def test_hamletbox_panel_runs_until_sigterm_and_tells_systemd(tmp_path: Path) -> None:
    """The real command: the real store and runtime files (no web, no relay: green steady)."""
    settings_file = write_settings(tmp_path, GPIO + 'poweroff_command = ""\n')
    notify_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(notify_path))
        notify.settimeout(30)
        env = {**clean_env(), "NOTIFY_SOCKET": str(notify_path)}
        child = subprocess.Popen(
            [*hamletbox_command(settings_file), "panel"], env=env, stderr=subprocess.PIPE
        )
        try:
            assert notify.recv(64) == b"READY=1"
            assert notify.recv(64) == b"WATCHDOG=1"
            written = panel_json(tmp_path)
            assert written["pid"] == child.pid
            assert written["leds"]["green"] == "on"  # the web and the relay are not running
            assert any("web" in reason for reason in written["reasons"])
            child.send_signal(signal.SIGTERM)
            _, err = child.communicate(timeout=30)
            messages = [notify.recv(64)]
            while messages[-1] == b"WATCHDOG=1":
                messages.append(notify.recv(64))
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode == 0, err.decode()
    assert messages[-1] == b"STOPPING=1"
    assert panel_json(tmp_path)["leds"] == dict.fromkeys(LEDS, "off")
    assert "panel stopped" in err.decode()


def test_hamletbox_panel_refuses_a_pin_named_twice(tmp_path: Path) -> None:
    settings_file = write_settings(tmp_path, GPIO + "buzzer_pin = 26\n")  # the shutdown button's
    done = subprocess.run(
        [*hamletbox_command(settings_file), "panel"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EX_CONFIG
    assert "gpio.shutdown_pin" in done.stderr and "gpio.buzzer_pin" in done.stderr
    assert done.stdout == ""  # the message is for the journal


def test_a_pin_another_program_holds_is_a_plain_error(
    tmp_path: Path, factory: MockFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = Button(LEDS["amber"], pin_factory=factory)  # e.g. a leftover script on the pin
    monkeypatch.setattr(panel, "pin_factory", lambda name: factory)
    monkeypatch.setattr(panel, "stop_on_signals", lambda event: None)  # not this test's signals
    try:
        with pytest.raises(PanelError, match="the panel's GPIO pins did not open"):
            run_command(settings_for(tmp_path, GPIO))
    finally:
        holder.close()
    LedPanel({"green": LEDS["green"]}, factory).close()  # the LEDs opened before were let go
