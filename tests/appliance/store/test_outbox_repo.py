"""The outbox as the relay works it: claim order, recovery after a crash, two relays at once, and
what each recorded answer does to the dossier and the items that depend on it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from appliance.services import Services
from appliance.store.db import make_engine, make_sessions
from appliance.store.outbox_repo import LOST_ON_BOX, PAGE_NOT_SENT, Claimed, OutboxRepo
from appliance.store.tables import Dossier, OutboxItem
from tests.appliance.relay.helpers import at, dossier, events, queue_dossier, rows

NOW = at(1_760_000_000)


@pytest.fixture
def repo(services: Services) -> OutboxRepo:
    return OutboxRepo(services.sessions, services.blobs)


def claim(repo: OutboxRepo, moment: float = 0) -> Claimed:
    found = repo.claim_next(NOW + timedelta(seconds=moment))
    assert found is not None
    return found


def test_blobs_go_before_their_manifest_and_a_waiting_manifest_lets_others_pass(
    services: Services, repo: OutboxRepo
) -> None:
    first = queue_dossier(services, "a", NOW)
    second = queue_dossier(services, "b", NOW)
    a1, a2, a_manifest, b1, b2, b_manifest = rows(services)
    assert [r.kind for r in rows(services)] == ["blob", "blob", "manifest"] * 2
    assert (a_manifest.key, b_manifest.key) == (first, second)

    got = claim(repo)
    assert (got.id, got.kind, got.attempts) == (a1.id, "blob", 1)
    assert got.data == services.blobs.read(a1.key)
    repo.delivered(got.id, NOW)
    assert claim(repo).id == a2.id
    repo.retry(a2.id, NOW, "Mất kết nối / No link", delay=60)
    # The first dossier's manifest waits for its page; the second dossier goes meanwhile.
    for expected in (b1, b2, b_manifest):
        got = claim(repo)
        assert got.id == expected.id
        repo.delivered(got.id, NOW)
    assert repo.claim_next(NOW) is None
    assert repo.next_due_at() == NOW + timedelta(seconds=60)

    again = claim(repo, 60)
    assert (again.id, again.attempts) == (a2.id, 2)
    repo.delivered(again.id, NOW)
    manifest = claim(repo, 60)
    assert (manifest.id, manifest.kind, manifest.key) == (a_manifest.id, "manifest", first)
    assert manifest.payload["uuid"] == first and manifest.data is None


def test_nothing_is_claimed_before_it_is_due(services: Services, repo: OutboxRepo) -> None:
    queue_dossier(services, "a", NOW)
    assert repo.claim_next(NOW - timedelta(seconds=1)) is None
    assert repo.next_due_at() == NOW


def test_in_flight_items_go_back_to_pending_at_start(services: Services, repo: OutboxRepo) -> None:
    queue_dossier(services, "a", NOW)
    first, second = claim(repo), claim(repo)
    assert [r.state for r in rows(services)] == ["in_flight", "in_flight", "pending"]
    assert repo.reset_in_flight(NOW) == 2
    assert [r.state for r in rows(services)] == ["pending"] * 3
    resumed = claim(repo)
    assert (resumed.id, resumed.attempts) == (first.id, 2)
    assert second.id != resumed.id


def test_two_relays_never_claim_the_same_item(services: Services) -> None:
    for n in range(8):
        queue_dossier(services, f"d{n}", NOW)
    engines = [make_engine(services.settings.database_path) for _ in range(2)]
    claimed: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def work(n: int) -> None:
        mine = OutboxRepo(make_sessions(engines[n]), services.blobs)
        start.wait(timeout=10)
        while (got := mine.claim_next(NOW)) is not None:
            claimed[n].append(got.id)
            mine.delivered(got.id, NOW)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for engine in engines:
            engine.dispose()
    everything = claimed[0] + claimed[1]
    assert sorted(everything) == [r.id for r in rows(services)]
    assert len(set(everything)) == len(everything) == 24
    assert {r.state for r in rows(services)} == {"delivered"}


def test_a_delivered_manifest_makes_the_dossier_sent_with_a_history_line(
    services: Services, repo: OutboxRepo
) -> None:
    uuid = queue_dossier(services, "a", NOW, pages=1)
    repo.delivered(claim(repo).id, NOW)
    manifest = claim(repo)
    assert dossier(services, uuid).status == "queued"
    assert repo.delivered(manifest.id, NOW + timedelta(seconds=5)) is True
    assert dossier(services, uuid).status == "sent"
    (event,) = events(services, uuid)
    assert event.actor == "relay" and event.created_at == NOW + timedelta(seconds=5)
    assert event.payload == {
        "from": "queued",
        "to": "sent",
        "update_id": None,
        "note": None,
        "appointment_date": None,
    }
    assert [r.state for r in rows(services)] == ["delivered", "delivered"]
    assert rows(services)[1].delivered_at == NOW + timedelta(seconds=5)


def test_a_dossier_withdrawn_meanwhile_stays_withdrawn(
    services: Services, repo: OutboxRepo
) -> None:
    uuid = queue_dossier(services, "a", NOW, pages=1)
    repo.delivered(claim(repo).id, NOW)
    manifest = claim(repo)
    with services.sessions.begin() as session:
        session.execute(update(Dossier).where(Dossier.uuid == uuid).values(status="withdrawn"))
    repo.delivered(manifest.id, NOW)
    assert dossier(services, uuid).status == "withdrawn"
    assert events(services, uuid) == []


def test_a_refused_page_takes_its_waiting_manifest_along(
    services: Services, repo: OutboxRepo
) -> None:
    queue_dossier(services, "a", NOW)
    other = queue_dossier(services, "b", NOW)
    page = claim(repo)
    repo.reject(page.id, NOW, "Xã từ chối: tệp quá lớn / The commune refused it: too large")
    states = [(r.kind, r.state) for r in rows(services)]
    assert states[:3] == [("blob", "rejected"), ("blob", "pending"), ("manifest", "rejected")]
    assert rows(services)[2].last_error == (
        f"{PAGE_NOT_SENT}: Xã từ chối: tệp quá lớn / The commune refused it: too large"
    )
    assert {r.state for r in rows(services)[3:]} == {"pending"}
    assert claim(repo).id == rows(services)[1].id, "the other page still goes"
    assert dossier(services, other).status == "queued"


def test_a_page_lost_on_the_box_is_refused_and_the_next_item_claimed(
    services: Services, repo: OutboxRepo
) -> None:
    queue_dossier(services, "a", NOW)
    lost = rows(services)[0]
    services.blobs.path(lost.key).unlink()
    got = claim(repo)
    assert got.id == rows(services)[1].id
    assert (rows(services)[0].state, rows(services)[0].last_error) == ("rejected", LOST_ON_BOX)
    assert rows(services)[2].state == "rejected"


def test_pages_the_upstream_lost_are_sent_again_before_the_manifest(
    services: Services, repo: OutboxRepo
) -> None:
    queue_dossier(services, "a", NOW)
    first, second = claim(repo), claim(repo)
    repo.delivered(first.id, NOW)
    repo.delivered(second.id, NOW)
    manifest = claim(repo)
    repo.resend_blobs(manifest.id, NOW, [second.key], "Xã chưa có đủ trang", delay=30)
    assert [r.state for r in rows(services)] == ["delivered", "pending", "pending"]
    assert rows(services)[2].last_error == "Xã chưa có đủ trang"
    assert claim(repo).id == second.id
    repo.delivered(second.id, NOW)
    assert repo.claim_next(NOW) is None, "the manifest keeps its own backoff"
    assert claim(repo, 30).id == manifest.id


def test_stats_count_what_waits_and_what_was_refused(services: Services, repo: OutboxRepo) -> None:
    empty = repo.stats(NOW)
    assert (empty.queue_depth, empty.oldest_undelivered_seconds, empty.next_due_at) == (
        0,
        None,
        None,
    )
    queue_dossier(services, "a", NOW, pages=1)
    queue_dossier(services, "b", NOW + timedelta(seconds=100), pages=1)
    queue_dossier(services, "c", NOW + timedelta(seconds=200), pages=1)
    a_blob, a_manifest, b_blob, _, c_blob, _ = rows(services)
    repo.delivered(a_blob.id, NOW)
    repo.conflict(a_manifest.id, NOW, "Xã đã có hồ sơ khác cùng mã")
    repo.reject(b_blob.id, NOW, "Xã từ chối")
    repo.retry(c_blob.id, NOW, "Mất kết nối", delay=10)
    found = repo.stats(NOW + timedelta(seconds=500))
    assert found.queue_depth == 1
    assert found.oldest_undelivered_seconds == 300
    assert (found.rejected, found.conflicts) == (2, 1)
    assert found.next_due_at == NOW + timedelta(seconds=10)
    assert [w.kind for w in repo.waiting()] == ["blob", "manifest"]


def test_sms_rows_are_not_the_relays_to_send(services: Services, repo: OutboxRepo) -> None:
    uuid = queue_dossier(services, "a", NOW, pages=1)
    with services.sessions.begin() as session:
        session.execute(update(OutboxItem).values(kind="sms"))
    assert repo.claim_next(NOW) is None
    assert repo.next_due_at() is None
    assert repo.stats(NOW).queue_depth == 0
    assert dossier(services, uuid).status == "queued"
