"""The upstream client on the wire: a scripted raw-socket peer for answers a real server never gives
(cut short, garbled, silent), and the real upstream for signing, replies and clock skew."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from appliance.domain import protocol
from appliance.relay.client import Reply, TransportError, UpstreamClient, enroll
from tests.support.upstream_server import (
    EnrolledDevice,
    UpstreamServer,
    make_token,
    page_bytes,
    sample_manifest,
)

DEVICE_ID = "hb-test-device"
SECRET = "s" * 43

Handler = Callable[["RawPeer", socket.socket, "Request"], bool]  # True: keep the connection


class Request:
    """One request as the raw peer read it off the socket."""

    def __init__(self, head: bytes, body: bytes) -> None:
        self.wire = head + body
        line, _, rest = head.partition(b"\r\n")
        self.method, self.target, _ = line.decode().split(" ", 2)
        self.headers = BytesHeaderParser().parsebytes(rest)
        self.body = body


class RawPeer:
    """A loopback server that writes exactly the bytes a test scripts, counting both ways."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self._handler = handler
        self._tls = tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests: list[Request] = []
        self.connections = 0
        self.received = 0
        self.sent = 0
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def send(self, conn: socket.socket, data: bytes) -> None:
        self.sent += len(data)  # before: the client may have read it all by the time it returns
        conn.sendall(data)

    def close(self) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=10)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        if self._tls is not None:
            try:
                conn = self._tls.wrap_socket(conn, server_side=True)
            except OSError:  # the client refused our certificate
                conn.close()
                return
        with conn, conn.makefile("rb") as reader:
            while (request := read_request(reader)) is not None:
                self.received += len(request.wire)
                self.requests.append(request)
                if not self._handler(self, conn, request):
                    return


def read_request(reader: BinaryIO) -> Request | None:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return None
        head += line
    length = int(
        BytesHeaderParser().parsebytes(head.partition(b"\r\n")[2]).get("content-length", 0)
    )
    return Request(head, reader.read(length))


def answer(status: int, body: dict[str, object], *, close: bool = False) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        f"X-HB-Server-Time: 1700000000.250\r\n{'Connection: close' if close else ''}\r\n\r\n"
    ).replace("\r\n\r\n\r\n", "\r\n\r\n")
    return head.encode() + data


def ok(peer: RawPeer, conn: socket.socket, request: Request) -> bool:
    peer.send(conn, answer(200, {"server_time": 1700000000.25}))
    return True


@pytest.fixture
def peer_with() -> Iterator[Callable[..., RawPeer]]:
    peers: list[RawPeer] = []

    def start(handler: Handler, tls: ssl.SSLContext | None = None) -> RawPeer:
        peers.append(RawPeer(handler, tls))
        return peers[-1]

    yield start
    for peer in peers:
        peer.close()


def client_for(url: str, **options: object) -> UpstreamClient:
    return UpstreamClient(url, DEVICE_ID, SECRET, timeout=10, **options)  # type: ignore[arg-type]


# --- the request on the wire ---------------------------------------------------------------------


def test_signs_the_exact_request_line_target_under_a_prefix(
    peer_with: Callable[..., RawPeer],
) -> None:
    peer = peer_with(ok)
    client = client_for(peer.url + "/mot-cua/hop-thu/")
    reply = client.updates(after=7, limit=50)
    client.close()
    assert reply.status == 200 and reply.body == {"server_time": 1700000000.25}
    (request,) = peer.requests
    assert request.target == "/mot-cua/hop-thu/v1/updates?after=7&limit=50"
    headers = request.headers
    assert headers["User-Agent"].startswith("hamletbox/")
    assert headers[protocol.HEADER_DEVICE] == DEVICE_ID
    assert protocol.NONCE.fullmatch(headers[protocol.HEADER_NONCE])
    assert protocol.signature_matches(
        SECRET,
        "GET",
        request.target,
        int(headers[protocol.HEADER_TIMESTAMP]),
        headers[protocol.HEADER_NONCE],
        b"",
        headers[protocol.HEADER_SIGNATURE],
    )
    assert reply.server_time == 1700000000.25
    assert client.last_server_time == 1700000000.25


