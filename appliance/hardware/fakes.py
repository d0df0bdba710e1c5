"""Fakes that ship with the code, for the demo and the tests (the modem's arrives with the relay).

The folder camera lives beside the real one in appliance/capture/camera.py; pins are gpiozero's
own MockFactory. What is here scripts a person at the box.
"""

from __future__ import annotations

from typing import Any


def press(factory: Any, pin: int) -> None:
    """Press and release a button wired to `pin` (pulled up, so pressed is low) on a MockFactory."""
    mock_pin = factory.pin(pin)
    mock_pin.drive_low()
    mock_pin.drive_high()
