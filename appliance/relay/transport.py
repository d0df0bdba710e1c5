"""The wire under the relay's client: one kept-alive HTTP(S) connection, every byte counted, and
a half answer never taken for a whole one (TransportError instead).

Built on http.client alone. What is said over it (signed device API v1) is client.py's.
"""

from __future__ import annotations

import http.client
import importlib.metadata
import io
import json
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from appliance.domain import protocol
from appliance.errors import HamletBoxError

CHUNK_SECONDS = 0.25  # with a bandwidth cap, the body goes out in pieces this long on the wire
MAX_CHUNK = 64 * 1024


def software_version() -> str:
    """The installed hamletbox version: told to the upstream at enrolment, in heartbeats, as UA."""
    try:
        return importlib.metadata.version("hamletbox")
    except importlib.metadata.PackageNotFoundError:
        return "0"


class TransportError(HamletBoxError):
    """No usable answer: refused, reset, timed out, or cut short (incomplete/unparseable)."""


@dataclass(frozen=True)
class Reply:
    """One whole answer of the upstream."""

    status: int
    body: dict[str, Any] | None  # the JSON object answered, else None
    raw: bytes  # the body bytes as received
    headers: Mapping[str, str]  # lower-cased names
    server_time: float | None  # X-HB-Server-Time

    @property
    def error(self) -> str | None:
        found = self.body.get("error") if self.body is not None else None
        return found if isinstance(found, str) else None


@dataclass(frozen=True)
class BaseUrl:
    """An upstream's address; `prefix` is the path it lives under ("" at the root)."""

    https: bool
    host: str
    port: int | None
    prefix: str

    @classmethod
    def parse(cls, url: str) -> BaseUrl:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError(
                f"{url!r}: địa chỉ máy chủ xã phải có dạng https://máy[:cổng][/đường-dẫn]"
                " / the upstream URL must be like https://host[:port][/path]"
            )
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"{url!r}: cổng không hợp lệ / not a valid port") from None
        return cls(parts.scheme == "https", parts.hostname, port, parts.path.rstrip("/"))


class _MeteredReader(io.RawIOBase):
    def __init__(self, raw: io.RawIOBase, meter: Transport) -> None:
        self._raw = raw
        self._meter = meter
        self.ended = False  # the peer closed: seen while reading headers, they were cut

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        count = self._raw.readinto(buffer)
        self._meter.bytes_received += count or 0
        self.ended = self.ended or (count == 0 and len(buffer) > 0)
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


