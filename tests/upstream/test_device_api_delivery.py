"""Device API: pages and manifests delivered exactly once, the updates feed, heartbeats."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from appliance.domain.protocol import body_digest, canonical_json
from tests.support.upstream_server import (
    EnrolledDevice,
    FakeClock,
    Signer,
    deliver_dossier,
    enroll,
    make_token,
    page_bytes,
    sample_manifest,
)
from upstream import store
from upstream.app import Upstream
from upstream.tables import Blob, Device, Dossier, DossierPage, Heartbeat, Update


def _context(app: Flask) -> Upstream:
    found: Upstream = app.extensions["upstream"]
    return found


def _counts(app: Flask) -> tuple[int, ...]:
    """Rows of blobs, dossiers and pages: what a refused request must leave as it was."""
    sessions = _context(app).sessions
    return tuple(store.count_rows(sessions, t) for t in (Blob, Dossier, DossierPage))


def _put_page(signed: Signer, data: bytes, media_type: str = "image/jpeg") -> Any:
    return signed("PUT", f"/v1/blobs/{body_digest(data)}", data, content_type=media_type)


# --- blobs -------------------------------------------------------------------------------------


def test_a_page_is_stored_once_under_its_hash(upstream_app: Flask, signed: Signer) -> None:
    data = page_bytes()
    first = _put_page(signed, data)
    assert first.status_code == 201
    assert first.get_json() == {"sha256": body_digest(data), "bytes": len(data)}
    again = _put_page(signed, data)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    with _context(upstream_app).sessions.begin() as session:
        row = session.get(Blob, body_digest(data))
        assert row is not None
        assert (row.data, row.media_type, row.size) == (data, "image/jpeg", len(data))


def test_bytes_that_do_not_match_their_hash_are_refused(
    upstream_app: Flask, signed: Signer
) -> None:
    data = page_bytes()
    answer = signed("PUT", f"/v1/blobs/{body_digest(b'other')}", data, content_type="image/jpeg")
    assert answer.status_code == 422
    assert answer.get_json()["error"] == "hash_mismatch"
    assert _counts(upstream_app) == (0, 0, 0)


def test_a_page_must_be_tiff_or_jpeg_and_not_empty(upstream_app: Flask, signed: Signer) -> None:
    data = page_bytes()
    answer = _put_page(signed, data, "application/pdf")
    assert answer.status_code == 415
    assert answer.get_json()["error"] == "bad_media_type"
    assert _put_page(signed, data, "image/tiff").status_code == 201  # any page type, same bytes
    empty = _put_page(signed, b"")
    assert empty.status_code == 400
    assert empty.get_json()["error"] == "empty"
    bad = signed("PUT", "/v1/blobs/ABC", data, content_type="image/jpeg")
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "bad_path"
    assert _counts(upstream_app) == (1, 0, 0)


# --- manifests ---------------------------------------------------------------------------------


def test_a_manifest_is_received_with_the_devices_hamlet(
    upstream_app: Flask, signed: Signer, device: EnrolledDevice, clock: FakeClock
) -> None:
    pages = [page_bytes(10), page_bytes(20)]
    for data in pages:
        _put_page(signed, data)
    manifest = sample_manifest(pages=pages, hamlet="A hamlet the box made up")
    answer = signed.put_json(f"/v1/dossiers/{manifest['uuid']}", manifest)
    assert answer.status_code == 201
    assert answer.get_json() == {
        "uuid": manifest["uuid"],
        "status": "sent",
        "receipt_code": manifest["receipt_code"],
    }
    with _context(upstream_app).sessions.begin() as session:
        row = session.get(Dossier, manifest["uuid"])
        assert row is not None
        assert row.hamlet == device.hamlet
        assert (row.device_id, row.procedure, row.applicant_name) == (
            device.id,
            "1.001193",
            "Nguyễn Thị Lan",
        )
        assert row.manifest == manifest
        assert row.manifest_sha256 == hashlib.sha256(canonical_json(manifest)).hexdigest()
        assert row.received_at == datetime.fromtimestamp(clock.now, UTC)
        stored = session.scalars(
            select(DossierPage.sha256)
            .where(DossierPage.dossier_uuid == row.uuid)
            .order_by(DossierPage.position)
        ).all()
        assert stored == [body_digest(p) for p in pages]


def test_an_identical_replay_is_answered_from_the_store(
    upstream_app: Flask, signed: Signer
) -> None:
    manifest = deliver_dossier(signed)
    reordered = dict(reversed(list(manifest.items())))  # same canonical JSON
    answer = signed.put_json(f"/v1/dossiers/{manifest['uuid']}", reordered)
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "sent"
    assert _counts(upstream_app) == (2, 1, 2)


def test_a_different_manifest_under_a_taken_uuid_is_a_conflict(
    upstream_app: Flask, signed: Signer
) -> None:
    manifest = deliver_dossier(signed)
    changed = copy.deepcopy(manifest)
    changed["applicant"]["full_name"] = "Trần Văn Bình"
    answer = signed.put_json(f"/v1/dossiers/{manifest['uuid']}", changed)
    assert answer.status_code == 409
    assert answer.get_json()["error"] == "conflict"
    with _context(upstream_app).sessions.begin() as session:
        row = session.get(Dossier, manifest["uuid"])
        assert row is not None and row.manifest == manifest  # never overwritten
        assert row.applicant_name == "Nguyễn Thị Lan"


def test_the_same_manifest_from_another_device_is_a_conflict(
    upstream_app: Flask, signed: Signer, clock: FakeClock
) -> None:
    manifest = deliver_dossier(signed)
    client = signed.client
    other = enroll(client, make_token(_context(upstream_app).sessions, now=clock.now))
    answer = Signer(client, other, clock).put_json(f"/v1/dossiers/{manifest['uuid']}", manifest)
    assert answer.status_code == 409


def test_a_manifest_naming_a_page_never_sent_is_refused(
    upstream_app: Flask, signed: Signer
) -> None:
    sent, never = page_bytes(1), page_bytes(2)
    _put_page(signed, sent)
    manifest = sample_manifest(pages=[sent, never])
    answer = signed.put_json(f"/v1/dossiers/{manifest['uuid']}", manifest)
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["error"] == "missing_blobs"
    assert body["missing"] == [body_digest(never)]
    assert _counts(upstream_app) == (1, 0, 0)


def test_a_manifest_that_is_not_an_object_or_not_json_is_refused(
    upstream_app: Flask, signed: Signer
) -> None:
    uuid = sample_manifest()["uuid"]
    target = f"/v1/dossiers/{uuid}"
    for body, code in [(b"[]", "not_object"), (b'"x"', "not_object"), (b"{", "bad_json")]:
        answer = signed("PUT", target, body, content_type="application/json")
        assert answer.status_code == 400
        assert answer.get_json()["error"] == code
    assert signed.put_json("/v1/dossiers/NOT-A-UUID", {}).get_json()["error"] == "bad_path"
    assert _counts(upstream_app) == (0, 0, 0)


def test_a_manifest_breaking_the_schema_lists_its_problems(
    upstream_app: Flask, signed: Signer
) -> None:
    data = page_bytes()
    _put_page(signed, data)
    manifest = sample_manifest(pages=[data, data], channel="fax")
    manifest["pages"][1]["position"] = 1
    answer = signed.put_json(f"/v1/dossiers/{sample_manifest()['uuid']}", manifest)
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["error"] == "invalid_manifest"
    assert "uuid: must be the UUID in the path" in body["problems"]
    assert "channel: must be station/phone" in body["problems"]
    fixed = sample_manifest(pages=[data, data])
    fixed["pages"][1]["position"] = 1
    duplicate = signed.put_json(f"/v1/dossiers/{fixed['uuid']}", fixed)
    assert duplicate.get_json()["problems"] == ["pages: each position only once"]
    assert _counts(upstream_app) == (1, 0, 0)


# --- updates feed ------------------------------------------------------------------------------


def _add_update(app: Flask, uuid: str, status: str, **fields: Any) -> None:
    """An officer's decision, as the inbox (upstream/inbox_store.py) writes it."""
    with _context(app).sessions.begin() as session:
        device_id = session.scalars(select(Dossier.device_id).where(Dossier.uuid == uuid)).one()
        session.add(
            Update(
                device_id=device_id,
                dossier_uuid=uuid,
                status=status,
                created_at=datetime(2025, 10, 10, 9, 0, tzinfo=UTC),
                **fields,
            )
        )


