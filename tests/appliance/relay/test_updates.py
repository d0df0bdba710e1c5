"""The commune's decisions reach the box exactly once: history, promised date, note, and one SMS
queued per decision, whatever is fetched twice or crashes half-way."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from appliance.relay import outbox
from appliance.relay.client import TransportError
from appliance.relay.updates import pull_updates
from appliance.services import Services
from appliance.store import relay_repo
from appliance.store.relay_repo import RelayRepo
from tests.appliance.relay.helpers import (
    FakeClient,
    at,
    dossier,
    events,
    queue_dossier,
    reply,
    status_sms,
)

NOW = at(1_760_000_000)
LATER = NOW + timedelta(minutes=5)


@pytest.fixture
def repo(services: Services) -> RelayRepo:
    return RelayRepo(services.sessions)


@pytest.fixture
def uuid(services: Services) -> str:
    return queue_dossier(services, "a", NOW, pages=1)


def update(n: int, uuid: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": n,
        "uuid": uuid,
        "receipt_code": "XB1-23456A",
        "status": status,
        "note": None,
        "appointment_date": None,
        "at": "2025-10-09T09:00:00+00:00",
        **extra,
    }


def page(updates: list[dict[str, Any]], cursor: int, more: bool = False) -> Any:
    return reply(200, {"updates": updates, "cursor": cursor, "more": more})


def test_a_decision_on_a_queued_dossier_first_marks_it_sent(
    services: Services, repo: RelayRepo, uuid: str
) -> None:
    received = update(7, uuid, "received", appointment_date="2025-10-20")
    applied = repo.apply_updates([received], 7, LATER)
    assert (applied.applied, applied.skipped, applied.ignored) == (1, 0, 0)
    row = dossier(services, uuid)
    assert (row.status, row.result_due, row.officer_note) == ("received", date(2025, 10, 20), None)
    assert row.updated_at == LATER
    history = [(e.actor, e.payload) for e in events(services, uuid)]
    assert history == [
        ("relay", {"from": "queued", "to": "sent", "update_id": None, "note": None,
                   "appointment_date": None}),
        ("commune", {"from": "sent", "to": "received", "update_id": 7, "note": None,
                     "appointment_date": "2025-10-20"}),
    ]  # fmt: skip
    (sms,) = status_sms(services)
    assert (sms.key, sms.state, sms.attempts, sms.next_attempt_at) == (
        f"status:{uuid}:7",
        "pending",
        0,
        LATER,
    )
    assert sms.dossier_id == row.id
    assert sms.payload == {
        "event": "received",
        "to": "0912345678",
        "lang": "vi",
        "params": {
            "code": row.receipt_code,
            "procedure": row.procedure_code,
            "note": None,
            "date": "2025-10-20",
        },
    }
    assert repo.cursor() == 7


def test_the_same_page_applied_again_changes_nothing(
    services: Services, repo: RelayRepo, uuid: str
) -> None:
    decisions = [
        update(3, uuid, "received", appointment_date="2025-10-20"),
        update(4, uuid, "needs_more", note="Thiếu giấy chứng sinh bản chính"),
    ]
    repo.apply_updates(decisions, 4, NOW)
    again = repo.apply_updates(decisions, 4, LATER)
    assert (again.applied, again.skipped) == (0, 2)
    row = dossier(services, uuid)
    assert (row.status, row.officer_note) == ("needs_more", "Thiếu giấy chứng sinh bản chính")
    assert row.result_due == date(2025, 10, 20), "a decision without a date keeps the promised one"
    assert len(events(services, uuid)) == 3
    assert [r.key for r in status_sms(services)] == [f"status:{uuid}:3", f"status:{uuid}:4"]


def test_a_crash_before_the_cursor_is_saved_applies_nothing(
    services: Services, repo: RelayRepo, uuid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def power_cut(*args: Any) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(relay_repo, "_put_state", power_cut)
    with pytest.raises(OSError):
        repo.apply_updates([update(1, uuid, "received")], 1, NOW)
    assert dossier(services, uuid).status == "queued"
    assert events(services, uuid) == [] and status_sms(services) == []
    monkeypatch.undo()

    assert repo.apply_updates([update(1, uuid, "received")], 1, NOW).applied == 1
    assert dossier(services, uuid).status == "received"
    assert len(status_sms(services)) == 1 and repo.cursor() == 1


def test_the_same_status_again_is_skipped_and_told_once(
    services: Services, repo: RelayRepo, uuid: str
) -> None:
    found = repo.apply_updates([update(1, uuid, "received"), update(2, uuid, "received")], 2, NOW)
    assert (found.applied, found.skipped) == (1, 1)
    assert len(status_sms(services)) == 1


def test_processing_is_recorded_without_an_sms(
    services: Services, repo: RelayRepo, uuid: str
) -> None:
    repo.apply_updates([update(1, uuid, "received"), update(2, uuid, "processing")], 2, NOW)
    assert dossier(services, uuid).status == "processing"
    assert [r.key for r in status_sms(services)] == [f"status:{uuid}:1"]


def test_a_move_the_lifecycle_forbids_is_kept_as_an_ignored_event(
    services: Services, repo: RelayRepo, uuid: str
) -> None:
    repo.apply_updates([update(1, uuid, "received"), update(2, uuid, "done")], 2, NOW)
    found = repo.apply_updates([update(3, uuid, "needs_more", note="Bổ sung")], 3, NOW)
    assert (found.applied, found.ignored) == (0, 1)
    assert dossier(services, uuid).status == "done"
    (ignored,) = events(services, uuid, "status_ignored")
    assert ignored.actor == "commune"
    assert ignored.payload is not None
    assert (ignored.payload["from"], ignored.payload["to"]) == ("done", "needs_more")
    assert ignored.payload["update_id"] == 3
    assert len(status_sms(services)) == 2, "received and done; nothing for the ignored one"


def test_unknown_dossiers_and_malformed_updates_are_skipped_and_the_cursor_moves_on(
    services: Services, repo: RelayRepo, uuid: str
) -> None:
    junk = [
        update(1, "00000000-0000-0000-0000-000000000000", "received"),
        update(2, uuid, "returned"),
        update(3, uuid, "received", appointment_date="20/10/2025"),
        {"id": "4", "uuid": uuid, "status": "received"},
        update(5, uuid, "received", note=17),
    ]
    found = repo.apply_updates(junk, 5, NOW)
    assert (found.applied, found.skipped) == (0, 5)
    assert dossier(services, uuid).status == "queued"
    assert repo.cursor() == 5


def test_pull_follows_the_feed_page_by_page(services: Services, repo: RelayRepo, uuid: str) -> None:
    client = FakeClient()
    client.script(
        "updates",
        page([update(1, uuid, "received")], 1, more=True),
        page([update(2, uuid, "processing"), update(3, uuid, "done")], 3),
    )
    assert pull_updates(client, repo, lambda: NOW) == 3  # type: ignore[arg-type]
    assert [args[0] for args in client.called("updates")] == [0, 1]
    assert dossier(services, uuid).status == "done" and repo.cursor() == 3

    client.script("updates", page([], 3))
    assert pull_updates(client, repo, lambda: NOW) == 0  # type: ignore[arg-type]
    assert client.called("updates")[-1][0] == 3


def test_pull_stops_when_more_is_promised_but_the_cursor_stands_still(repo: RelayRepo) -> None:
    client = FakeClient()
    client.script("updates", page([], 0, more=True))
    assert pull_updates(client, repo, lambda: NOW) == 0  # type: ignore[arg-type]
    assert len(client.called("updates")) == 1


@pytest.mark.parametrize(
    ("answer", "action"),
    [
        (reply(403, {"error": "revoked", "message": "m"}), "revoked"),
        (reply(503), "retry"),
        (reply(200, {"updates": "x", "cursor": 1, "more": False}), "retry"),
        (reply(200, {"updates": [], "cursor": -1, "more": False}), "retry"),
        (reply(200, None), "retry"),
    ],
)
def test_a_failed_pull_says_why_and_keeps_the_cursor(
    repo: RelayRepo, answer: Any, action: str
) -> None:
    client = FakeClient()
    client.script("updates", answer)
    with pytest.raises(outbox.Refused) as caught:
        pull_updates(client, repo, lambda: NOW)  # type: ignore[arg-type]
    assert caught.value.outcome.action == action
    assert repo.cursor() == 0


def test_no_answer_at_all_is_the_clients_transport_error(repo: RelayRepo) -> None:
    client = FakeClient()
    client.script("updates", TransportError("connection refused"))
    with pytest.raises(TransportError):
        pull_updates(client, repo, lambda: NOW)  # type: ignore[arg-type]
