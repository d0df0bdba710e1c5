"""The relay against a real upstream on loopback, through the real client: dossiers filed at the
box arrive once, the officer's decision comes back, the heartbeat and the catalog go through, and
a stop in the middle of a send loses nothing."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from appliance.catalog_source import synced_path
from appliance.config import Settings
from appliance.relay import outbox
from appliance.relay.client import Reply, UpstreamClient
from appliance.relay.credentials import load_credentials
from appliance.relay.daemon import SOON_SECONDS, Relay
from appliance.relay.daemon_cli import waiting_lines
from appliance.services import Services
from appliance.store.outbox_repo import PAGE_NOT_SENT
from appliance.store.tables import OutboxItem
from tests.appliance.relay.helpers import (
    dossier,
    events,
    queue_dossier,
    rows,
    status_sms,
    wait_for,
)
from tests.support.box import Box, accepted, delivery, enroll, file_dossiers, make_box
from tests.support.upstream_server import FakeClock, make_token, running_upstream
from upstream import tables as up
from upstream.db import open_store
from upstream.inbox_store import Decision, decide
from upstream.settings import UpstreamSettings


@pytest.fixture
def upstream(tmp_path: Path) -> UpstreamSettings:
    return UpstreamSettings(db_url=f"sqlite:///{tmp_path / 'upstream.sqlite3'}")


@pytest.fixture
def upstream_url(upstream: UpstreamSettings) -> Iterator[str]:
    with running_upstream(upstream) as url:
        yield url


@pytest.fixture
def box(tmp_path: Path, upstream: UpstreamSettings, upstream_url: str) -> Box:
    made = make_box(tmp_path / "box", upstream_url)
    enroll(made, upstream_url, make_token(upstream))
    return made


@pytest.fixture
def box_services(box: Box) -> Iterator[Services]:
    with box.services() as built:
        yield built


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
def clients() -> Iterator[list[UpstreamClient]]:
    """Every client a test makes, closed at its end."""
    made: list[UpstreamClient] = []
    yield made
    for client in made:
        client.close()


@pytest.fixture
def client_for(clients: list[UpstreamClient]) -> Callable[..., Any]:
    def make(settings: Settings, url: str | None = None, cls: type = UpstreamClient) -> Any:
        creds = load_credentials(settings)
        assert creds is not None
        client = cls(url or creds.upstream_url, creds.device_id, creds.secret, timeout=10)
        clients.append(client)
        return client

    return make


@pytest.fixture
def relay_for(client_for: Callable[..., Any], clock: FakeClock) -> Callable[..., Relay]:
    """A relay whose waits move the test's clock instead of taking time."""

    def make(settings: Settings, services: Services, client: Any = None) -> Relay:
        client = client or client_for(settings)
        return Relay(settings, services, client, clock=clock, wait=clock.advance)

    return make


def upstream_rows(upstream: UpstreamSettings, table: type[Any]) -> list[Any]:
    engine, sessions = open_store(upstream.db_url)
    try:
        with sessions() as session:
            return list(session.scalars(select(table)))
    finally:
        engine.dispose()


def officer_decides(upstream: UpstreamSettings, uuid: str, decision: Decision) -> None:
    """What the officer's "Tiếp nhận" button does in the inbox."""
    engine, sessions = open_store(upstream.db_url)
    try:
        decide(sessions, uuid, "sent", decision, "can-bo-mai", datetime.now(UTC))
    finally:
        engine.dispose()


def test_drain_delivers_filed_dossiers_exactly_once_and_reports_in(
    box: Box,
    box_services: Services,
    clock: FakeClock,
    upstream: UpstreamSettings,
    relay_for: Callable[..., Relay],
) -> None:
    uuids = file_dossiers(box_services, 2, seed=11)
    relay = relay_for(box.settings, box_services)
    result = relay.drain()
    assert (result.delivered, result.rejected, result.conflicts) == (8, 0, 0)
    assert (result.exit_code, result.errors, result.waiting) == (0, [], [])

    assert delivery(accepted(box_services), upstream.db_url).exact
    assert {r.state for r in rows(box_services)} == {"delivered"}
    for uuid in uuids:
        assert dossier(box_services, uuid).status == "sent"
        assert [e.actor for e in events(box_services, uuid)] == ["relay"]
    (beat,) = upstream_rows(upstream, up.Heartbeat)
    assert beat.body["queue_depth"] == 0
    assert synced_path(box.settings.data_dir).is_file()
    assert relay.status.uplink == "online" and relay.status.last_error is None

    assert relay.drain().delivered == 0, "a second drain has nothing to send"
    assert len(upstream_rows(upstream, up.Dossier)) == 2


