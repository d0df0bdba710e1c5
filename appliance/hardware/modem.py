"""The GSM modem's AT session over pyserial (the Protocol it meets is in modem_api.py).

Only the relay process holds the modem (ARCHITECTURE.md); `services.build(..., modem=True)` opens
it from settings (`modem.url`), and `hamletbox sms` opens one for a single command. The fake that
ships with the code (appliance.hardware.fakes.FakeModem) speaks AT over a pty, so this same
session is what the tests and the demo drive.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from appliance.domain.phone import PhoneError, normalize_vn_mobile
from appliance.hardware import at
from appliance.hardware.modem_api import Modem, ModemError, ModemStatus
from appliance.hardware.pdu import Pdu, submit_pdus

if TYPE_CHECKING:
    from appliance.config import Settings

_T = TypeVar("_T")


class _Reset(Exception):
    """The modem restarted under us (it said RDY, or echoed a command after ATE0)."""

    def __init__(self) -> None:
        super().__init__("modem khởi động lại / the modem restarted")


class _Refused(Exception):
    """The modem ended a command with ERROR, +CMS ERROR or +CME ERROR."""

    def __init__(self, final: at.Final) -> None:
        super().__init__(final)
        self.final = final


def refusal(final: at.Final) -> ModemError:
    info = at.describe(final)
    return ModemError(info.message, transient=info.transient, code=final.code)


READ_SLICE = 0.05  # seconds one read may block, so every loop looks at its deadline this often
PROBE_WAIT = 0.5  # seconds to wait for OK to one AT while recovering a stuck modem
QUIET = 0.1  # seconds of silence that tell a modem has finished talking
_MAYBE_SENT = (
    "Modem ngừng giữa lúc gửi, tin nhắn có thể đã đi / "
    "The modem stopped mid-send; the message may have been sent"
)


class SerialModem:
    """One AT session on a serial port (a pyserial object). Every wait has a deadline; a lock
    keeps the relay's status polls and sends from interleaving on the port."""

    def __init__(
        self,
        port: Any,
        *,
        timeout: float,
        send_timeout: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._port = port
        self._timeout = timeout
        self._send_timeout = 6 * timeout if send_timeout is None else send_timeout
        self._rng = rng or random.SystemRandom()
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self._ready = False
        self._echo = True
        self._initialising = False

    def init(self) -> None:
        """Bring the modem to a known state: out of a stale `> ` prompt, echo off, PDU mode."""
        with self._lock:
            self._init()

    def status(self) -> ModemStatus:
        with self._lock:
            self._ensure_ready()
            sim = self._sim()
            registration = self._query(at.CREG, "+CREG:", at.parse_creg) or "unknown"
            signal = self._query(at.CSQ, "+CSQ:", at.parse_csq)
            operator = self._query(at.COPS, "+COPS:", at.parse_cops)
        return ModemStatus(sim, registration, signal, operator)

    def send_sms(self, to: str, text: str) -> list[int]:
        try:
            number = normalize_vn_mobile(to)
        except PhoneError as exc:
            raise ModemError(str(exc), transient=False) from None
        try:
            pdus = submit_pdus("+84" + number[1:], text, reference=self._rng.randrange(256))
        except ValueError as exc:
            raise ModemError(
                f"Tin nhắn quá dài / Message too long: {exc}", transient=False
            ) from None
        references: list[int] = []
        with self._lock:
            self._ensure_ready()
            for pdu in pdus:
                try:
                    references.append(self._send_part(pdu))
                except ModemError as exc:
                    if references and not exc.maybe_sent:
                        raise ModemError(
                            f"{exc} ({len(references)}/{len(pdus)}: {_MAYBE_SENT})",
                            transient=False,
                            code=exc.code,
                            maybe_sent=True,
                        ) from None
                    raise
        return references

    def close(self) -> None:
        with self._lock:
            self._port.close()

    def _ensure_ready(self) -> None:
        if not self._ready:
            self._init()

    def _init(self) -> None:
        self._initialising = True
        try:
            self._recover_prompt()
            self._echo = True
            for command in at.INIT:
                try:
                    self._exchange(command, None)
                except _Refused as exc:
                    raise refusal(exc.final) from None
                if command == "ATE0":
                    self._echo = False
            self._ready = True
        finally:
            self._initialising = False

    def _recover_prompt(self) -> None:
        """ESC ends a `> ` prompt a crashed sender left open (nothing is sent); then AT until OK,
        and quiet, so no late answer is taken for the next command's."""
        deadline = time.monotonic() + self._timeout
        self._write(at.ESC)
        self._settle(deadline)
        while True:
            try:
                self._exchange(at.PROBE, None, min(PROBE_WAIT, self._timeout))
                self._settle(deadline)
                return
            except (_Refused, ModemError):
                if time.monotonic() >= deadline:
                    raise ModemError(
                        f"Modem không trả lời lệnh AT trong {self._timeout:g} giây / "
                        f"The modem does not answer AT within {self._timeout:g} s",
                        transient=True,
                    ) from None

    def _settle(self, deadline: float) -> None:
        """Drop what the modem says until it has been quiet for QUIET seconds (or the deadline):
        the rest of an answer cut short by a restart or a timeout."""
        quiet_until = time.monotonic() + QUIET
        while (now := time.monotonic()) < min(deadline, quiet_until):
            if self._port.read(max(1, self._port.in_waiting)):
                quiet_until = now + QUIET
        self._buffer.clear()

    def _sim(self) -> str:
        try:
            answers = self._run(at.CPIN, "+CPIN:")
        except _Refused as exc:
            return at.sim_from_error(exc.final)
        return at.parse_cpin(answers[0]) if answers else "unknown"

    def _query(self, command: str, prefix: str, parse: Callable[[str], _T]) -> _T | None:
        """One status question; a refusal or a missing answer reads as "not known"."""
        try:
            answers = self._run(command, prefix)
        except _Refused:
            return None
        return parse(answers[0]) if answers else None

    def _run(self, command: str, prefix: str | None, *, prompt: bool = False) -> list[str]:
        """A command that is safe to repeat: after a modem restart, initialise and ask again."""
        try:
            return self._exchange(command, prefix, prompt=prompt)
        except _Reset:
            self._init()
        try:
            return self._exchange(command, prefix, prompt=prompt)
        except _Reset:
            self._ready = False
            message = "Modem cứ khởi động lại / The modem keeps restarting"
            raise ModemError(message, transient=True) from None

    def _exchange(
        self, command: str, prefix: str | None, wait: float | None = None, *, prompt: bool = False
    ) -> list[str]:
        self._drain()
        self._write(at.command_line(command))
        deadline = time.monotonic() + (wait or self._timeout)
        return self._answer(deadline, command, prefix, prompt=prompt)

    def _answer(
        self, deadline: float, command: str | None, prefix: str | None, *, prompt: bool = False
    ) -> list[str]:
        """Lines up to the final result, or up to the `> ` prompt when that is awaited (an OK
        then is a late one). Only lines starting with `prefix` are kept, so unsolicited ones
        (RING, +CMTI, ^RSSI...) and garbage pass by."""
        answers: list[str] = []
        while not (prompt and at.take_prompt(self._buffer)):
            line = at.pop_line(self._buffer)
            if line is None:
                self._fill(deadline)
                continue
            final = at.final_result(line)
            if final is not None and not final.ok:
                raise _Refused(final)
            if final is not None and not prompt:
                return answers
            self._check_reset(line, command)
            found = at.value(line, prefix) if prefix else None
            if found is not None:
                answers.append(found)
        return answers

    def _send_part(self, pdu: Pdu) -> int:
        """AT+CMGS up to the prompt (repeated after a restart: nothing has gone yet), then the
        PDU, which is never repeated."""
        try:
            self._run(at.cmgs(pdu.length), None, prompt=True)
        except _Refused as exc:
            raise refusal(exc.final) from None
        return self._submit(pdu)

    def _submit(self, pdu: Pdu) -> int:
        """Write the PDU and Ctrl-Z. From here on nothing is retried: without the +CMGS answer
        nobody knows whether the network took the part."""
        self._write(pdu.hex.encode("ascii") + at.CTRL_Z)
        try:
            answers = self._answer(time.monotonic() + self._send_timeout, None, "+CMGS:")
        except _Refused as exc:
            raise refusal(exc.final) from None
        except (_Reset, ModemError) as exc:
            self._ready = False
            raise ModemError(f"{_MAYBE_SENT}: {exc}", transient=False, maybe_sent=True) from None
        reference = at.parse_cmgs(answers[0]) if answers else None
        if reference is None:
            raise ModemError(_MAYBE_SENT, transient=False, maybe_sent=True)
        return reference

    def _check_reset(self, line: str, command: str | None) -> None:
        echoed = command is not None and not self._echo and line == command
        if (line in at.RESET_MARKS or echoed) and not self._initialising:
            self._ready = False
            raise _Reset()

    def _drain(self) -> None:
        """Read what came in between commands; a restart announced there is acted on first."""
        waiting = self._port.in_waiting
        if waiting:
            self._buffer += self._port.read(waiting)
        lines = []
        while (line := at.pop_line(self._buffer)) is not None:
            lines.append(line)
        self._buffer.clear()
        for line in lines:
            self._check_reset(line, None)

    def _fill(self, deadline: float) -> None:
        if time.monotonic() >= deadline:
            self._ready = False
            message = "Modem không trả lời kịp / The modem did not answer in time"
            raise ModemError(message, transient=True)
        self._buffer += self._port.read(max(1, self._port.in_waiting))

    def _write(self, data: bytes) -> None:
        self._port.write(data)
        self._port.flush()


def open_modem(settings: Settings) -> Modem | None:
    """The configured modem, initialised; None when none is configured (modem.url empty)."""
    url = settings.modem.url
    if not url:
        return None
    import serial

    try:
        port = serial.serial_for_url(url, baudrate=settings.modem.baudrate, timeout=READ_SLICE)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise ModemError(
            f"Không mở được cổng modem {url} / Cannot open the modem port {url}: {exc}",
            transient=True,
        ) from None
    return started(SerialModem(port, timeout=settings.modem.timeout_seconds), port)


def started(modem: SerialModem, port: Any) -> SerialModem:
    """`modem` initialised, or its port closed and the ModemError raised."""
    try:
        modem.init()
    except ModemError:
        port.close()
        raise
    return modem
