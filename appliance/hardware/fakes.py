"""Fakes that ship with the code, for the demo and the tests: a person at the box, and a modem.

The folder camera lives beside the real one in appliance/capture/camera.py; pins are gpiozero's
own MockFactory. The fake modem speaks AT over a real pty, so the session that drives a USB modem
on the Pi is the one the tests and the demo exercise.
"""

from __future__ import annotations

import json
import os
import select
import threading
import tty
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.hardware import at
from appliance.hardware.pdu import decode_submit


def press(factory: Any, pin: int) -> None:
    """Press and release a button wired to `pin` (pulled up, so pressed is low) on a MockFactory."""
    mock_pin = factory.pin(pin)
    mock_pin.drive_low()
    mock_pin.drive_high()


@dataclass(frozen=True)
class SentPart:
    """One PDU the fake modem accepted, decoded."""

    number: str  # as dialled in the PDU: "+84912345678"
    text: str
    reference: int  # the +CMGS message reference the fake answered
    concat_ref: int | None = None  # the concatenation reference, None for a single message
    total: int = 1
    index: int = 1
    encoding: str = "gsm7"  # or "ucs2"


@dataclass(frozen=True)
class SentMessage:
    """A whole message as the recipient's phone shows it, its parts joined."""

    number: str
    text: str
    references: tuple[int, ...]


_GARBAGE = b"\r\n\x00\xfe+CS?Q#\r\nOK?\x7f\r\n\xff\xff@E\r\n"
_CRLF = b"\r\n"