def test_the_officers_decision_comes_back_to_the_box(
    box: Box,
    box_services: Services,
    clock: FakeClock,
    upstream: UpstreamSettings,
    relay_for: Callable[..., Relay],
) -> None:
    uuid = queue_dossier(box_services, "a", datetime.now(UTC))
    relay = relay_for(box.settings, box_services)
    relay.drain()
    officer_decides(upstream, uuid, Decision("received", appointment_date=date(2030, 1, 15)))
    assert relay.drain().exit_code == 0
    row = dossier(box_services, uuid)
    assert (row.status, row.result_due) == ("received", date(2030, 1, 15))
    assert [e.actor for e in events(box_services, uuid)] == ["relay", "commune"]
    (sms,) = status_sms(box_services)
    assert sms.payload is not None and sms.payload["event"] == "received"


def test_the_loop_asks_for_decisions_soon_after_a_delivery(
    box: Box,
    box_services: Services,
    clock: FakeClock,
    upstream: UpstreamSettings,
    relay_for: Callable[..., Relay],
) -> None:
    """Polling is every ten minutes here, but the commune's first answer is not kept waiting."""
    uuid = queue_dossier(box_services, "a", datetime.fromtimestamp(clock.now, UTC), pages=1)
    slow = dataclasses.replace(box.settings.relay, poll_seconds=600)
    relay = relay_for(dataclasses.replace(box.settings, relay=slow), box_services)
    assert relay.step() and relay.step()  # the page, then the manifest
    assert dossier(box_services, uuid).status == "sent"
    officer_decides(upstream, uuid, Decision("received", appointment_date=date(2030, 1, 15)))
    assert not relay.step()
    assert dossier(box_services, uuid).status == "sent"
    clock.advance(SOON_SECONDS)
    relay.step()
    assert dossier(box_services, uuid).status == "received"


class GatedClient(UpstreamClient):
    """Holds its first blob upload until the test opens the gate."""

    entered = threading.Event()
    gate = threading.Event()

    def put_blob(self, sha256: str, data: bytes, media_type: str) -> Reply:
        type(self).entered.set()
        assert type(self).gate.wait(timeout=30)
        return super().put_blob(sha256, data, media_type)


class AfterSlowClient(UpstreamClient):
    """Uploads only once a GatedClient holds a page, so the slow connection surely has one."""

    def put_blob(self, sha256: str, data: bytes, media_type: str) -> Reply:
        assert GatedClient.entered.wait(timeout=30)
        return super().put_blob(sha256, data, media_type)


def notify_socket(tmp_path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(10)
    return sock


def test_stop_during_a_send_finishes_the_request_and_records_it(
    box: Box, box_services: Services, tmp_path: Path, client_for: Callable[..., Any]
) -> None:
    queue_dossier(box_services, "a", datetime.now(UTC))
    GatedClient.entered.clear()
    GatedClient.gate.clear()
    client = client_for(box.settings, cls=GatedClient)
    listener = notify_socket(tmp_path)
    environ = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "10000000"}
    relay = Relay(box.settings, box_services, client, environ=environ)
    runner = threading.Thread(target=relay.run)
    runner.start()
    try:
        assert GatedClient.entered.wait(timeout=30)
        relay.stop()
        GatedClient.gate.set()
        runner.join(timeout=30)
        assert not runner.is_alive()
    finally:
        GatedClient.gate.set()
        client.close()
    assert [r.state for r in rows(box_services)] == ["delivered", "pending", "pending"]
    messages: list[str] = []
    while not messages or messages[-1] != "STOPPING=1":
        messages.append(listener.recv(100).decode())
    listener.close()
    assert messages[0] == "READY=1" and "WATCHDOG=1" in messages
    status = (box.settings.runtime_dir / "relay.json").read_text()
    assert '"queue_depth": 1' in status


