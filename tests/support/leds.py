"""Reading what an LED showed off gpiozero's mock pin: MockPin.states is its timeline, a list of
PinState(seconds since the previous change, state), one entry per change.

A blink shows as a complete on phase (a rise, then a fall); how long it stayed on tells slow (1 s)
from fast (0.2 s), with a wide margin. A pin that shows no complete on phase during the
observation window is steady: lit or dark.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

OBSERVE_S = 2.5  # longer than a slow blink's on phase (1 s), with room for a loaded machine
SLOW_MIN_S = 0.7  # an on phase at least this long is a slow blink; a fast one lasts 0.2 s


def blink_of(pin: Any) -> str | None:
    """ "slow" or "fast" once the timeline holds a complete on phase; None before that."""
    states = list(pin.states)  # gpiozero's blink thread appends meanwhile
    for index in range(1, len(states) - 1):
        if states[index].state:
            return "slow" if states[index + 1].timestamp >= SLOW_MIN_S else "fast"
    return None


def observe(pins: Mapping[str, Any], window: float = OBSERVE_S) -> dict[str, str]:
    """Each pin's pattern ("off", "on", "slow", "fast"): watch until every pin has blinked once
    or the window has passed (a steady pin needs the whole window to be told from a slow blink)."""
    deadline = time.monotonic() + window
    while time.monotonic() < deadline and any(blink_of(pin) is None for pin in pins.values()):
        time.sleep(0.05)
    return {name: blink_of(pin) or ("on" if pin.state else "off") for name, pin in pins.items()}


def changes(pin: Any) -> list[bool]:
    """The timeline's states alone: [False, True] is "lit once and stayed lit"."""
    return [bool(state.state) for state in pin.states]