class FakeModem:
    """A GSM modem on the master side of a pty: the session under test opens `.path` like a
    real serial device. The attributes below script its behaviour and may change while it runs.
    """

    def __init__(self, *, sim: str = "ready", signal: bool = True) -> None:
        self.sim = sim  # "ready", "absent" (no SIM: +CME ERROR: 10), "pin", "puk"
        self.signal = signal  # False: CSQ 99,99, CREG 0,2, and sends fail with +CMS ERROR: 331
        self.cms_error: int | None = None  # sends fail with +CMS ERROR: n ...
        self.cms_error_after = 0  # ... once this many parts have been accepted
        self.hang = False  # take everything, answer nothing
        self.hang_on: str | None = None  # once: start hanging at a command that starts with
        # this, or at "PDU": when a PDU has come in (did it go out? nobody can tell)
        self.unsolicited: list[str] = []  # lines a real modem volunteers (RING, +CMTI: ...),
        # sent before every answer
        self.garbage = False  # answer every command with noise and no result code
        self.reset_on: str | None = None  # once: restart instead of answering a command that
        # starts with this ("AT+CMGS"), or "PDU": restart when a PDU has come in
        self.sent: list[SentPart] = []
        self.commands: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._log: Path | None = None
        self._next_reference = 1
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._power_on()

    def _power_on(self) -> None:
        self._echo, self._cmee, self._cmgf = True, 0, 1
        self._prompt: int | None = None  # the length AT+CMGS announced while at "> "
        self._input = bytearray()

    def start(self) -> FakeModem:
        self._thread = threading.Thread(target=self._serve, name="fake-modem", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        os.close(self._master)
        os.close(self._slave)

    def __enter__(self) -> FakeModem:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_to(self, path: Path) -> None:
        """Append each completed message to `path` as a JSON line {"to", "text", "refs"} (the
        demo shows them on the technician page)."""
        self._log = path

    def reset(self, *, announce: bool = True) -> None:
        """Restart as a real modem does after a brown-out: echo on, PDU mode forgotten, and
        "RDY" on the line (unless `announce` is false: some modems restart silently)."""
        with self._lock:
            self._restart(announce)

    def stuck_at_prompt(self) -> None:
        """Leave the modem at the `> ` prompt, as a sender that crashed mid-message does."""
        with self._lock:
            self._prompt, self._input = 0, bytearray()

    def messages(self) -> list[SentMessage]:
        """Whole messages: single parts, and concatenated ones whose parts all arrived."""
        groups: dict[tuple[str, int, int], list[SentPart]] = {}
        for part in list(self.sent):
            ref = part.concat_ref  # a single part (None) is a message of its own
            key = (
                (part.number, ref, part.total)
                if ref is not None
                else (part.number, -1, part.reference)
            )
            groups.setdefault(key, []).append(part)
        complete = [
            sorted(parts, key=lambda p: p.index)
            for parts in groups.values()
            if {p.index for p in parts} == set(range(1, parts[0].total + 1))
        ]
        return [
            SentMessage(p[0].number, "".join(x.text for x in p), tuple(x.reference for x in p))
            for p in complete
        ]

    def _serve(self) -> None:
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            with self._lock:
                for byte in data:
                    self._feed(byte)

    def _feed(self, byte: int) -> None:
        if self.hang:
            return
        if self._prompt is not None:
            self._feed_prompt(byte)
        elif byte == 0x0D:
            line, self._input = self._input.decode("ascii", errors="replace"), bytearray()
            self._command(line.strip())
        elif byte not in (0x0A, 0x1B):
            self._input.append(byte)
            if self._echo:
                self._write(bytes([byte]))

    def _feed_prompt(self, byte: int) -> None:
        if byte == 0x1A:
            pdu, length = self._input.decode("ascii", "replace"), self._prompt
            self._prompt, self._input = None, bytearray()
            self._pdu(pdu.strip(), length or 0)
        elif byte == 0x1B:
            self._prompt, self._input = None, bytearray()
            self._answer("OK")
        elif byte not in (0x0A, 0x0D):
            self._input.append(byte)

    def _command(self, line: str) -> None:
        if self._echo:
            self._write(b"\r")
        if not line.upper().startswith("AT"):
            return
        self.commands.append(line)
        command, _, argument = line.upper().partition("=")
        if self._trips(line.upper()):
            return
        elif self.garbage:
            self._write(_GARBAGE)
        elif command == "AT+CMGS" and argument:
            self._cmgs(argument)
        else:
            handler = self._handlers().get(command)
            self._answer(*(handler(argument) if handler else ["ERROR"]))

    def _handlers(self) -> dict[str, Callable[[str], list[str]]]:
        return {
            "AT": lambda _: ["OK"],
            "ATE0": lambda _: self._set("_echo", False),
            "ATE1": lambda _: self._set("_echo", True),
            "AT+CMEE": lambda arg: self._mode("_cmee", arg, 3),
            "AT+CMGF": lambda arg: self._mode("_cmgf", arg, 2),
            "AT+CPIN?": lambda _: self._cpin(),
            "AT+CREG?": lambda _: ["+CREG: 0,1" if self.signal else "+CREG: 0,2", "OK"],
            "AT+CSQ": lambda _: ["+CSQ: 20,0" if self.signal else "+CSQ: 99,99", "OK"],
            "AT+COPS?": lambda _: ['+COPS: 0,0,"Viettel",7' if self.signal else "+COPS: 0", "OK"],
        }

    def _set(self, name: str, value: object) -> list[str]:
        setattr(self, name, value)
        return ["OK"]

    def _mode(self, name: str, argument: str, choices: int) -> list[str]:
        if not argument.isdigit() or int(argument) >= choices:
            return ["ERROR"]
        return self._set(name, int(argument))

    def _cpin(self) -> list[str]:
        words = {"ready": "READY", "pin": "SIM PIN", "puk": "SIM PUK"}
        if self.sim not in words:
            return [at.error_line("cme", 10, self._cmee)]
        return [f"+CPIN: {words[self.sim]}", "OK"]

    def _cmgs(self, argument: str) -> None:
        sim_errors = {"ready": None, "pin": 311, "puk": 316}
        code = 305 if self._cmgf != 0 else sim_errors.get(self.sim, 310)
        if code is not None or not argument.isdigit():
            self._answer(at.error_line("cms", code or 304, self._cmee))
            return
        self._prompt, self._input = int(argument), bytearray()
        self._write(b"\r\n> ")

    def _trips(self, what: str) -> bool:
        """Restart or start hanging here, when scripted to (once)."""
        if self.hang_on is not None and what.startswith(self.hang_on):
            self.hang_on, self.hang = None, True
            return True
        if self.reset_on is not None and what.startswith(self.reset_on):
            self.reset_on = None
            self._restart(True)
            return True
        return False

    def _pdu(self, pdu_hex: str, length: int) -> None:
        if self._trips("PDU"):
            return
        try:
            data = bytes.fromhex(pdu_hex)
            decoded = decode_submit(pdu_hex)
        except (ValueError, IndexError):
            self._answer(at.error_line("cms", 304, self._cmee))
            return
        code = self._send_error(len(data) - 1 - data[0] != length)
        if code is not None:
            self._answer(at.error_line("cms", code, self._cmee))
            return
        reference, self._next_reference = self._next_reference, (self._next_reference + 1) % 256
        ref, total, index = decoded.concat or (None, 1, 1)
        part = SentPart(
            decoded.address, decoded.text, reference, ref, total, index, decoded.encoding
        )
        self.sent.append(part)
        self._answer(f"+CMGS: {reference}", "OK")
        self._log_message()

    def _send_error(self, bad_length: bool) -> int | None:
        if bad_length:
            return 304
        if not self.signal:
            return 331
        if self.cms_error is not None and len(self.sent) >= self.cms_error_after:
            return self.cms_error
        return None

    def _log_message(self) -> None:
        """Log the message the last part completed, if it did."""
        if self._log is None:
            return
        last = self.sent[-1]
        for message in self.messages():
            if last.reference in message.references and message.number == last.number:
                record = {"to": message.number, "text": message.text, "refs": message.references}
                with self._log.open("a", encoding="utf-8") as file:
                    file.write(json.dumps(record, ensure_ascii=False) + "\n")

    def _restart(self, announce: bool) -> None:
        self._power_on()
        if announce:
            self._answer("RDY")

    def _answer(self, *lines: str) -> None:
        every = [*self.unsolicited, *lines]
        self._write(b"".join(_CRLF + line.encode("ascii") + _CRLF for line in every))

    def _write(self, data: bytes) -> None:
        os.write(self._master, data)