def test_bytes_are_counted_both_ways_over_one_kept_connection(
    peer_with: Callable[..., RawPeer],
) -> None:
    peer = peer_with(ok)
    client = client_for(peer.url)
    client.put_blob(hashlib.sha256(b"page").hexdigest(), b"page" * 1000, "image/jpeg")
    client.heartbeat({"software_version": "0.1.0", "queue_depth": 2})
    client.catalog('"abc"')
    client.close()
    assert peer.connections == 1
    assert client.bytes_sent == peer.received
    assert client.bytes_received == peer.sent
    blob, beat, catalog = peer.requests
    assert blob.headers["Content-Type"] == "image/jpeg" and blob.body == b"page" * 1000
    assert json.loads(beat.body) == {"queue_depth": 2, "software_version": "0.1.0"}
    assert catalog.headers["If-None-Match"] == '"abc"'
    assert "Content-Length" not in catalog.headers


# --- answers that must never become a Reply ------------------------------------------------------


def short_body(peer: RawPeer, conn: socket.socket, request: Request) -> bool:
    peer.send(conn, answer(201, {"sha256": "0" * 64, "bytes": 123456})[:-10])
    return False


def cut_in_headers(peer: RawPeer, conn: socket.socket, request: Request) -> bool:
    peer.send(conn, b"HTTP/1.1 201 Created\r\nContent-Type: appl")
    return False


def cut_chunked(peer: RawPeer, conn: socket.socket, request: Request) -> bool:
    peer.send(
        conn,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"40\r\n" + b'{"updates": [], "cursor"',
    )
    return False


def garbled_json(peer: RawPeer, conn: socket.socket, request: Request) -> bool:
    data = b'{"uuid": "x", "status": '
    peer.send(
        conn,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(data), data),
    )
    return True


def reset_mid_answer(peer: RawPeer, conn: socket.socket, request: Request) -> bool:
    peer.send(conn, answer(200, {"updates": [], "cursor": 0, "more": False})[:-5])
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
    return False


def silent_close(peer: RawPeer, conn: socket.socket, request: Request) -> bool:
    return False


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (short_body, "cut short"),
        (cut_in_headers, "/"),
        (cut_chunked, "cut short"),
        (garbled_json, "unreadable JSON"),
        (reset_mid_answer, "/"),
        (silent_close, "closed the connection"),
    ],
)
def test_a_broken_answer_is_a_transport_error(
    peer_with: Callable[..., RawPeer], handler: Handler, reason: str
) -> None:
    peer = peer_with(handler)
    client = client_for(peer.url)
    with pytest.raises(TransportError, match=reason):
        client.put_manifest("u" * 36, {"version": 1})
    assert peer.connections == 1  # a fresh connection's failure is the caller's to retry
    client.close()


def test_after_an_error_the_next_request_reconnects(
    peer_with: Callable[..., RawPeer],
) -> None:
    script = iter([garbled_json, ok])
    peer = peer_with(lambda p, conn, request: next(script)(p, conn, request))
    client = client_for(peer.url)
    with pytest.raises(TransportError):
        client.updates(after=0)
    assert client.updates(after=0).status == 200
    client.close()
    assert peer.connections == 2


def test_a_dead_kept_connection_is_retried_once_afresh_with_a_new_nonce(
    peer_with: Callable[..., RawPeer],
) -> None:
    script = iter([ok, silent_close, ok])
    peer = peer_with(lambda p, conn, request: next(script)(p, conn, request))
    client = client_for(peer.url)
    assert client.updates(after=0).status == 200
    assert client.updates(after=1).status == 200
    client.close()
    assert peer.connections == 2
    nonces = {r.headers[protocol.HEADER_NONCE] for r in peer.requests}
    assert len(peer.requests) == 3 and len(nonces) == 3


def test_a_timeout_is_not_retried(peer_with: Callable[..., RawPeer]) -> None:
    answered = threading.Event()

    def first_then_mute(peer: RawPeer, conn: socket.socket, request: Request) -> bool:
        if answered.is_set():
            return True  # read the request, never answer
        answered.set()
        return ok(peer, conn, request)

    peer = peer_with(first_then_mute)
    client = UpstreamClient(peer.url, DEVICE_ID, SECRET, timeout=0.3)
    client.updates(after=0)
    with pytest.raises(TransportError, match="timed out"):
        client.updates(after=1)
    client.close()
    assert peer.connections == 1


def test_a_non_object_json_answer_has_no_body(peer_with: Callable[..., RawPeer]) -> None:
    def listing(peer: RawPeer, conn: socket.socket, request: Request) -> bool:
        peer.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        peer.send(conn, b"Content-Length: 6\r\n\r\n[1, 2]")
        return True

    client = client_for(peer_with(listing).url)
    reply = client.updates(after=0)
    client.close()
    assert (reply.status, reply.body, reply.raw, reply.error) == (200, None, b"[1, 2]", None)
    assert reply.server_time is None


