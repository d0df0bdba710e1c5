"""A TCP proxy between the relay and the upstream that breaks HTTP requests the way 3G does.

It reads just enough HTTP/1.1 (tests/support/http_frames.py) to know where each request and each
answer ends on a keep-alive connection, so a fault hits one request and the next one on the same
connection passes as it would. Faults are drawn from a seeded random at a set rate: the same seed
and the same requests give the same faults. It counts the bytes on the box's side of the link in
each direction (for wire ÷ payload) and the faults it injected, by kind.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tests.support.http_frames import Closed, Head, Stream

CUT_REQUEST = "cut_request"  # the box's request stops part-way; the connection is cut
ERROR_500 = "error_500"  # the proxy answers 500 itself; the upstream never sees the request
ERROR_503 = "error_503"
CUT_RESPONSE = "cut_response"  # the upstream acted; its answer is cut anywhere, even at byte 0
DELAY = "delay"  # forwarded after a pause
TRUNCATE = "truncate"  # the answer's head, then less body than its Content-Length; closed
FAULTS = (CUT_REQUEST, ERROR_500, ERROR_503, CUT_RESPONSE, DELAY, TRUNCATE)
UPSTREAM_TIMEOUT = 60.0
FAULT_BODY = '{"error":"proxy_fault","message":"Lỗi giả lập / Fault injected by the test proxy"}'


@dataclass(frozen=True)
class ProxyStats:
    requests: int  # request heads read from the box
    bytes_up: int  # box -> proxy, as read
    bytes_down: int  # proxy -> box, as sent
    faults: Mapping[str, int]

    @property
    def wire_bytes(self) -> int:
        return self.bytes_up + self.bytes_down


class FaultProxy:
    """Listens on 127.0.0.1 and forwards to the upstream on `upstream_port`, injecting faults."""

    def __init__(
        self,
        upstream_port: int,
        *,
        rate: float = 0.0,
        mix: Mapping[str, float] | None = None,
        seed: int = 0,
        delay: tuple[float, float] = (0.5, 2.0),
    ) -> None:
        self.upstream_port = upstream_port
        self.stopping = threading.Event()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.configure(rate=rate, mix=mix, delay=delay)
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._requests = self._up = self._down = 0
        self._faults: Counter[str] = Counter()
        self._listener = socket.create_server(("127.0.0.1", 0))

    def configure(
        self,
        *,
        rate: float,
        mix: Mapping[str, float] | None = None,
        delay: tuple[float, float] = (0.5, 2.0),
    ) -> None:
        """Set the fault rate (0: a clean link), the kinds' weights and the delay range."""
        weights = dict(mix) if mix is not None else dict.fromkeys(FAULTS, 1.0)
        if set(weights) - set(FAULTS) or not 0.0 <= rate <= 1.0 or not any(weights.values()):
            raise ValueError(f"bad fault plan: rate {rate}, mix {weights}")
        with self._lock:
            self.rate, self.mix, self.delay = rate, weights, delay

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def stats(self) -> ProxyStats:
        with self._lock:
            return ProxyStats(self._requests, self._up, self._down, dict(self._faults))

    def reset_stats(self) -> None:
        with self._lock:
            self._requests = self._up = self._down = 0
            self._faults.clear()

    def start(self) -> FaultProxy:
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        """Close the listener and every open connection, then wait for the workers."""
        self.stopping.set()
        with self._lock:
            sockets, threads = [self._listener, *self._sockets], list(self._threads)
        for sock in sockets:
            _shut(sock)
        for thread in threads:
            thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def track(self, sock: socket.socket) -> socket.socket:
        """Keep an open socket so stop() can cut it; no Nagle: every message goes in one send."""
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sockets.add(sock)
        if self.stopping.is_set():
            _shut(sock)
        return sock

    def draw(self) -> tuple[str | None, float]:
        """This request's fault (None: none) and a uniform number in [0, 1) to place it."""
        with self._lock:
            self._requests += 1
            if self._rng.random() >= self.rate:
                return None, 0.0
            kind = self._rng.choices(list(self.mix), weights=list(self.mix.values()))[0]
            self._faults[kind] += 1
            return kind, self._rng.random()

    def count(self, up: int = 0, down: int = 0) -> None:
        with self._lock:
            self._up += up
            self._down += down

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        """One box connection: request after request until a side closes or a fault cuts it."""
        link = _Link(self, self.track(client))
        try:
            while not self.stopping.is_set() and link.one_request():
                pass
        except (OSError, Closed, ValueError, IndexError):
            pass  # a cut connection, as on the real link: the box retries
        finally:
            for sock in (link.client, link.upstream):
                if sock is not None:
                    _shut(sock)
                    with self._lock:
                        self._sockets.discard(sock)


class _Link:
    """A box connection and the upstream connection paired with it (opened when first needed)."""

    def __init__(self, proxy: FaultProxy, client: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.box = Stream(client)
        self.upstream: socket.socket | None = None
        self.up: Stream | None = None

    def one_request(self) -> bool:
        """Pass one request and its answer, or inject this request's fault; False: close."""
        raw = self.box.head()
        if raw is None:
            return False
        request = Head.parse(raw)
        fault, where = self.proxy.draw()
        self.proxy.count(up=len(raw))
        if fault == CUT_REQUEST:
            part = self.box.up_to(int((request.length or 0) * where))
            self.proxy.count(up=len(part))
            self._to_upstream(raw + part)
            return False
        body = request.body(self.box)
        self.proxy.count(up=len(body))
        if fault in (ERROR_500, ERROR_503):
            self._send(_canned(500 if fault == ERROR_500 else 503))
            return not request.closes
        low, high = self.proxy.delay
        if fault == DELAY and self.proxy.stopping.wait(low + (high - low) * where):
            return False
        self._to_upstream(raw + body)
        answer, body, ended = self._answer(request)
        if fault == CUT_RESPONSE:
            whole = answer.raw + body
            self._send(whole[: int(len(whole) * where)])
            return False
        if fault == TRUNCATE:
            self._send(answer.raw + body[: len(body) // 2] if body else answer.raw[:-2])
            return False
        self._send(answer.raw + body)
        return not (answer.closes or request.closes or ended)

    def _to_upstream(self, data: bytes) -> None:
        if self.upstream is None:
            address = ("127.0.0.1", self.proxy.upstream_port)
            self.upstream = self.proxy.track(socket.create_connection(address, UPSTREAM_TIMEOUT))
            self.up = Stream(self.upstream)
        self.upstream.sendall(data)

    def _answer(self, request: Head) -> tuple[Head, bytes, bool]:
        """The upstream's final answer, its body, and whether that ran to the connection's close
        (1xx interim answers are passed on first)."""
        assert self.up is not None
        while True:
            raw = self.up.head()
            if raw is None:
                raise Closed
            answer = Head.parse(raw)
            no_body = request.first[0] == "HEAD" or answer.status in (204, 304)
            no_body = no_body or answer.status < 200
            body = answer.body(self.up, no_body=no_body)
            if answer.status >= 200:
                return answer, body, not no_body and answer.length is None and not answer.chunked
            self._send(raw)

    def _send(self, data: bytes) -> None:
        self.client.sendall(data)
        self.proxy.count(down=len(data))


def _canned(status: int) -> bytes:
    body = FAULT_BODY.encode()
    reason = {500: "Internal Server Error", 503: "Service Unavailable"}[status]
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
