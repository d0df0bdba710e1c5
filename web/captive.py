"""Captive-portal state: which phones have tapped "Tiếp tục", and which host names mean the box.

The registry is in memory on purpose: after a restart a phone just sees the welcome sheet again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

Clock = Callable[[], float]
MAX_CLIENTS = 4096  # far more than one radio serves; stops a flood of addresses from growing it
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "*"})


class AcceptedClients:
    """Client addresses that accepted the welcome page, each until its expiry on `clock`."""

    def __init__(self, hours: float, clock: Clock = time.monotonic) -> None:
        self._ttl = hours * 3600.0
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def accept(self, address: str) -> None:
        now = self._clock()
        with self._lock:
            self._until.pop(address, None)
            if len(self._until) >= MAX_CLIENTS:
                self._forget_expired(now)
            while len(self._until) >= MAX_CLIENTS:  # still full: drop the oldest acceptance
                self._until.pop(next(iter(self._until)))
            self._until[address] = now + self._ttl

    def is_accepted(self, address: str) -> bool:
        now = self._clock()
        with self._lock:
            until = self._until.get(address)
            if until is not None and until <= now:
                del self._until[address]
                until = None
        return until is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._until)

    def _forget_expired(self, now: float) -> None:
        for address in [a for a, until in self._until.items() if until <= now]:
            del self._until[address]


def host_name(host: str) -> str:
    """`Hamlet.Box.:8080` -> `hamlet.box`; `[::1]:80` -> `::1`; a bare IPv6 address is kept."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else host[1:]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def box_hosts(names: Iterable[str]) -> frozenset[str]:
    """The host names that mean the box itself, without ports; wildcard bind addresses dropped."""
    hosts = {host_name(name) for name in names}
    hosts.update({"localhost", "127.0.0.1", "::1"})
    return frozenset(hosts - WILDCARD_HOSTS)