class _MeteredSocket:
    """The connection's socket as http.client sees it: counts what goes out and comes in."""

    def __init__(self, sock: socket.socket, meter: Transport) -> None:
        self._sock = sock
        self._meter = meter
        self.reader: _MeteredReader | None = None  # the latest answer's

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(data)
        self._meter.bytes_sent += len(data)

    def makefile(self, mode: str) -> io.BufferedReader:
        """http.client reads answers through this (mode "rb")."""
        self.reader = _MeteredReader(self._sock.makefile("rb", buffering=0), self._meter)
        return io.BufferedReader(self.reader)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class Transport:
    """One kept-alive connection to the upstream: sends a request, returns the whole answer.

    Counts the bytes both ways on the wire (TLS taken off), across reconnections.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        max_kbps: int = 0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = BaseUrl.parse(base_url)
        self.timeout = timeout
        self.max_kbps = max_kbps
        self._clock = clock
        self._sleep = sleep
        self.bytes_sent = 0
        self.bytes_received = 0
        self._conn: http.client.HTTPConnection | None = None
        self._exchanges = 0  # answers taken on the current connection
        self._user_agent = f"hamletbox/{software_version()}"

    def target(self, path: str) -> str:
        """The request line's target: the upstream's path prefix, then the API path."""
        return f"{self.base.prefix}{path}"

    def exchange(
        self, method: str, target: str, body: bytes, headers: Callable[[], Mapping[str, str]]
    ) -> Reply:
        """Send once; a kept-alive connection found dead before any answer is tried once afresh.

        `headers` is called for each try: a retry is a new request (a new nonce for the upstream).
        """
        reused = self._conn is not None and self._conn.sock is not None and self._exchanges > 0
        received = self.bytes_received
        try:
            return self._exchange_once(method, target, body, headers())
        except TransportError as exc:
            answered = self.bytes_received != received
            if not reused or answered or isinstance(exc.__cause__, TimeoutError):
                raise
        return self._exchange_once(method, target, body, headers())

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._exchanges = 0

    def _exchange_once(
        self, method: str, target: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        try:
            conn = self._connection()
            self._send(conn, method, target, body, headers)
            reply = self._read(conn)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise TransportError(_describe(exc)) from exc
        except TransportError:
            self.close()
            raise
        self._exchanges += 1
        return reply

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is not None:
            if self._conn.sock is not None:
                return self._conn
            self.close()  # http.client closed it, as the answer asked
        base = self.base
        conn: http.client.HTTPConnection
        if base.https:
            context = ssl.create_default_context()
            conn = http.client.HTTPSConnection(
                base.host, base.port, timeout=self.timeout, context=context
            )
        else:
            conn = http.client.HTTPConnection(base.host, base.port, timeout=self.timeout)
        self._conn = conn
        conn.connect()
        conn.sock = _MeteredSocket(conn.sock, self)
        return conn

    def _send(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        target: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> None:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.putheader("User-Agent", self._user_agent)
        if body or method in ("POST", "PUT"):
            conn.putheader("Content-Length", str(len(body)))
        for name, value in headers.items():
            conn.putheader(name, value)
        try:
            if self.max_kbps <= 0:
                conn.endheaders(body or None)
            else:
                conn.endheaders()
                self._send_paced(conn, body)
        except TimeoutError:
            raise
        except OSError:
            pass  # the upstream may have answered early (413) and closed: read what it said

    def _send_paced(self, conn: http.client.HTTPConnection, body: bytes) -> None:
        """Keep the body's average rate under the cap; a clock jump never makes one wait long."""
        rate = self.max_kbps * 1000 / 8  # bytes per second
        chunk = max(1, min(MAX_CHUNK, int(rate * CHUNK_SECONDS)))
        started = self._clock()
        for offset in range(0, len(body), chunk):
            piece = body[offset : offset + chunk]
            conn.send(piece)
            due = started + (offset + len(piece)) / rate
            wait = min(due - self._clock(), len(piece) / rate)
            if wait > 0:
                self._sleep(wait)

    def _read(self, conn: http.client.HTTPConnection) -> Reply:
        sock = cast(_MeteredSocket, conn.sock)
        response = conn.getresponse()
        if sock.reader is not None and sock.reader.ended:  # http.client takes EOF as their end
            response.close()
            raise TransportError("câu trả lời bị cắt / answer cut short in its headers")
        raw = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        if response.will_close:
            self.close()
        return Reply(
            status=response.status,
            body=_json_body(response.status, headers, raw),
            raw=raw,
            headers=headers,
            server_time=_server_time(headers),
        )


def _json_body(status: int, headers: Mapping[str, str], raw: bytes) -> dict[str, Any] | None:
    """The answered JSON object; a JSON answer that does not parse was cut or garbled."""
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if status in (204, 304) or not (kind == "application/json" or kind.endswith("+json")):
        return None
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise TransportError(
            f"câu trả lời JSON hỏng ({len(raw)} byte) / unreadable JSON answer ({len(raw)} bytes)"
        ) from None
    return value if isinstance(value, dict) else None


def _server_time(headers: Mapping[str, str]) -> float | None:
    text = headers.get(protocol.HEADER_SERVER_TIME.lower())
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _describe(exc: BaseException) -> str:
    """A one-line reason for logs and the queue page."""
    if isinstance(exc, TimeoutError):
        return "hết thời gian chờ / timed out"
    if isinstance(exc, http.client.IncompleteRead):
        return f"câu trả lời bị cắt / answer cut short ({len(exc.partial)} bytes)"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "máy chủ đóng kết nối / the upstream closed the connection"
    if isinstance(exc, ConnectionRefusedError):
        return "máy chủ không nhận kết nối / connection refused"
    return f"lỗi kết nối / connection failed: {exc.__class__.__name__}: {exc}"
