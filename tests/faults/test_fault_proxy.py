"""The fault proxy itself: each fault does what it says, one request at a time, on keep-alive."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.fault_proxy import (
    CUT_REQUEST,
    CUT_RESPONSE,
    DELAY,
    ERROR_500,
    ERROR_503,
    FAULTS,
    TRUNCATE,
    FaultProxy,
)

BODY = b"x" * 40_000


class _Echo(BaseHTTPRequestHandler):
    """Answers each whole request with its body reversed; /chunked answers in chunks."""

    protocol_version = "HTTP/1.1"
    seen: list[bytes]

    def do_PUT(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(data)
        self.send_response(201)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[::-1])

    def do_GET(self) -> None:
        self.seen.append(b"GET " + self.path.encode())
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in (b"hello ", b"chunked ", b"world"):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what it needs from `seen`."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A connection the proxy cut is expected here, not an error to print."""


@pytest.fixture
def server() -> Iterator[tuple[int, list[bytes]]]:
    seen: list[bytes] = []
    handler = type("Handler", (_Echo,), {"seen": seen})
    httpd = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd.server_address[1], seen
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def only(kind: str, server: tuple[int, list[bytes]]) -> FaultProxy:
    return FaultProxy(server[0], rate=1.0, mix={kind: 1.0}, delay=(0.0, 0.01), seed=3)


@contextmanager
def connect(proxy: FaultProxy) -> Iterator[http.client.HTTPConnection]:
    port = int(proxy.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def put(conn: http.client.HTTPConnection, body: bytes = BODY) -> tuple[int, bytes]:
    conn.request("PUT", "/blob", body=body)
    answer = conn.getresponse()
    return answer.status, answer.read()


def test_a_clean_link_passes_many_requests_on_one_connection_and_counts_bytes(
    server: tuple[int, list[bytes]],
) -> None:
    with FaultProxy(server[0]) as proxy, connect(proxy) as conn:
        for n in range(3):
            assert put(conn, BODY + bytes([n])) == (201, (BODY + bytes([n]))[::-1])
        conn.request("GET", "/chunked")
        assert conn.getresponse().read() == b"hello chunked world"
        stats = proxy.stats()
    assert len(server[1]) == 4
    assert stats.requests == 4 and stats.faults == {}
    assert 3 * len(BODY) < stats.bytes_up < 3 * len(BODY) + 1000
    assert 3 * len(BODY) < stats.bytes_down < 3 * len(BODY) + 1000


@pytest.mark.parametrize("kind", [ERROR_500, ERROR_503])
def test_an_error_is_answered_by_the_proxy_and_the_connection_stays_usable(
    kind: str, server: tuple[int, list[bytes]]
) -> None:
    with only(kind, server) as proxy, connect(proxy) as conn:
        status, body = put(conn)
        assert status == int(kind[-3:]) and b"proxy_fault" in body
        proxy.configure(rate=0.0)
        assert put(conn) == (201, BODY[::-1])
        assert proxy.stats().faults == {kind: 1}
    assert server[1] == [BODY]  # the faulty request never reached the upstream


def test_a_request_cut_part_way_never_reaches_the_upstream_whole(
    server: tuple[int, list[bytes]],
) -> None:
    with only(CUT_REQUEST, server) as proxy, connect(proxy) as conn:
        with pytest.raises((http.client.HTTPException, OSError)):
            put(conn)
        assert proxy.stats().faults == {CUT_REQUEST: 1}
    assert BODY not in server[1]


@pytest.mark.parametrize("kind", [CUT_RESPONSE, TRUNCATE])
def test_a_cut_answer_comes_after_the_upstream_acted(
    kind: str, server: tuple[int, list[bytes]]
) -> None:
    with only(kind, server) as proxy:
        for _ in range(5):  # cut at different places
            with connect(proxy) as conn, pytest.raises((http.client.HTTPException, OSError)):
                put(conn)
    assert server[1] == [BODY] * 5


def test_a_delayed_request_arrives_whole(server: tuple[int, list[bytes]]) -> None:
    with only(DELAY, server) as proxy, connect(proxy) as conn:
        assert put(conn) == (201, BODY[::-1])
        assert proxy.stats().faults == {DELAY: 1}


def test_faults_follow_the_seed_and_the_rate(server: tuple[int, list[bytes]]) -> None:
    draws = []
    for _ in range(2):
        proxy = FaultProxy(server[0], rate=0.3, seed=11)
        draws.append([proxy.draw()[0] for _ in range(300)])
        proxy.stop()
    assert draws[0] == draws[1]
    faults = [kind for kind in draws[0] if kind is not None]
    assert set(faults) == set(FAULTS)
    assert 60 <= len(faults) <= 120  # 30% of 300, within a wide margin
    with pytest.raises(ValueError, match="bad fault plan"):
        FaultProxy(server[0], rate=0.5, mix={"explode": 1.0})
