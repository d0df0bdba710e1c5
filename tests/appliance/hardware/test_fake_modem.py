"""The fake modem, spoken to in raw AT over its pty: it must behave like the real thing for the
session's tests to mean anything."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from appliance.hardware import at
from appliance.hardware.fakes import FakeModem, SentMessage, SentPart
from appliance.hardware.pdu import submit_pdus

WAIT = 5.0
CTRL_Z, ESC = b"\x1a", b"\x1b"


class Terminal:
    """A person at a serial terminal: type, then read until the expected text shows up."""

    def __init__(self, fake: FakeModem) -> None:
        self.port = serial.serial_for_url(fake.path, timeout=0.05)

    def type(self, data: bytes, until: bytes = b"OK\r\n") -> bytes:
        self.port.write(data)
        received = b""
        deadline = time.monotonic() + WAIT
        while until not in received and time.monotonic() < deadline:
            received += self.port.read(256)
        assert until in received, received
        return received

    def answer(self, data: bytes) -> bytes:
        """Type, then read up to the final result line (OK, ERROR, +CMS/+CME ERROR)."""
        self.port.write(data)
        received = b""
        deadline = time.monotonic() + WAIT
        while not self._finished(received) and time.monotonic() < deadline:
            received += self.port.read(256)
        assert self._finished(received), received
        return received

    @staticmethod
    def _finished(received: bytes) -> bool:
        lines = received.decode("ascii", "replace").split("\r\n")
        return any(at.final_result(line) for line in lines[:-1])

    def silence(self, data: bytes, window: float = 0.3) -> bytes:
        """What comes back within `window` seconds (for a modem that should say nothing)."""
        self.port.write(data)
        received = b""
        deadline = time.monotonic() + window
        while time.monotonic() < deadline:
            received += self.port.read(256)
        return received


@pytest.fixture
def term(fake: FakeModem) -> Iterator[Terminal]:
    terminal = Terminal(fake)
    yield terminal
    terminal.port.close()


def pdu_mode(term: Terminal) -> None:
    term.type(b"ATE0\r")
    term.type(b"AT+CMEE=1\r")
    term.type(b"AT+CMGF=0\r")


def test_echo_until_ate0(term: Terminal) -> None:
    assert term.type(b"AT\r") == b"AT\r\r\nOK\r\n"
    assert term.type(b"ATE0\r") == b"ATE0\r\r\nOK\r\n"
    assert term.type(b"AT\r") == b"\r\nOK\r\n"
    assert term.answer(b"AT+NOPE\r") == b"\r\nERROR\r\n"


@pytest.mark.parametrize(
    ("mode", "answer"),
    [
        (0, b"\r\nERROR\r\n"),
        (1, b"\r\n+CME ERROR: 10\r\n"),
        (2, b"\r\n+CME ERROR: SIM not inserted\r\n"),
    ],
)
def test_no_sim_in_each_cmee_mode(
    fake: FakeModem, term: Terminal, mode: int, answer: bytes
) -> None:
    fake.sim = "absent"
    term.type(b"ATE0\r")
    term.type(f"AT+CMEE={mode}\r".encode())
    assert term.answer(b"AT+CPIN?\r") == answer


def test_status_answers(fake: FakeModem, term: Terminal) -> None:
    term.type(b"ATE0\r")
    assert term.type(b"AT+CPIN?\r") == b"\r\n+CPIN: READY\r\n\r\nOK\r\n"
    assert term.type(b"AT+CREG?\r") == b"\r\n+CREG: 0,1\r\n\r\nOK\r\n"
    assert term.type(b"AT+CSQ\r") == b"\r\n+CSQ: 20,0\r\n\r\nOK\r\n"
    assert term.type(b"AT+COPS?\r") == b'\r\n+COPS: 0,0,"Viettel",7\r\n\r\nOK\r\n'
    fake.signal = False
    assert term.type(b"AT+CREG?\r") == b"\r\n+CREG: 0,2\r\n\r\nOK\r\n"
    assert term.type(b"AT+CSQ\r") == b"\r\n+CSQ: 99,99\r\n\r\nOK\r\n"
    assert term.type(b"AT+COPS?\r") == b"\r\n+COPS: 0\r\n\r\nOK\r\n"


def test_cmgs_needs_pdu_mode(term: Terminal) -> None:
    term.type(b"ATE0\r")
    term.type(b"AT+CMEE=1\r")
    assert term.answer(b"AT+CMGS=23\r") == b"\r\n+CMS ERROR: 305\r\n"


def test_prompt_pdu_and_reference(fake: FakeModem, term: Terminal) -> None:
    pdu_mode(term)
    [pdu] = submit_pdus("+84912345678", "Xin chào", reference=0)
    assert term.type(f"AT+CMGS={pdu.length}\r".encode(), b"> ") == b"\r\n> "
    assert term.type(pdu.hex.encode() + CTRL_Z) == b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
    assert fake.sent == [SentPart("+84912345678", "Xin chào", 1)]
    term.type(f"AT+CMGS={pdu.length}\r".encode(), b"> ")
    assert term.type(pdu.hex.encode() + CTRL_Z, b"OK\r\n").startswith(b"\r\n+CMGS: 2\r\n")


def test_esc_cancels_and_a_wrong_length_is_refused(fake: FakeModem, term: Terminal) -> None:
    pdu_mode(term)
    [pdu] = submit_pdus("+84912345678", "x", reference=0)
    term.type(f"AT+CMGS={pdu.length}\r".encode(), b"> ")
    assert term.type(pdu.hex.encode() + ESC) == b"\r\nOK\r\n"
    term.type(f"AT+CMGS={pdu.length + 1}\r".encode(), b"> ")
    assert term.answer(pdu.hex.encode() + CTRL_Z) == b"\r\n+CMS ERROR: 304\r\n"
    assert fake.sent == []


def test_cms_error_on_send(fake: FakeModem, term: Terminal) -> None:
    pdu_mode(term)
    fake.cms_error = 28
    [pdu] = submit_pdus("+84912345678", "x", reference=0)
    term.type(f"AT+CMGS={pdu.length}\r".encode(), b"> ")
    assert term.answer(pdu.hex.encode() + CTRL_Z) == b"\r\n+CMS ERROR: 28\r\n"
    assert fake.sent == []


def test_messages_join_complete_parts_and_log(
    fake: FakeModem, term: Terminal, tmp_path: Path
) -> None:
    log = tmp_path / "sms.jsonl"
    fake.log_to(log)
    pdu_mode(term)
    text = "Hồ sơ của ông/bà đã có kết quả, mời đến nhà văn hóa thôn nhận. " * 2
    first, second = submit_pdus("+84912345678", text, reference=77)
    for pdu in (second, first):
        term.type(f"AT+CMGS={pdu.length}\r".encode(), b"> ")
        term.type(pdu.hex.encode() + CTRL_Z)
        if pdu is second:
            assert fake.messages() == []  # half a message is not a message
            assert not log.exists()
    assert fake.messages() == [SentMessage("+84912345678", text, (2, 1))]  # in index order
    [line] = log.read_text(encoding="utf-8").splitlines()
    assert json.loads(line) == {"to": "+84912345678", "text": text, "refs": [2, 1]}


def test_reset_says_rdy_and_forgets_the_mode(fake: FakeModem, term: Terminal) -> None:
    pdu_mode(term)
    fake.reset()
    assert term.type(b"", b"RDY\r\n") == b"\r\nRDY\r\n"
    assert term.type(b"AT\r") == b"AT\r\r\nOK\r\n"  # echo is back
    assert term.answer(b"AT+CMGS=10\r") == b"AT+CMGS=10\r\r\nERROR\r\n"


def test_hang_and_garbage_never_give_a_result(fake: FakeModem, term: Terminal) -> None:
    term.type(b"ATE0\r")
    fake.hang = True
    assert term.silence(b"AT\r") == b""
    fake.hang = False
    fake.garbage = True
    noise = term.type(b"AT\r", b"@E\r\n")
    assert b"OK\r\n" not in noise.replace(b"OK?", b"")
    fake.garbage = False
    assert term.type(b"AT\r") == b"\r\nOK\r\n"


def test_stuck_at_prompt_takes_commands_as_pdu_until_esc(fake: FakeModem, term: Terminal) -> None:
    fake.stuck_at_prompt()
    assert term.silence(b"AT\r") == b""
    assert term.type(ESC) == b"\r\nOK\r\n"
    assert term.type(b"AT\r") == b"AT\r\r\nOK\r\n"
