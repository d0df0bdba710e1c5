"""Buttons (and later LEDs and the buzzer) through gpiozero, with the pin factory injected.

gpiozero's own MockFactory is the fake: the demo and the tests press a button by driving its mock
pin low, exactly as the copy stand's button pulls the real pin to ground.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("hamletbox.gpio")

BOUNCE_S = 0.05  # a cheap arcade button chatters for a few milliseconds: one press, one photo


def pin_factory(name: str) -> Any | None:
    """The factory for settings' gpio.pin_factory: "mock" is gpiozero's MockFactory; "native"
    is None, which lets gpiozero pick the Pi's own (lgpio on current Pi OS)."""
    if name == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    if name == "native":
        return None
    raise ValueError(f"unknown pin factory {name!r} (mock or native)")


class Shutter:
    """The station's shutter: a push button between a BCM pin and ground (internal pull-up)."""

    def __init__(self, pin: int, factory: Any | None, bounce_s: float = BOUNCE_S) -> None:
        from gpiozero import Button

        self.pin = pin
        self._button: Any = Button(pin, pull_up=True, bounce_time=bounce_s, pin_factory=factory)

    def when_pressed(self, callback: Callable[[], None]) -> None:
        """Call `callback` on each press, from gpiozero's thread; an error in it is logged, so
        one failed capture does not silence the button."""

        def pressed() -> None:
            try:
                callback()
            except Exception:
                log.exception("shutter callback failed / lỗi khi bấm nút chụp")

        self._button.when_pressed = pressed

    def close(self) -> None:
        self._button.close()
