"""Accounts without storage: password hashing (scrypt), the name and password rules, and the
login throttle. Shared by the box's station logins and the upstream's officer logins.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

SCHEME = "scrypt"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # 16 MiB of memory per check
SALT_BYTES, KEY_BYTES = 16, 32
MIN_PASSWORD, MAX_PASSWORD = 8, 256
MAX_NAME = 40
NAME_PUNCTUATION = "._-"
# A hash of a random password nobody kept: checked for unknown names, so a wrong name costs as much
# time as a wrong password and the login's response time does not tell which names exist.
DUMMY_HASH = (
    "scrypt$16384$8$1$rBY/RIJk5scqfwYJ+2sjYA==$3QW3+s+iA+KAOWXtqjvJzsnYXLk/Kp/I79PnsRVNsXk="
)

Clock = Callable[[], float]


class AccountError(ValueError):
    """A name or password that breaks the rules; the message is "Vietnamese / English"."""


def _nfc(text: str) -> str:
    """One spelling per text: Vietnamese keyboards may send a letter's accents as separate marks."""
    return unicodedata.normalize("NFC", text)


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    secret = _nfc(password).encode("utf-8", "surrogatepass")
    memory = 128 * r * (n + p + 2) + (1 << 20)  # what OpenSSL needs, plus slack
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=length, maxmem=memory)


def hash_password(password: str) -> str:
    """A self-describing "scrypt$n$r$p$salt$hash" string (base64), with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    salt_text, key_text = (base64.b64encode(v).decode("ascii") for v in (salt, key))
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt_text}${key_text}"


@dataclass(frozen=True)
class _Hash:
    n: int
    r: int
    p: int
    salt: bytes
    key: bytes


def _parse(stored: str) -> _Hash | None:
    """The parts of a stored hash, or None for anything malformed or absurdly expensive."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = (int(v) for v in parts[1:4])
        salt, key = (base64.b64decode(v, validate=True) for v in parts[4:6])
    except ValueError:  # binascii.Error is one
        return None
    if not (1 < n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        return None
    return _Hash(n, r, p, salt, key) if salt and key else None


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash, compared in constant time."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    key = _derive(password, parsed.salt, parsed.n, parsed.r, parsed.p, len(parsed.key))
    return hmac.compare_digest(key, parsed.key)


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made with other parameters than today's (re-hash it at the next login)."""
    parsed = _parse(stored)
    if parsed is None:
        return True
    made = (parsed.n, parsed.r, parsed.p, len(parsed.salt), len(parsed.key))
    return made != (SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES, KEY_BYTES)


def check_name(name: str) -> str:
    """The account name in NFC if it is 1-40 letters, digits or . _ -; else AccountError."""
    name = _nfc(name)
    if not name:
        raise AccountError("Tên tài khoản không được để trống / The account name must not be empty")
    if len(name) > MAX_NAME:
        raise AccountError(
            f"Tên tài khoản dài tối đa {MAX_NAME} ký tự / "
            f"The account name can have at most {MAX_NAME} characters"
        )
    if not all(ch.isalnum() or ch in NAME_PUNCTUATION for ch in name):
        raise AccountError(
            "Tên tài khoản chỉ gồm chữ, số và các dấu . _ - (không có dấu cách) / "
            "The account name may only have letters, digits and . _ - (no spaces)"
        )
    return name


def check_password(name: str, password: str) -> None:
    """The password rules: long enough to resist guessing, and not the account name itself."""
    password = _nfc(password)
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự / "
            f"The password needs at least {MIN_PASSWORD} characters"
        )
    if len(password) > MAX_PASSWORD:
        raise AccountError(
            f"Mật khẩu dài tối đa {MAX_PASSWORD} ký tự / "
            f"The password can have at most {MAX_PASSWORD} characters"
        )
    if password.strip().casefold() == _nfc(name).strip().casefold():
        raise AccountError(
            "Mật khẩu không được trùng với tên tài khoản / "
            "The password must not be the account name"
        )


def typed_name(text: str) -> str:
    """A name as typed at the login: NFC, without the spaces phones add, never absurdly long."""
    return _nfc(text).strip()[: MAX_NAME + 1]


def throttle_key(name: str) -> str:
    """One login counter per account however its name is typed (case, accents, spaces)."""
    return _nfc(name).strip().casefold()


@dataclass
class _Failures:
    count: int
    first_at: float
    locked_until: float = 0.0


class LoginThrottle:
    """Failed logins per account and per client address; after `limit` failures within `window_s`
    that account, or that client, must wait `lockout_s` before trying again.

    In memory and bounded: a flood of invented names or addresses pushes out idle counters first,
    running locks last. Thread-safe; the clock is injected so tests need not sleep.
    """

    def __init__(
        self,
        clock: Clock = time.monotonic,
        *,
        limit: int = 5,
        window_s: float = 900.0,
        lockout_s: float = 300.0,
        max_keys: int = 4096,
    ) -> None:
        self._clock = clock
        self._limit, self._window, self._lockout, self._max = limit, window_s, lockout_s, max_keys
        self._lock = threading.Lock()
        self._accounts: dict[str, _Failures] = {}
        self._clients: dict[str, _Failures] = {}

    def retry_after(self, account: str, client: str) -> float:
        """Seconds until this account may be tried from this client; 0 when it may now."""
        now = self._clock()
        with self._lock:
            left = [
                entry.locked_until - now
                for entry in (self._accounts.get(throttle_key(account)), self._clients.get(client))
                if entry is not None and entry.locked_until > now
            ]
        return max(left, default=0.0)

    def failed(self, account: str, client: str) -> None:
        now = self._clock()
        with self._lock:
            self._count(self._accounts, throttle_key(account), now)
            self._count(self._clients, client, now)

    def succeeded(self, account: str) -> None:
        """The account's counter starts again; the client's does not, or one good login would
        let a phone go on guessing other accounts' passwords."""
        with self._lock:
            self._accounts.pop(throttle_key(account), None)

    def __len__(self) -> int:
        """How many accounts and clients are being counted (bounded by 2 × max_keys)."""
        with self._lock:
            return len(self._accounts) + len(self._clients)

    def _count(self, table: dict[str, _Failures], key: str, now: float) -> None:
        entry = table.pop(key, None)  # put back last: the dict's order is the order of last use
        if entry is None or self._stale(entry, now):
            entry = _Failures(0, now)
        if entry.locked_until <= now:
            entry.count += 1
            if entry.count >= self._limit:
                entry.locked_until = now + self._lockout
        self._make_room(table, now)
        table[key] = entry

    def _stale(self, entry: _Failures, now: float) -> bool:
        if entry.locked_until:
            return entry.locked_until <= now
        return now - entry.first_at >= self._window

    def _make_room(self, table: dict[str, _Failures], now: float) -> None:
        if len(table) < self._max:
            return
        for key in [k for k, e in table.items() if self._stale(e, now)]:
            del table[key]
        idle = [k for k, e in table.items() if e.locked_until <= now]
        locked = [k for k, e in table.items() if e.locked_until > now]
        for key in (idle + locked)[: len(table) - self._max + 1]:
            del table[key]
