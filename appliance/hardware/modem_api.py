"""The GSM modem as the rest of the box sees it: the Protocol, its status and its one error.

The AT session over pyserial (appliance.hardware.modem.SerialModem) and the fake over a pty
(appliance.hardware.fakes.FakeModem) both speak it; the SMS sender and `hamletbox sms` need only
this.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from appliance.errors import HamletBoxError

SIM_STATES = ("ready", "pin", "puk", "absent", "error", "unknown")
REGISTRATIONS = ("home", "roaming", "searching", "denied", "not_registered", "unknown")


class ModemError(HamletBoxError):
    """The modem refused or did not answer. The message is "Vietnamese / English" and plain;
    `transient` says whether trying again later may work (no signal, network busy, a SIM problem
    a technician can fix) or not (a number the network refuses); `code` is the +CMS/+CME number
    when there was one.
    `maybe_sent`: the modem went quiet after taking a part, so the message may have gone out and
    must not be resent by itself (the outbox marks it "unsure")."""

    def __init__(
        self, message: str, *, transient: bool, code: int | None = None, maybe_sent: bool = False
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code
        self.maybe_sent = maybe_sent


@dataclass(frozen=True)
class ModemStatus:
    sim: str  # one of SIM_STATES
    registration: str  # one of REGISTRATIONS
    signal_dbm: int | None  # None: unknown (AT+CSQ 99) or not asked
    operator: str | None = None  # the network's name, when the modem says

    @property
    def can_send(self) -> bool:
        return self.sim == "ready" and self.registration in ("home", "roaming")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Modem(Protocol):
    """What the box needs of a GSM modem. Every call has a timeout; errors are ModemError."""

    def status(self) -> ModemStatus:
        """SIM state, network registration and signal."""
        ...

    def send_sms(self, to: str, text: str) -> list[int]:
        """Send `text` to the Vietnamese mobile number `to` ("0912345678"), as one message or
        concatenated parts, GSM-7 when every character allows it, UCS-2 otherwise; the message
        references the network gave, one per part."""
        ...

    def close(self) -> None: ...
