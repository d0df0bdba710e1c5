"""The panel's and the station's GPIO devices, scripted on gpiozero's MockFactory: press a pin, a
photo or a poweroff is asked for; light an LED, its mock pin records the timeline."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from appliance import config
from appliance.hardware import gpio
from appliance.hardware.fakes import press
from appliance.hardware.gpio import (
    GpioBuzzer,
    LedPanel,
    ShutdownButton,
    Shutter,
    pin_conflicts,
    pin_factory,
)
from tests.appliance.relay.helpers import wait_for
from tests.conftest import write_settings
from tests.support.leds import changes, observe

PIN = 17
WAIT_S = 2.0


@pytest.fixture
def shutter(factory: MockFactory) -> Iterator[Shutter]:
    button = Shutter(PIN, factory)
    yield button
    button.close()


def test_pressing_the_button_calls_back(factory: MockFactory, shutter: Shutter) -> None:
    pressed = threading.Event()
    shutter.when_pressed(pressed.set)
    assert not pressed.is_set()
    factory.pin(PIN).drive_low()  # the button pulls the pin to ground
    assert pressed.wait(WAIT_S)


def test_each_press_is_one_call(factory: MockFactory, shutter: Shutter) -> None:
    count = 0
    third = threading.Event()

    def counted() -> None:
        nonlocal count
        count += 1
        if count == 3:
            third.set()

    shutter.when_pressed(counted)
    for _ in range(3):
        press(factory, PIN)
    assert third.wait(WAIT_S)
    factory.pin(PIN).drive_high()  # releasing an already released button: nothing
    assert count == 3


def test_failing_callback_is_logged_and_the_button_keeps_working(
    factory: MockFactory, shutter: Shutter, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []
    second = threading.Event()

    def flaky() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("camera busy")
        second.set()

    caplog.set_level(logging.ERROR, logger=gpio.log.name)
    shutter.when_pressed(flaky)
    press(factory, PIN)
    press(factory, PIN)
    assert second.wait(WAIT_S)
    assert "shutter callback failed" in caplog.text
    assert "camera busy" in caplog.text


def test_closed_shutter_frees_its_pin(factory: MockFactory) -> None:
    first = Shutter(PIN, factory)
    pressed = threading.Event()
    first.when_pressed(pressed.set)
    first.close()
    press(factory, PIN)
    assert not pressed.is_set()
    second = Shutter(PIN, factory)  # would raise GPIOPinInUse if the pin were still held
    second.close()


def test_pin_factory_from_settings() -> None:
    mock = pin_factory("mock")
    assert isinstance(mock, MockFactory)
    mock.close()
    assert pin_factory("native") is None
    with pytest.raises(ValueError, match="unknown pin factory"):
        pin_factory("pigpio")


LED_PINS = {"green": 5, "blue": 6, "amber": 13, "red": 19}
HOLD_S = 0.5


@pytest.mark.parametrize(
    "shown",
    [
        {"green": "slow", "blue": "on", "amber": "off", "red": "fast"},
        {"green": "on", "blue": "fast", "amber": "slow", "red": "off"},
    ],
)
def test_leds_show_each_pattern(factory: MockFactory, shown: dict[str, str]) -> None:
    panel = LedPanel(LED_PINS, factory)
    try:
        for colour, pattern in shown.items():
            panel.show(colour, pattern)
        pins = {colour: factory.pin(pin) for colour, pin in LED_PINS.items()}
        assert observe(pins) == shown
        steady = [colour for colour, pattern in shown.items() if pattern in ("on", "off")]
        for colour in steady:  # lit once and left alone, or never lit
            assert changes(pins[colour]) == ([False, True] if shown[colour] == "on" else [False])
    finally:
        panel.close()


def test_closing_the_panel_turns_every_led_off_and_frees_the_pins(factory: MockFactory) -> None:
    panel = LedPanel(LED_PINS, factory)
    panel.show("green", "fast")
    panel.show("red", "on")
    panel.close()
    assert not any(factory.pin(pin).state for pin in LED_PINS.values())
    LedPanel(LED_PINS, factory).close()  # would raise GPIOPinInUse if a pin were still held


def test_a_colour_without_a_pin_is_skipped(factory: MockFactory) -> None:
    panel = LedPanel({"green": 5, "blue": None}, factory)
    try:
        panel.show("blue", "on")  # not fitted: nothing to light, nothing raised
        panel.show("green", "on")
        assert factory.pin(5).state
    finally:
        panel.close()


def test_holding_the_shutdown_button_calls_back_once(factory: MockFactory) -> None:
    button = ShutdownButton(26, factory, HOLD_S)
    held = threading.Event()
    calls: list[float] = []

    def on_hold() -> None:
        calls.append(0)
        held.set()

    button.when_held(on_hold)
    try:
        pin = factory.pin(26)
        pin.drive_low()
        assert held.wait(WAIT_S)
        pin.drive_high()
        assert calls == [0]
    finally:
        button.close()


def test_a_short_press_of_the_shutdown_button_is_not_a_hold(factory: MockFactory) -> None:
    button = ShutdownButton(26, factory, HOLD_S)
    held: list[float] = []
    button.when_held(lambda: held.append(time.monotonic()))
    try:
        press(factory, 26)  # pressed and released at once
        pin = factory.pin(26)
        started = time.monotonic()
        pin.drive_low()  # then a real hold: the only call, a whole hold after it began
        wait_for(lambda: bool(held), WAIT_S)
        pin.drive_high()
        assert len(held) == 1
        assert held[0] - started >= HOLD_S * 0.9
    finally:
        button.close()


def test_buzzer_beeps_once_without_blocking(factory: MockFactory) -> None:
    buzzer = GpioBuzzer(12, factory)
    try:
        pin = factory.pin(12)
        buzzer.beep()
        wait_for(lambda: len(pin.states) >= 3, WAIT_S)
        assert changes(pin) == [False, True, False]
        assert pin.states[2].timestamp < 1.0  # a short beep, not a held note
    finally:
        buzzer.close()


def settings_with_pins(tmp_path: Path, pins: str) -> config.Settings:
    return config.load(write_settings(tmp_path, f"[gpio]\n{pins}"), environ={})


def test_pin_conflicts_name_both_settings(tmp_path: Path) -> None:
    settings = settings_with_pins(
        tmp_path, "shutter_pin = 17\ngreen_pin = 17\nbuzzer_pin = 12\nred_pin = 12\nblue_pin = 6\n"
    )
    found = pin_conflicts(settings)
    assert len(found) == 2
    assert "GPIO 12" in found[0] and "gpio.red_pin" in found[0] and "gpio.buzzer_pin" in found[0]
    assert "GPIO 17" in found[1] and "gpio.shutter_pin" in found[1] and "gpio.green_pin" in found[1]
    assert all(" / " in message for message in found)  # Vietnamese / English
    assert pin_conflicts(settings, involving="shutter_pin") == [found[1]]
    assert pin_conflicts(settings, involving="blue_pin") == []


def test_distinct_pins_have_no_conflict(tmp_path: Path) -> None:
    settings = settings_with_pins(tmp_path, "shutter_pin = 17\ngreen_pin = 5\nbuzzer_pin = 12\n")
    assert pin_conflicts(settings) == []
