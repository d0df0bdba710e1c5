"""Buttons, LEDs and the buzzer through gpiozero, with the pin factory injected.

gpiozero's own MockFactory is the fake: the demo and the tests press a button by driving its mock
pin low, exactly as the copy stand's button pulls the real pin to ground, and read an LED's
timeline from its mock pin's recorded states.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from appliance.config import GPIO_PINS
from appliance.domain.panel import BLINK_SECONDS

if TYPE_CHECKING:
    from appliance.config import Settings

log = logging.getLogger("hamletbox.gpio")

BOUNCE_S = 0.05  # a cheap arcade button chatters for a few milliseconds: one press, one photo
BEEP_S = 0.1  # the buzzer's short beep: heard at the copy stand, not across the room


def pin_factory(name: str) -> Any | None:
    """The factory for settings' gpio.pin_factory: "mock" is gpiozero's MockFactory; "native"
    is None, which lets gpiozero pick the Pi's own (lgpio on current Pi OS)."""
    if name == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    if name == "native":
        return None
    raise ValueError(f"unknown pin factory {name!r} (mock or native)")


def pin_conflicts(settings: Settings, involving: str | None = None) -> list[str]:
    """One plain message per BCM pin named by more than one gpio.*_pin setting; with `involving`
    ("shutter_pin"…) only the conflicts that setting is part of. Two devices on one wire would
    fight over it, so whoever opens pins refuses these."""
    by_pin: dict[int, list[str]] = defaultdict(list)
    for name in GPIO_PINS:
        pin = getattr(settings.gpio, name)
        if pin is not None:
            by_pin[pin].append(f"gpio.{name}")
    return [
        f"GPIO {pin} được đặt cho nhiều chức năng: {' và '.join(names)} / "
        f"GPIO {pin} is set for more than one use: {' and '.join(names)}"
        for pin, names in sorted(by_pin.items())
        if len(names) > 1 and (involving is None or f"gpio.{involving}" in names)
    ]


def _logged(callback: Callable[[], None], what: str, vi: str) -> Callable[[], None]:
    """`callback` for gpiozero's thread: an error in it is logged, so one failure does not
    silence the button."""

    def call() -> None:
        try:
            callback()
        except Exception:
            log.exception("%s callback failed / %s", what, vi)

    return call


class Shutter:
    """The station's shutter: a push button between a BCM pin and ground (internal pull-up)."""

    def __init__(self, pin: int, factory: Any | None, bounce_s: float = BOUNCE_S) -> None:
        from gpiozero import Button

        self.pin = pin
        self._button: Any = Button(pin, pull_up=True, bounce_time=bounce_s, pin_factory=factory)

    def when_pressed(self, callback: Callable[[], None]) -> None:
        """Call `callback` on each press, from gpiozero's thread."""
        self._button.when_pressed = _logged(callback, "shutter", "lỗi khi bấm nút chụp")

    def close(self) -> None:
        self._button.close()


class ShutdownButton:
    """The panel's shutdown button (to ground, internal pull-up): only a hold counts, so a knock
    or a child's press never powers the box off."""

    def __init__(self, pin: int, factory: Any | None, hold_s: float) -> None:
        from gpiozero import Button

        self.pin = pin
        self._button: Any = Button(
            pin, pull_up=True, bounce_time=BOUNCE_S, hold_time=hold_s, pin_factory=factory
        )

    def when_held(self, callback: Callable[[], None]) -> None:
        """Call `callback` once per hold of `hold_s`, from gpiozero's thread."""
        self._button.when_held = _logged(callback, "shutdown button", "lỗi ở nút tắt máy")

    def close(self) -> None:
        self._button.close()


class LedPanel:
    """The panel's LEDs by colour; a colour without a pin is not fitted and is skipped (the
    virtual panel on the technician page still shows it)."""

    def __init__(self, pins: Mapping[str, int | None], factory: Any | None) -> None:
        from gpiozero import LED

        self._leds: dict[str, Any] = {}
        try:
            for colour, pin in pins.items():
                if pin is not None:
                    self._leds[colour] = LED(pin, pin_factory=factory)
        except Exception:
            self.close()
            raise

    def show(self, colour: str, pattern: str) -> None:
        """Light one LED "off", "on", "slow" or "fast" (blinking in gpiozero's thread)."""
        led = self._leds.get(colour)
        if led is None:
            return
        if pattern == "on":
            led.on()
        elif pattern == "off":
            led.off()
        else:
            on_s, off_s = BLINK_SECONDS[pattern]
            led.blink(on_time=on_s, off_time=off_s, background=True)

    def close(self) -> None:
        """All LEDs off, pins released."""
        for led in self._leds.values():
            led.off()
            led.close()
        self._leds.clear()


class Buzzer(Protocol):
    """The station's buzzer: a short beep that never blocks the request that asks for it."""

    def beep(self) -> None: ...

    def close(self) -> None: ...


class GpioBuzzer:
    """An active buzzer on a BCM pin (it sounds while the pin is high)."""

    def __init__(self, pin: int, factory: Any | None) -> None:
        from gpiozero import Buzzer as GpiozeroBuzzer

        self.pin = pin
        self._device: Any = GpiozeroBuzzer(pin, pin_factory=factory)

    def beep(self) -> None:
        self._device.blink(on_time=BEEP_S, off_time=0, n=1, background=True)

    def close(self) -> None:
        self._device.close()