def test_nothing_is_sent_while_the_sending_window_is_closed(
    box: Box,
    box_services: Services,
    clock: FakeClock,
    upstream: UpstreamSettings,
    relay_for: Callable[..., Relay],
) -> None:
    queue_dossier(box_services, "a", datetime.fromtimestamp(clock.now, UTC))
    local = datetime.fromtimestamp(clock.now)
    window = f"{local + timedelta(hours=2):%H:%M}-{local + timedelta(hours=3):%H:%M}"
    relay_settings = dataclasses.replace(box.settings.relay, window=window)
    closed = dataclasses.replace(box.settings, relay=relay_settings)
    result = relay_for(closed, box_services).drain()
    assert result.delivered == 0 and result.exit_code == 0
    assert {r.state for r in rows(box_services)} == {"pending"}
    assert upstream_rows(upstream, up.Blob) == []
    assert len(upstream_rows(upstream, up.Heartbeat)) == 1, "the link itself is still used"

    clock.advance(2 * 3600 + 60)  # the window opens
    assert relay_for(closed, box_services).drain().delivered == 3


def test_drain_gives_up_when_the_upstream_cannot_be_reached(
    box: Box,
    box_services: Services,
    clock: FakeClock,
    relay_for: Callable[..., Relay],
    client_for: Callable[..., Any],
) -> None:
    uuid = queue_dossier(box_services, "a", datetime.fromtimestamp(clock.now, UTC))
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # a port no one listens on: connection refused
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        relay = relay_for(box.settings, box_services, client_for(box.settings, url))
        started = clock.now
        result = relay.drain()
    assert result.gave_up and result.exit_code == 1 and result.delivered == 0
    assert [w.kind for w in result.waiting] == ["blob", "blob", "manifest"]
    code = dossier(box_services, uuid).receipt_code
    assert waiting_lines(result.waiting) == [
        f"{code}: 2 trang + hồ sơ / 2 pages + manifest — {outbox.NO_LINK}"
    ]
    assert {r.state for r in rows(box_services)} == {"pending"}
    assert 3 <= sum(r.attempts for r in rows(box_services)) <= 6
    assert clock.now > started, "it waited for the backoff between rounds"
    assert relay.status.uplink == "offline"


def test_a_revoked_box_stops_sending(
    box: Box,
    box_services: Services,
    clock: FakeClock,
    upstream: UpstreamSettings,
    relay_for: Callable[..., Relay],
) -> None:
    queue_dossier(box_services, "a", datetime.fromtimestamp(clock.now, UTC))
    engine, sessions = open_store(upstream.db_url)
    try:
        with sessions.begin() as session:
            session.execute(update(up.Device).values(revoked_at=datetime.now(UTC)))
    finally:
        engine.dispose()
    relay = relay_for(box.settings, box_services)
    result = relay.drain()
    assert result.revoked and result.exit_code == 1 and result.delivered == 0
    assert sum(r.attempts for r in rows(box_services)) == 1, "one refusal is enough"
    assert {r.state for r in rows(box_services)} == {"pending"}
    assert relay.status.uplink == "revoked" and relay.status.last_error == outbox.REVOKED


def test_a_different_dossier_under_the_same_uuid_is_a_conflict_never_overwritten(
    box: Box,
    box_services: Services,
    clock: FakeClock,
    upstream: UpstreamSettings,
    relay_for: Callable[..., Relay],
    client_for: Callable[..., Any],
) -> None:
    uuid = queue_dossier(box_services, "a", datetime.fromtimestamp(clock.now, UTC))
    manifest = rows(box_services, "manifest")[0].payload
    assert manifest is not None
    client = client_for(box.settings)
    for blob in rows(box_services, "blob"):
        assert client.put_blob(blob.key, box_services.blobs.read(blob.key), "image/jpeg").status
    other = {**manifest, "receipt_code": "XB1-ZZZZZZ"}
    assert client.put_manifest(uuid, other).status == 201
    result = relay_for(box.settings, box_services, client).drain()
    assert (result.delivered, result.conflicts) == (2, 1)
    assert rows(box_services, "manifest")[0].state == "conflict"
    assert rows(box_services, "manifest")[0].last_error == outbox.CONFLICT
    assert dossier(box_services, uuid).status == "queued"
    (held,) = upstream_rows(upstream, up.Dossier)
    assert held.receipt_code == "XB1-ZZZZZZ"


