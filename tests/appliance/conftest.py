"""Fixtures for the box's core: the fake GSM modem over a real pty, gpiozero's mock pins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.hardware.fakes import FakeModem


@pytest.fixture
def fake() -> Iterator[FakeModem]:
    """A FakeModem serving its pty; `fake.path` goes where a serial device would."""
    with FakeModem() as modem:
        yield modem


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    """gpiozero's own fake pins, closed (and every device on them released) at the end."""
    made = MockFactory()
    yield made
    made.close()
