"""The device API under the real waitress server: huge bodies cut at the server, concurrent
deliveries of the same thing, and a restart on the same port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from uuid import uuid4

import pytest

from appliance.domain.protocol import HEADER_SERVER_TIME, body_digest
from tests.support.upstream_server import (
    JSON_TYPE,
    HttpAnswer,
    HttpSigner,
    UpstreamServer,
    enroll_http,
    http_request,
    make_token,
    page_bytes,
    running_upstream,
    sample_manifest,
)
from upstream import store
from upstream.db import open_store
from upstream.settings import UpstreamSettings
from upstream.tables import Blob, Dossier, DossierPage

T = TypeVar("T")
TWO_GB = 2 * 1024**3
BLOB_LIMIT, JSON_LIMIT = UpstreamSettings.max_blob_bytes, UpstreamSettings.max_json_bytes


@pytest.fixture
def served(upstream_settings: UpstreamSettings) -> Iterator[tuple[str, HttpSigner]]:
    """A running upstream and a device enrolled with it."""
    with running_upstream(upstream_settings) as url:
        yield url, HttpSigner(url, enroll_http(url, make_token(upstream_settings)))


def _count(settings: UpstreamSettings, table: type) -> int:
    engine, sessions = open_store(settings.db_url)
    try:
        return store.count_rows(sessions, table)
    finally:
        engine.dispose()


def _raw_exchange(url: str, head: bytes, body: bytes) -> bytes:
    """Send a request head and a little of its body on a socket; all the server answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("kind", ["blob", "dossier"])
def test_a_two_gigabyte_declared_body_is_cut_by_the_server(
    served: tuple[str, HttpSigner], upstream_settings: UpstreamSettings, kind: str
) -> None:
    url, signer = served
    data = page_bytes()
    if kind == "blob":
        target, media, limit = f"/v1/blobs/{body_digest(data)}", "image/jpeg", BLOB_LIMIT
    else:
        target, media, limit = f"/v1/dossiers/{uuid4()}", "application/json", JSON_LIMIT
    headers = signer.headers("PUT", target, data, content_type=media)
    headers["Content-Length"] = str(TWO_GB)
    lines = [f"PUT {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    answer = _raw_exchange(url, ("\r\n".join(lines) + "\r\n\r\n").encode(), data)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert HEADER_SERVER_TIME.lower().encode() in head.lower()
    assert b"application/json" in head
    found = HttpAnswer(413, {}, body).json()
    assert found["error"] == "too_large"
    assert found["limit"] == limit
    assert "quá lớn" in found["message"]
    assert [_count(upstream_settings, t) for t in (Blob, Dossier)] == [0, 0]


def test_a_body_just_over_the_limit_is_refused_by_the_app(tmp_path: Path) -> None:
    """Over the limit but within waitress's cap (limit + slack): the app's own 413."""
    settings = UpstreamSettings(
        db_url=f"sqlite:///{tmp_path}/up.sqlite3", max_blob_bytes=1000, max_json_bytes=1000
    )
    with running_upstream(settings) as url:
        signer = HttpSigner(url, enroll_http(url, make_token(settings)))
        data = b"x" * 5000
        answer = signer("PUT", f"/v1/blobs/{body_digest(data)}", data, content_type="image/jpeg")
        assert answer.status == 413
        assert answer.json()["limit"] == 1000
        manifest = sample_manifest(originals=["x" * 5000])
        big = signer.put_json(f"/v1/dossiers/{manifest['uuid']}", manifest)
        assert big.status == 413
        assert big.json()["limit"] == 1000
    assert _count(settings, Blob) == 0


def _all_at_once(count: int, job: Callable[[], T]) -> list[T]:
    """Run `job` in `count` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait(timeout=10)
        found = job()
        with lock:
            results.append(found)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == count
    return results


def test_concurrent_identical_deliveries_store_one_and_replay_the_rest(
    served: tuple[str, HttpSigner], upstream_settings: UpstreamSettings
) -> None:
    _url, signer = served
    data = page_bytes(7)
    blob_target = f"/v1/blobs/{body_digest(data)}"
    blobs = _all_at_once(
        6, lambda: signer("PUT", blob_target, data, content_type="image/jpeg").status
    )
    assert sorted(blobs) == [200] * 5 + [201]
    manifest = sample_manifest(pages=[data])
    target = f"/v1/dossiers/{manifest['uuid']}"
    answers = _all_at_once(6, lambda: signer.put_json(target, manifest))
    assert sorted(a.status for a in answers) == [200] * 5 + [201]
    assert {a.json()["status"] for a in answers} == {"sent"}
    assert _count(upstream_settings, Dossier) == 1
    assert _count(upstream_settings, DossierPage) == 1


def test_concurrent_enrolments_with_one_token_make_one_device(
    served: tuple[str, HttpSigner], upstream_settings: UpstreamSettings
) -> None:
    url, _signer = served
    token = make_token(upstream_settings)
    body = b'{"token": "%s"}' % token.encode()
    answers = _all_at_once(5, lambda: _post(url, body))
    assert sorted(answers) == [201] + [403] * 4


def _post(url: str, body: bytes) -> int:
    return http_request(url, "POST", "/v1/enroll", body, JSON_TYPE).status


def test_the_server_restarts_on_the_same_port_with_its_data(
    upstream_settings: UpstreamSettings,
) -> None:
    server = UpstreamServer(upstream_settings)
    url = server.start()
    try:
        signer = HttpSigner(url, enroll_http(url, make_token(upstream_settings)))
        data = page_bytes(3)
        target = f"/v1/blobs/{body_digest(data)}"
        assert signer("PUT", target, data, content_type="image/jpeg").status == 201
        server.restart()
        assert server.url == url
        assert signer("PUT", target, data, content_type="image/jpeg").status == 200
    finally:
        server.stop()
    with pytest.raises(OSError):
        signer("GET", "/v1/updates")