def test_the_feed_gives_this_devices_updates_after_the_cursor(
    upstream_app: Flask, signed: Signer, clock: FakeClock
) -> None:
    mine = deliver_dossier(signed)
    other = Signer(
        signed.client,
        enroll(signed.client, make_token(_context(upstream_app).sessions, now=clock.now)),
        clock,
    )
    theirs = deliver_dossier(other, pages=[page_bytes(99)])
    _add_update(upstream_app, mine["uuid"], "received", appointment_date=date(2025, 10, 20))
    _add_update(upstream_app, theirs["uuid"], "received")
    _add_update(upstream_app, mine["uuid"], "needs_more", note="Thiếu bản sao sổ hộ khẩu")
    _add_update(upstream_app, mine["uuid"], "done")

    first = signed("GET", "/v1/updates?after=0&limit=2").get_json()
    assert [u["status"] for u in first["updates"]] == ["received", "needs_more"]
    assert first["more"] is True
    assert first["updates"][0]["appointment_date"] == "2025-10-20"
    assert first["updates"][0]["receipt_code"] == mine["receipt_code"]
    assert first["updates"][1]["note"] == "Thiếu bản sao sổ hộ khẩu"
    assert first["cursor"] == first["updates"][1]["id"]
    rest = signed("GET", f"/v1/updates?after={first['cursor']}").get_json()
    assert [u["status"] for u in rest["updates"]] == ["done"]
    assert rest["more"] is False
    empty = signed("GET", f"/v1/updates?after={rest['cursor']}").get_json()
    assert empty == {"updates": [], "cursor": rest["cursor"], "more": False}
    assert len(other("GET", "/v1/updates").get_json()["updates"]) == 1


