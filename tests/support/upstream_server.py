"""The upstream as tests meet it: a settable clock, enrolled devices, signed requests, and a real
waitress server on loopback that can be stopped and started again on the same port.
"""

from __future__ import annotations

import http.client
import io
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from appliance.domain.protocol import body_digest, canonical_json, signed_headers
from upstream import store
from upstream.app import create_app
from upstream.db import open_store
from upstream.server import close_soon, listen, make_server
from upstream.settings import UpstreamSettings

JSON_TYPE = {"Content-Type": "application/json"}
START = 1_760_000_000.0  # a fixed moment (October 2025), so tests read the same every run


class FakeClock:
    """A clock the test sets: `clock()` answers `clock.now` (unix seconds)."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class EnrolledDevice:
    id: str
    secret: str
    hamlet: str


def make_token(
    where: UpstreamSettings | sessionmaker[Session],
    hamlet: str = "Thôn Xà Bang 1",
    *,
    days: int = 14,
    now: float | None = None,
) -> str:
    """A one-time enrolment token, made in the upstream's store (its settings or its sessions)."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    if isinstance(where, UpstreamSettings):
        engine, sessions = open_store(where.db_url)
        try:
            return store.new_token(sessions, hamlet, days, moment)
        finally:
            engine.dispose()
    return store.new_token(where, hamlet, days, moment)


def enroll(client: FlaskClient, token: str, hostname: str = "hamletbox-test") -> EnrolledDevice:
    """Enroll through the API as a box would; the test fails if the upstream refuses."""
    answer = client.post("/v1/enroll", json=_enrolment(token, hostname))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return _enrolled(answer.get_json())


def enroll_http(base_url: str, token: str, hostname: str = "hamletbox-test") -> EnrolledDevice:
    """The same over real HTTP, against a running upstream."""
    answer = http_request(
        base_url, "POST", "/v1/enroll", canonical_json(_enrolment(token, hostname))
    )
    assert answer.status == 201, answer.body
    return _enrolled(answer.json())


def _enrolment(token: str, hostname: str) -> dict[str, str]:
    return {"token": token, "hostname": hostname, "software_version": "0.1.0"}


def _enrolled(found: Mapping[str, Any]) -> EnrolledDevice:
    return EnrolledDevice(found["device_id"], found["secret"], found["hamlet"])


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    base_url: str,
    method: str,
    target: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> HttpAnswer:
    """One request on a new connection, with http.client (what a box's relay uses too)."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=dict(headers or {}))
        answer = conn.getresponse()
        data = answer.read()
        found = {name.lower(): value for name, value in answer.getheaders()}
        return HttpAnswer(answer.status, found, data)
    finally:
        conn.close()


class _Signing:
    """What a correct box sends; `timestamp`, `nonce`, `secret` and `headers` override it."""

    def __init__(self, device: EnrolledDevice, clock: Callable[[], float]) -> None:
        self.device = device
        self.clock = clock

    def headers(
        self,
        method: str,
        target: str,
        body: bytes,
        content_type: str | None = None,
        timestamp: int | None = None,
        nonce: str | None = None,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        sent = signed_headers(
            self.device.id,
            self.device.secret if secret is None else secret,
            method,
            target,
            int(self.clock()) if timestamp is None else timestamp,
            secrets.token_urlsafe(16) if nonce is None else nonce,
            body,
        )
        if content_type is not None:
            sent["Content-Type"] = content_type
        sent.update(headers or {})
        return sent

    def __call__(self, method: str, target: str, body: bytes = b"", **options: Any) -> Any:
        raise NotImplementedError

    def put_json(self, target: str, value: Any, **options: Any) -> Any:
        body = canonical_json(value)
        return self("PUT", target, body, content_type="application/json", **options)

    def post_json(self, target: str, value: Any, **options: Any) -> Any:
        body = canonical_json(value)
        return self("POST", target, body, content_type="application/json", **options)


class Signer(_Signing):
    """Signed requests of one device through a Flask test client, on the given clock.

    `signer("PUT", target, body, content_type=…)`; `input_stream` with `environ` (WSGI keys such
    as CONTENT_LENGTH) sends another body than the one signed.
    """

    def __init__(
        self, client: FlaskClient, device: EnrolledDevice, clock: Callable[[], float]
    ) -> None:
        super().__init__(device, clock)
        self.client = client

    def __call__(
        self,
        method: str,
        target: str,
        body: bytes = b"",
        *,
        input_stream: Any = None,
        environ: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> TestResponse:
        sent = self.headers(method, target, body, **options)
        if input_stream is None:
            return self.client.open(target, method=method, headers=sent, data=body)
        return self.client.open(
            target,
            method=method,
            headers=sent,
            input_stream=input_stream,
            environ_overrides=dict(environ or {}),
        )


class HttpSigner(_Signing):
    """Signed requests of one device over real HTTP to a running upstream."""

    def __init__(
        self, base_url: str, device: EnrolledDevice, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(device, clock)
        self.base_url = base_url

    def __call__(self, method: str, target: str, body: bytes = b"", **options: Any) -> HttpAnswer:
        sent = self.headers(method, target, body, **options)
        return http_request(self.base_url, method, target, body, sent)


def page_bytes(shade: int = 0) -> bytes:
    """A small real JPEG page (Pillow can open it), different for each `shade`."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (shade % 256, 128, 255 - shade % 256)).save(out, "JPEG")
    return out.getvalue()


