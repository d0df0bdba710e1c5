"""The shutter button, scripted on gpiozero's MockFactory: press the pin, a photo is asked for."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.hardware import gpio
from appliance.hardware.fakes import press
from appliance.hardware.gpio import Shutter, pin_factory

PIN = 17
WAIT_S = 2.0


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    made = MockFactory()
    yield made
    made.close()


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