def test_the_feed_refuses_bad_query_values(signed: Signer) -> None:
    for query in ("after=-1", "after=x", "limit=0", "limit=501", "after=1e3", f"after={2**64}"):
        answer = signed("GET", f"/v1/updates?{query}")
        assert answer.status_code == 400, query
        assert answer.get_json()["error"] == "bad_query"


# --- heartbeat ---------------------------------------------------------------------------------


def test_a_heartbeat_keeps_the_latest_and_the_software_version(
    upstream_app: Flask, signed: Signer, device: EnrolledDevice, clock: FakeClock
) -> None:
    beat = {"software_version": "0.2.0", "queue_depth": 3, "modem_signal_dbm": -71}
    answer = signed.post_json("/v1/heartbeat", beat)
    assert answer.status_code == 200
    assert answer.get_json() == {"server_time": clock.now}
    clock.advance(300)
    later = {**beat, "queue_depth": 0, "software_version": "0.2.1"}
    assert signed.post_json("/v1/heartbeat", later).status_code == 200
    sessions = _context(upstream_app).sessions
    with sessions.begin() as session:
        rows = session.scalars(select(Heartbeat)).all()
        assert [(r.body, r.received_at) for r in rows] == [
            (later, datetime.fromtimestamp(clock.now, UTC))
        ]
        found = session.get(Device, device.id)
        assert found is not None and found.software_version == "0.2.1"


def test_a_heartbeat_must_be_an_object_with_its_fields(upstream_app: Flask, signed: Signer) -> None:
    assert signed.post_json("/v1/heartbeat", [1]).get_json()["error"] == "not_object"
    answer = signed.post_json("/v1/heartbeat", {"software_version": "x" * 40, "queue_depth": -1})
    assert answer.status_code == 400
    assert answer.get_json()["problems"] == [
        "software_version: must be text of at most 32 characters",
        "queue_depth: must be a whole number from 0",
    ]
    with _context(upstream_app).sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Heartbeat)) == 0