def sample_manifest(
    uuid: str | None = None, pages: Sequence[bytes] = (), **changes: Any
) -> dict[str, Any]:
    """A manifest as a box sends it (see appliance/store/dossier_records.manifest)."""
    submitted = "2025-10-09T08:30:00+07:00"
    found: dict[str, Any] = {
        "version": 1,
        "uuid": uuid or str(uuid4()),
        "receipt_code": "XB1-23456A",
        "hamlet": "Thôn Xà Bang 1",
        "procedure": "1.001193",
        "channel": "station",
        "submitted_at": submitted,
        "applicant": {
            "full_name": "Nguyễn Thị Lan",
            "id_number": "079301004455",
            "date_of_birth": "1990-05-17",
            "gender": "Nữ",
            "address": "Ấp 3, xã Xà Bang",
            "phone": "0912345678",
        },
        "pages": [
            {"sha256": body_digest(data), "paper": "Tờ khai", "mode": "color", "position": i}
            for i, data in enumerate(pages, start=1)
        ],
        "originals": [],
        "consent": {"version": "1", "at": submitted},
    }
    found.update(changes)
    return found


def deliver_dossier(
    signer: Signer | HttpSigner, pages: Sequence[bytes] | None = None, **changes: Any
) -> dict[str, Any]:
    """Send a dossier's pages then its manifest, as the relay does; the manifest sent."""
    pages = [page_bytes(1), page_bytes(2)] if pages is None else pages
    for data in pages:
        answer = signer("PUT", f"/v1/blobs/{body_digest(data)}", data, content_type="image/jpeg")
        assert _status(answer) in (200, 201), answer
    manifest = sample_manifest(pages=pages, **changes)
    answer = signer.put_json(f"/v1/dossiers/{manifest['uuid']}", manifest)
    assert _status(answer) == 201, answer
    return manifest


def _status(answer: TestResponse | HttpAnswer) -> int:
    return answer.status if isinstance(answer, HttpAnswer) else answer.status_code


class UpstreamServer:
    """`create_app(settings)` under waitress in a thread on 127.0.0.1; `stop()` ends every
    connection, `start()` again serves a new app on the same port (an upstream restart)."""

    def __init__(
        self,
        settings: UpstreamSettings,
        *,
        port: int = 0,
        clock: Callable[[], float] = time.time,
        threads: int = 4,
    ) -> None:
        self.settings = settings
        self.port = port
        self.clock = clock
        self.threads = threads
        self._running: tuple[Any, Any, threading.Thread] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        assert self._running is None, "already serving"
        app = create_app(self.settings, clock=self.clock)
        try:
            sock = listen("127.0.0.1", self.port)
        except OSError:
            app.extensions["upstream"].close()
            raise
        self.port = sock.getsockname()[1]
        server = make_server(app, sock, self.threads)
        thread = threading.Thread(target=server.run, name=f"upstream-{self.port}", daemon=True)
        thread.start()
        self._running = (app, server, thread)
        return self.url

    def stop(self) -> None:
        if self._running is None:
            return
        app, server, thread = self._running
        self._running = None
        close_soon(server)
        thread.join(timeout=10)
        assert not thread.is_alive(), "the upstream server did not stop"
        server.task_dispatcher.shutdown()
        app.extensions["upstream"].close()

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def running_upstream(
    settings: UpstreamSettings, *, port: int = 0, clock: Callable[[], float] = time.time
) -> Iterator[str]:
    """The base URL of a real upstream serving `settings` until the block ends."""
    server = UpstreamServer(settings, port=port, clock=clock)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()