# --- TLS ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1, and a server context using it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=x"]
    names = ["-addext", "subjectAltName=IP:127.0.0.1"]
    files = ["-keyout", str(key), "-out", str(cert)]
    subprocess.run([openssl, *request, *names, *files], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return cert, context


def test_https_checks_the_upstreams_certificate(
    peer_with: Callable[..., RawPeer], certificate: tuple[Path, ssl.SSLContext]
) -> None:
    peer = peer_with(ok, certificate[1])
    client = client_for(peer.url)
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        client.updates(after=0)
    client.close()
    assert peer.requests == []


def test_https_with_a_trusted_certificate(
    peer_with: Callable[..., RawPeer],
    certificate: tuple[Path, ssl.SSLContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # as if installed in the system store
    peer = peer_with(ok, certificate[1])
    client = client_for(peer.url)
    assert client.updates(after=0).status == 200
    assert client.updates(after=1).status == 200
    client.close()
    assert peer.connections == 1
    assert client.bytes_sent == peer.received and client.bytes_received == peer.sent


# --- bandwidth cap -------------------------------------------------------------------------------


class FakeTime:
    """A clock that moves only when the client sleeps."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_cap_keeps_the_average_rate_under_it(peer_with: Callable[..., RawPeer]) -> None:
    peer = peer_with(ok)
    fake = FakeTime()
    client = client_for(peer.url, max_kbps=8, clock=fake.clock, sleep=fake.sleep)
    data = bytes(range(256)) * 40  # 10 240 bytes at 1 000 bytes/s
    started = fake.now
    assert client.put_blob(hashlib.sha256(data).hexdigest(), data, "image/jpeg").status == 200
    client.close()
    assert peer.requests[0].body == data
    assert fake.now - started >= len(data) * 8 / 8000 - 1e-9
    assert len(fake.sleeps) > 1 and max(fake.sleeps) <= 0.25 + 1e-9


def test_a_clock_jump_back_never_means_a_long_wait(
    peer_with: Callable[..., RawPeer],
) -> None:
    peer = peer_with(ok)
    fake = FakeTime()
    jumped = iter([fake.now, *([fake.now - 3600] * 100)])
    client = client_for(peer.url, max_kbps=8, clock=lambda: next(jumped), sleep=fake.sleep)
    client.put_blob("0" * 64, b"x" * 2000, "image/jpeg")
    client.close()
    assert max(fake.sleeps) <= 0.25 + 1e-9


def test_without_a_cap_nothing_sleeps(peer_with: Callable[..., RawPeer]) -> None:
    fake = FakeTime()
    client = client_for(peer_with(ok).url, clock=fake.clock, sleep=fake.sleep)
    client.put_blob("0" * 64, b"x" * 100_000, "image/jpeg")
    client.close()
    assert fake.sleeps == []


# --- enrolment request ---------------------------------------------------------------------------


def test_enroll_is_unsigned_and_caps_long_names(peer_with: Callable[..., RawPeer]) -> None:
    def granted(peer: RawPeer, conn: socket.socket, request: Request) -> bool:
        peer.send(conn, answer(201, {"device_id": "hb-12345678", "secret": "x" * 43}, close=True))
        return False

    peer = peer_with(granted)
    reply = enroll(peer.url, "t" * 24, hostname="h" * 80, software_version="1.0", timeout=5)
    assert isinstance(reply, Reply) and reply.status == 201
    (request,) = peer.requests
    assert (request.method, request.target) == ("POST", "/v1/enroll")
    assert protocol.HEADER_SIGNATURE not in request.headers
    assert json.loads(request.body) == {
        "token": "t" * 24,
        "hostname": "h" * 64,
        "software_version": "1.0",
    }


def test_a_bad_url_is_refused_before_any_connection() -> None:
    for url in ("ftp://example.vn", "motcua.example.vn", "https://", "http://h:99999/"):
        with pytest.raises(ValueError, match=r"upstream URL|port"):
            client_for(url)


# --- against the real upstream -------------------------------------------------------------------


class Recording(UpstreamClient):
    """The client, noting each whole answer it took (a retry shows as two)."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self.answers: list[tuple[int, str | None]] = []
        self.closed = 0  # connections dropped, after an error or by the caller

    def close(self) -> None:
        self.closed += 1
        super().close()

    def exchange(
        self, method: str, target: str, body: bytes, headers: Callable[[], Mapping[str, str]]
    ) -> Reply:
        reply = super().exchange(method, target, body, headers)
        self.answers.append((reply.status, reply.error))
        return reply


@pytest.fixture
def device(upstream: UpstreamServer) -> EnrolledDevice:
    token = make_token(upstream.settings)
    reply = enroll(
        upstream.url, token, hostname="hamletbox-xb1", software_version="0.1.0", timeout=5
    )
    assert reply.status == 201 and reply.body is not None, reply.raw
    return EnrolledDevice(reply.body["device_id"], reply.body["secret"], reply.body["hamlet"])


def box_client(
    upstream: UpstreamServer, device: EnrolledDevice, clock: Callable[[], float] = time.time
) -> Recording:
    return Recording(upstream.url, device.id, device.secret, timeout=10, clock=clock)


def test_enrolment_grants_a_device_of_the_tokens_hamlet(device: EnrolledDevice) -> None:
    assert device.hamlet == "Thôn Xà Bang 1"
    assert len(device.secret) >= 32


def test_blobs_and_manifests_stored_replayed_and_conflicting(
    upstream: UpstreamServer, device: EnrolledDevice
) -> None:
    client = box_client(upstream, device)
    pages = [page_bytes(1), page_bytes(2)]
    for data in pages:
        digest = hashlib.sha256(data).hexdigest()
        first = client.put_blob(digest, data, "image/jpeg")
        assert (first.status, first.body) == (201, {"sha256": digest, "bytes": len(data)})
        assert client.put_blob(digest, data, "image/jpeg").status == 200
    manifest = sample_manifest(pages=pages)
    uuid = manifest["uuid"]
    stored = client.put_manifest(uuid, manifest)
    assert stored.status == 201 and stored.body is not None
    assert stored.body["status"] == "sent"
    assert client.put_manifest(uuid, dict(reversed(manifest.items()))).status == 200
    other = client.put_manifest(uuid, {**manifest, "receipt_code": "XB1-99999Z"})
    assert (other.status, other.error) == (409, "conflict")
    assert other.server_time is not None and client.last_server_time == other.server_time
    client.close()
    assert client.bytes_sent > sum(len(p) for p in pages) * 2


def test_updates_heartbeat_and_catalog(upstream: UpstreamServer, device: EnrolledDevice) -> None:
    client = box_client(upstream, device)
    feed = client.updates(after=0)
    assert (feed.status, feed.body) == (200, {"updates": [], "cursor": 0, "more": False})
    beat = client.heartbeat({"software_version": "0.1.0", "queue_depth": 3})
    assert beat.status == 200 and beat.body is not None and "server_time" in beat.body
    catalog = client.catalog(None)
    assert catalog.status == 200 and catalog.body is None and catalog.raw
    etag = catalog.headers["etag"]
    again = client.catalog(etag)
    assert (again.status, again.raw, again.headers["etag"]) == (304, b"", etag)
    client.close()


def test_a_wrong_secret_is_an_answer_not_an_error(
    upstream: UpstreamServer, device: EnrolledDevice
) -> None:
    client = Recording(upstream.url, device.id, "not-the-secret-" * 3, timeout=10)
    reply = client.updates(after=0)
    client.close()
    assert (reply.status, reply.error) == (401, "bad_signature")
    assert len(client.answers) == 1


@pytest.mark.parametrize("hours", [2, -2])
def test_a_box_clock_hours_off_learns_the_upstreams(
    upstream: UpstreamServer, device: EnrolledDevice, hours: int
) -> None:
    client = box_client(upstream, device, clock=lambda: time.time() + hours * 3600)
    reply = client.heartbeat({"software_version": "0.1.0", "queue_depth": 0})
    assert reply.status == 200
    assert client.answers == [(401, "clock_skew"), (200, None)]
    assert client.offset == pytest.approx(-hours * 3600, abs=60)
    assert client.updates(after=0).status == 200
    assert client.answers[2:] == [(200, None)]
    client.close()


def test_an_upstream_restart_between_requests_is_survived(
    upstream: UpstreamServer, device: EnrolledDevice
) -> None:
    client = box_client(upstream, device)
    assert client.updates(after=0).status == 200
    upstream.restart()  # the kept-alive connection is now dead
    assert client.updates(after=0).status == 200
    assert client.answers == [(200, None), (200, None)]
    assert client.closed == 1  # the dead connection, found so and tried again afresh
    client.close()


def test_a_stopped_upstream_is_a_transport_error(
    upstream: UpstreamServer, device: EnrolledDevice
) -> None:
    client = box_client(upstream, device)
    upstream.stop()
    with pytest.raises(TransportError, match="refused"):
        client.updates(after=0)
    upstream.start()
    assert client.updates(after=0).status == 200
    client.close()
