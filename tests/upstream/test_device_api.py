"""Device API: enrolment, request signing, body limits, and JSON errors on both databases."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from appliance.domain.protocol import HEADER_SERVER_TIME, body_digest, signed_headers
from tests.support.upstream_server import (
    EnrolledDevice,
    FakeClock,
    Signer,
    enroll,
    make_token,
    page_bytes,
)
from upstream import store
from upstream.app import Upstream
from upstream.tables import Blob, Device, EnrollToken, Nonce

TWO_GB = 2 * 1024**3


def _context(app: Flask) -> Upstream:
    found: Upstream = app.extensions["upstream"]
    return found


# --- enrolment ---------------------------------------------------------------------------------


def test_enroll_gives_an_id_and_secret_for_the_tokens_hamlet(
    upstream_app: Flask, upstream_client: FlaskClient, clock: FakeClock
) -> None:
    sessions = _context(upstream_app).sessions
    token = make_token(sessions, "Thôn Suối Râm", now=clock.now)
    answer = upstream_client.post(
        "/v1/enroll", json={"token": token, "hostname": "hb-suoi-ram", "software_version": "0.1.0"}
    )
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["hamlet"] == "Thôn Suối Râm"
    assert body["device_id"].startswith("hb-")
    assert len(body["secret"]) >= 32
    assert body["server_time"] == clock.now
    stored = store.find_device(sessions, body["device_id"])
    assert stored is not None
    assert (stored.hamlet, stored.hostname, stored.software_version) == (
        "Thôn Suối Râm",
        "hb-suoi-ram",
        "0.1.0",
    )
    with sessions.begin() as session:
        row = session.get(EnrollToken, store.token_digest(token))
        assert row is not None and row.device_id == body["device_id"]
        assert token not in {row.token_sha256, row.hamlet}  # only the hash is kept


def test_a_token_enrolls_once(
    upstream_app: Flask, upstream_client: FlaskClient, clock: FakeClock
) -> None:
    sessions = _context(upstream_app).sessions
    token = make_token(sessions, now=clock.now)
    enroll(upstream_client, token)
    again = upstream_client.post("/v1/enroll", json={"token": token})
    assert again.status_code == 403
    assert again.get_json()["error"] == "bad_token"
    assert store.count_rows(sessions, Device) == 1


def test_an_expired_or_unknown_token_is_refused(
    upstream_app: Flask, upstream_client: FlaskClient, clock: FakeClock
) -> None:
    sessions = _context(upstream_app).sessions
    token = make_token(sessions, days=1, now=clock.now)
    clock.advance(86400 + 1)
    for attempt in (token, "x" * 43):
        answer = upstream_client.post("/v1/enroll", json={"token": attempt})
        assert answer.status_code == 403
        assert "hết hạn" in answer.get_json()["message"]
    assert store.count_rows(sessions, Device) == 0


def test_enroll_refuses_bodies_it_does_not_understand(
    upstream_app: Flask, upstream_client: FlaskClient
) -> None:
    cases = [
        (b"{not json", "bad_json"),
        (b"[1, 2]", "not_object"),
        (b'{"token": 12345678901234567}', "invalid_body"),
        (b'{"token": "abcdefghijklmnopqrstu", "admin": true}', "invalid_body"),
        (b'{"token": NaN}', "bad_json"),
    ]
    for body, code in cases:
        answer = upstream_client.post("/v1/enroll", data=body, content_type="application/json")
        assert answer.status_code == 400, body
        assert answer.get_json()["error"] == code
    assert "admin: unknown field" in answer_problems(upstream_client)
    assert store.count_rows(_context(upstream_app).sessions, Device) == 0


def answer_problems(client: FlaskClient) -> list[str]:
    answer = client.post("/v1/enroll", json={"token": "abcdefghijklmnopqrstu", "admin": True})
    problems: list[str] = answer.get_json()["problems"]
    return problems


# --- signing -----------------------------------------------------------------------------------


def test_a_signed_request_is_accepted_and_every_answer_has_the_server_clock(
    signed: Signer, upstream_client: FlaskClient, clock: FakeClock
) -> None:
    good = signed("GET", "/v1/updates?after=0&limit=10")
    assert good.status_code == 200
    assert good.headers[HEADER_SERVER_TIME] == f"{clock.now:.3f}"
    refused = upstream_client.get("/v1/updates")
    assert refused.status_code == 401
    assert refused.headers[HEADER_SERVER_TIME] == f"{clock.now:.3f}"


def test_missing_or_malformed_signing_headers_are_unsigned(
    signed: Signer, upstream_client: FlaskClient
) -> None:
    assert upstream_client.get("/v1/updates").get_json()["error"] == "unsigned"
    for header, value in [
        ("X-HB-Timestamp", "soon"),
        ("X-HB-Nonce", "short"),
        ("X-HB-Signature", "zz" * 32),
        ("X-HB-Device", "a b"),
    ]:
        answer = signed("GET", "/v1/updates", headers={header: value})
        assert answer.status_code == 401
        assert answer.get_json()["error"] == "unsigned", header


def test_an_unknown_device_is_refused(upstream_client: FlaskClient, clock: FakeClock) -> None:
    stranger = EnrolledDevice("hb-nobody-here", "s" * 43, "Thôn Xà Bang 1")
    answer = Signer(upstream_client, stranger, clock)("GET", "/v1/updates")
    assert answer.status_code == 401
    body = answer.get_json()
    assert body["error"] == "unknown_device"
    assert " / " in body["message"]


def test_a_revoked_device_is_refused(
    upstream_app: Flask, signed: Signer, device: EnrolledDevice, clock: FakeClock
) -> None:
    with _context(upstream_app).sessions.begin() as session:
        session.execute(
            update(Device)
            .where(Device.id == device.id)
            .values(revoked_at=datetime.fromtimestamp(clock.now, UTC))
        )
    answer = signed("GET", "/v1/updates")
    assert answer.status_code == 403
    assert answer.get_json()["error"] == "revoked"


def test_a_stale_timestamp_is_answered_with_the_server_clock(
    signed: Signer, clock: FakeClock
) -> None:
    for offset in (-301, 301):
        answer = signed("GET", "/v1/updates", timestamp=int(clock.now) + offset)
        assert answer.status_code == 401
        body = answer.get_json()
        assert body["error"] == "clock_skew"
        assert body["server_time"] == clock.now
    assert signed("GET", "/v1/updates", timestamp=int(clock.now) - 299).status_code == 200


def test_a_wrong_signature_is_refused_and_stores_nothing(
    upstream_app: Flask, signed: Signer
) -> None:
    data = page_bytes()
    target = f"/v1/blobs/{body_digest(data)}"
    wrong_key = signed("PUT", target, data, content_type="image/jpeg", secret="not-the-secret")
    assert wrong_key.status_code == 401
    assert wrong_key.get_json()["error"] == "bad_signature"
    # Signed for other bytes than those sent: the body is part of what is signed.
    tampered = signed(
        "PUT",
        target,
        data,
        content_type="image/jpeg",
        headers=_signature_of(signed, "PUT", target, b"x"),
    )
    assert tampered.get_json()["error"] == "bad_signature"
    # Signed for another path (or query) than the one requested.
    moved = signed(
        "GET", "/v1/updates?after=5", headers=_signature_of(signed, "GET", "/v1/updates", b"")
    )
    assert moved.get_json()["error"] == "bad_signature"
    sessions = _context(upstream_app).sessions
    assert store.count_rows(sessions, Blob) == 0
    assert store.count_rows(sessions, Nonce) == 0


def _signature_of(signer: Signer, method: str, target: str, body: bytes) -> dict[str, str]:
    """Headers signing another request than the one they will be sent with."""
    return signed_headers(
        signer.device.id, signer.device.secret, method, target, int(signer.clock()), "n" * 22, body
    )


def test_a_replayed_request_is_refused(upstream_app: Flask, signed: Signer) -> None:
    first = signed("GET", "/v1/updates", nonce="same-nonce-1234567890")
    assert first.status_code == 200
    again = signed("GET", "/v1/updates", nonce="same-nonce-1234567890")
    assert again.status_code == 401
    assert again.get_json()["error"] == "replayed"


def test_a_nonce_is_spent_even_when_the_request_then_fails(
    upstream_app: Flask, signed: Signer
) -> None:
    """Recorded in its own transaction: a request refused after the signature check cannot be
    replayed to try again."""
    failed = signed.put_json("/v1/dossiers/not-a-uuid", {}, nonce="spent-nonce-1234567890")
    assert failed.status_code == 400
    again = signed.put_json("/v1/dossiers/not-a-uuid", {}, nonce="spent-nonce-1234567890")
    assert again.get_json()["error"] == "replayed"


def test_old_nonces_are_forgotten_now_and_then(
    upstream_app: Flask, signed: Signer, clock: FakeClock
) -> None:
    sessions = _context(upstream_app).sessions
    for _ in range(3):
        assert signed("GET", "/v1/updates").status_code == 200
    assert store.count_rows(sessions, Nonce) == 3
    clock.advance(2 * 300 + 61)
    assert signed("GET", "/v1/updates").status_code == 200
    assert store.count_rows(sessions, Nonce) == 1  # the three old ones purged, this one kept


# --- body limits -------------------------------------------------------------------------------


def test_a_two_gigabyte_declared_body_is_refused_unread(
    upstream_app: Flask, signed: Signer
) -> None:
    stream = _CountingStream(page_bytes())
    target = f"/v1/blobs/{'0' * 64}"
    answer = signed(
        "PUT",
        target,
        content_type="image/jpeg",
        input_stream=stream,
        environ={"CONTENT_LENGTH": str(TWO_GB)},
    )
    assert answer.status_code == 413, answer.get_data()
    body = answer.get_json()
    assert body["error"] == "too_large"
    assert body["limit"] == 20 * 1024 * 1024
    assert "quá lớn" in body["message"] and "too large" in body["message"]
    assert stream.read_bytes == 0
    assert store.count_rows(_context(upstream_app).sessions, Blob) == 0


def test_json_bodies_have_a_smaller_limit(signed: Signer) -> None:
    answer = signed.post_json("/v1/heartbeat", {"figures": {"x": "y" * (1024 * 1024)}})
    assert answer.status_code == 413
    assert answer.get_json()["limit"] == 1024 * 1024


def test_a_body_without_a_length_is_cut_after_the_limit(
    upstream_app: Flask, signed: Signer
) -> None:
    """No Content-Length (chunked): at most limit + 1 bytes are read, then refused."""
    big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    stream = _CountingStream(big)
    answer = signed(
        "POST",
        "/v1/heartbeat",
        content_type="application/json",
        input_stream=stream,
        environ={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )
    assert answer.status_code == 413
    assert stream.read_bytes <= 1024 * 1024 + 1


class _CountingStream(io.BytesIO):
    """A request body that counts what the server read of it."""

    read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data


# --- unknown paths and methods -----------------------------------------------------------------


def test_unknown_paths_and_methods_answer_json(upstream_client: FlaskClient) -> None:
    missing = upstream_client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.get_json()["error"] == "not_found"
    assert HEADER_SERVER_TIME in missing.headers
    wrong = upstream_client.delete(f"/v1/blobs/{'a' * 64}")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"] == "method_not_allowed"
    assert "PUT" in wrong.headers["Allow"]


def test_token_expiry_counts_from_its_making(
    upstream_app: Flask, upstream_client: FlaskClient, clock: FakeClock
) -> None:
    sessions = _context(upstream_app).sessions
    token = make_token(sessions, days=2, now=clock.now)
    with sessions.begin() as session:
        row = session.get(EnrollToken, store.token_digest(token))
        assert row is not None
        assert row.expires_at - row.created_at == timedelta(days=2)
    clock.advance(2 * 86400 - 60)
    enroll(upstream_client, token)
