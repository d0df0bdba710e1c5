"""Fixtures for the box's core: the fake GSM modem, speaking AT over a real pty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance.hardware.fakes import FakeModem


@pytest.fixture
def fake() -> Iterator[FakeModem]:
    """A FakeModem serving its pty; `fake.path` goes where a serial device would."""
    with FakeModem() as modem:
        yield modem
