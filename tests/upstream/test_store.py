"""The device side's store, where a race is hard to hit through HTTP: a twin that wins between
the look and the write is answered as a replay, never as an error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from appliance.domain.protocol import body_digest
from tests.support.upstream_server import page_bytes, sample_manifest
from upstream import store
from upstream.db import open_store
from upstream.tables import Blob, Device, Dossier, Nonce

NOW = datetime(2025, 10, 9, 8, 30, tzinfo=UTC)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine, made = open_store(db_url)
    yield made
    engine.dispose()


@pytest.fixture
def device(sessions: sessionmaker[Session]) -> Device:
    token = store.new_token(sessions, "Thôn Xà Bang 1", 14, NOW)
    found = store.enroll(sessions, token, "hb-test", "0.1.0", NOW)
    assert found is not None
    return found


def _store_pages(sessions: sessionmaker[Session], device: Device, *pages: bytes) -> None:
    for data in pages:
        store.put_blob(sessions, device.id, body_digest(data), "image/jpeg", data, NOW)


def test_a_blob_stored_by_a_twin_meanwhile_is_a_replay(
    sessions: sessionmaker[Session], device: Device, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = page_bytes()
    assert store.put_blob(sessions, device.id, body_digest(data), "image/jpeg", data, NOW)
    monkeypatch.setattr(store, "_blob_known", lambda *_: False)  # looked before the twin wrote
    assert not store.put_blob(sessions, device.id, body_digest(data), "image/jpeg", data, NOW)
    assert store.count_rows(sessions, Blob) == 1


def test_a_manifest_stored_by_a_twin_meanwhile_is_a_replay_or_a_conflict(
    sessions: sessionmaker[Session], device: Device, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = page_bytes()
    _store_pages(sessions, device, data)
    manifest = sample_manifest(pages=[data])
    assert store.put_dossier(sessions, device, manifest, NOW).outcome == "created"
    real_replay = store._replay
    looks: list[str] = []

    def late_look(*args: object) -> store.Received | None:
        looks.append("look")
        return None if len(looks) == 1 else real_replay(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_replay", late_look)
    assert store.put_dossier(sessions, device, manifest, NOW).outcome == "same"
    looks.clear()
    changed = {**manifest, "receipt_code": "XB1-99999Z"}
    assert store.put_dossier(sessions, device, changed, NOW).outcome == "conflict"
    assert store.count_rows(sessions, Dossier) == 1


def test_a_used_or_expired_token_enrolls_nothing(sessions: sessionmaker[Session]) -> None:
    token = store.new_token(sessions, "Thôn A", 1, NOW)
    assert store.enroll(sessions, token, None, None, NOW + timedelta(days=1)) is None
    assert store.enroll(sessions, token, None, None, NOW) is not None
    assert store.enroll(sessions, token, None, None, NOW) is None
    assert store.enroll(sessions, "never-made-this-token", None, None, NOW) is None
    assert store.count_rows(sessions, Device) == 1


def test_nonces_are_kept_per_device_and_purged_by_age(
    sessions: sessionmaker[Session], device: Device
) -> None:
    other_token = store.new_token(sessions, "Thôn B", 1, NOW)
    other = store.enroll(sessions, other_token, None, None, NOW)
    assert other is not None
    assert store.record_nonce(sessions, device.id, "n" * 16, NOW)
    assert not store.record_nonce(sessions, device.id, "n" * 16, NOW)
    assert store.record_nonce(sessions, other.id, "n" * 16, NOW)  # another device's own
    assert store.record_nonce(sessions, device.id, "m" * 16, NOW + timedelta(minutes=20))
    store.purge_nonces(sessions, NOW + timedelta(minutes=10))
    assert store.count_rows(sessions, Nonce) == 1


def test_received_dossiers_list_pages_in_page_order(
    sessions: sessionmaker[Session], device: Device
) -> None:
    first, second = page_bytes(1), page_bytes(2)
    _store_pages(sessions, device, first, second)
    manifest = sample_manifest(pages=[first, second])
    manifest["pages"][0]["position"], manifest["pages"][1]["position"] = 2, 1
    store.put_dossier(sessions, device, manifest, NOW)
    later = sample_manifest(pages=[first])
    store.put_dossier(sessions, device, later, NOW + timedelta(seconds=1))
    found = store.received_dossiers(sessions)
    assert [d["uuid"] for d in found] == [manifest["uuid"], later["uuid"]]
    assert found[0]["pages"] == [body_digest(second), body_digest(first)]