def test_pages_over_the_upstreams_limit_are_refused_with_the_reason(
    tmp_path: Path, clock: FakeClock, relay_for: Callable[..., Relay]
) -> None:
    small = UpstreamSettings(db_url=f"sqlite:///{tmp_path / 'small.sqlite3'}", max_blob_bytes=100)
    with running_upstream(small) as url:
        box = make_box(tmp_path / "small-box", url)
        enroll(box, url, make_token(small))
        with box.services() as services:
            uuid = queue_dossier(services, "a", datetime.fromtimestamp(clock.now, UTC))
            result = relay_for(box.settings, services).drain()
            items = rows(services)
            assert dossier(services, uuid).status == "queued"
    assert (result.delivered, result.rejected, result.exit_code) == (0, 2, 0)
    assert [(r.state, r.last_error) for r in items] == [
        ("rejected", outbox.TOO_LARGE),
        ("rejected", outbox.TOO_LARGE),
        ("rejected", f"{PAGE_NOT_SENT}: {outbox.TOO_LARGE}"),
    ]
    assert upstream_rows(small, up.Blob) == []


def test_pages_the_upstream_lost_are_sent_again(
    box: Box,
    box_services: Services,
    clock: FakeClock,
    upstream: UpstreamSettings,
    relay_for: Callable[..., Relay],
) -> None:
    """An upstream restored from an old backup no longer has pages the box delivered."""
    uuid = queue_dossier(box_services, "a", datetime.fromtimestamp(clock.now, UTC))
    relay = relay_for(box.settings, box_services)
    assert relay.step() and relay.step()  # both pages
    engine, sessions = open_store(upstream.db_url)
    try:
        with sessions.begin() as session:
            session.execute(delete(up.Blob))
    finally:
        engine.dispose()
    assert relay.step()  # the manifest: 422 missing_blobs
    assert [r.state for r in rows(box_services)] == ["pending", "pending", "pending"]
    assert rows(box_services, "manifest")[0].last_error == outbox.MISSING_PAGES
    assert relay.drain().exit_code == 0
    assert dossier(box_services, uuid).status == "sent"
    assert delivery(accepted(box_services), upstream.db_url).exact


def test_send_now_is_picked_up_within_a_second(
    box: Box, box_services: Services, client_for: Callable[..., Any]
) -> None:
    """The web's "Gửi ngay" sets next_attempt_at = now on pending rows; the running relay,
    waiting out a long backoff, notices it at its next one-second step."""
    later = datetime.now(UTC) + timedelta(hours=1)
    uuid = queue_dossier(box_services, "a", later)
    relay = Relay(box.settings, box_services, client_for(box.settings))
    runner = threading.Thread(target=relay.run)
    runner.start()
    try:
        status = box.settings.runtime_dir / "relay.json"
        wait_for(status.exists)
        assert {r.state for r in rows(box_services)} == {"pending"}
        with box_services.sessions.begin() as session:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.state == "pending")
                .values(next_attempt_at=datetime.now(UTC))
            )
        wait_for(lambda: dossier(box_services, uuid).status == "sent")
    finally:
        relay.stop()
        runner.join(timeout=30)
    assert not runner.is_alive()


@pytest.mark.parametrize("mode", ["drain", "run"])
def test_one_slow_answer_does_not_hold_up_the_other_connections(
    mode: str, box: Box, box_services: Services, client_for: Callable[..., Any]
) -> None:
    """While one connection waits on an answer (a stalled 3G link), the others send every other
    item, the manifest of the other dossier included; the held page then completes its own.
    Which dossier's page the slow connection takes first is up to the race for the queue."""
    now = datetime.now(UTC)
    uuids = [queue_dossier(box_services, tag, now) for tag in ("first", "second")]
    GatedClient.entered.clear()
    GatedClient.gate.clear()
    slow = client_for(box.settings, cls=GatedClient)
    others = [client_for(box.settings, cls=AfterSlowClient) for _ in range(2)]
    relay = Relay(box.settings, box_services, others[0], extra_clients=[slow, others[1]])
    runner = threading.Thread(target=relay.drain if mode == "drain" else relay.run)
    runner.start()
    try:
        assert GatedClient.entered.wait(timeout=30)
        # Every item but the held page and its dossier's manifest: 6 items, 4 sent meanwhile.
        wait_for(lambda: [r.state for r in rows(box_services)].count("delivered") == 4)
        statuses = sorted(dossier(box_services, uuid).status for uuid in uuids)
        assert statuses == ["queued", "sent"], "one dossier went whole while a page was held"
        GatedClient.gate.set()
        wait_for(lambda: {dossier(box_services, uuid).status for uuid in uuids} == {"sent"})
    finally:
        GatedClient.gate.set()
        if mode == "run":
            relay.stop()
        runner.join(timeout=60)
    assert not runner.is_alive()
    assert {r.state for r in rows(box_services)} == {"delivered"}
