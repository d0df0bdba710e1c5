"""The SMS rows of the outbox: claiming, settling, the hourly count, templates, "send again"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.db import make_sessions
from appliance.store.sms_queue import cancel_sms, queue_sms
from appliance.store.sms_repo import CUT_OFF, SENT, SmsRepo
from appliance.store.tables import Event, OutboxItem

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


@pytest.fixture
def repo(sessions: sessionmaker[Session]) -> SmsRepo:
    return SmsRepo(sessions)


def queue(
    sessions: sessionmaker[Session], key: str, to: str = "0912345678", due: datetime = T0
) -> None:
    with sessions.begin() as session:
        queue_sms(
            session,
            key=key,
            event="receipt",
            to=to,
            params={"code": "XB-1", "procedure": "1.001193", "date": None},
            lang="vi",
            now=T0,
            due=due,
        )


def test_due_lists_pending_messages_whose_time_came_oldest_first(
    sessions: sessionmaker[Session], repo: SmsRepo
) -> None:
    queue(sessions, "receipt:b", due=T0 + timedelta(minutes=1))
    queue(sessions, "receipt:a")
    queue(sessions, "reminder:later", due=T0 + timedelta(days=2))
    due = repo.due(T0 + timedelta(minutes=5))
    assert [item.key for item in due] == ["receipt:a", "receipt:b"]
    assert due[0].event == "receipt" and due[0].to == "0912345678" and due[0].lang == "vi"
    assert due[0].params["code"] == "XB-1"
    assert repo.next_due_at() == T0


def test_a_message_is_claimed_once(sessions: sessionmaker[Session], repo: SmsRepo) -> None:
    queue(sessions, "receipt:a")
    item = repo.due(T0)[0]
    claimed = repo.claim(item.id, T0)
    assert claimed is not None and claimed.state == "in_flight" and claimed.attempts == 1
    assert repo.claim(item.id, T0) is None
    assert repo.due(T0) == []


def test_delivered_writes_the_sms_sent_event_the_hourly_count_reads(
    sessions: sessionmaker[Session], repo: SmsRepo
) -> None:
    for key in ("receipt:a", "receipt:b"):
        queue(sessions, key)
        claimed = repo.claim(repo.due(T0)[0].id, T0)
        assert claimed is not None
        repo.delivered(claimed, T0 + timedelta(minutes=len(key)), "Hộp hỗ trợ", 1, [7])
    queue(sessions, "receipt:other", to="0987654321")
    with sessions() as session:
        event = session.scalars(select(Event).where(Event.kind == SENT)).first()
        assert event is not None and event.payload is not None
        assert event.payload["references"] == [7] and event.payload["text"] == "Hộp hỗ trợ"
    within = repo.sent_within_hour("0912345678", T0 + timedelta(minutes=30))
    assert len(within) == 2
    assert repo.sent_within_hour("0912345678", T0 + timedelta(minutes=70)) == []
    assert repo.sent_within_hour("0987654321", T0 + timedelta(minutes=30)) == []
    assert [sent.key for sent in repo.recent_sent()] == ["receipt:b", "receipt:a"]


def test_retry_postpone_reject_and_unsure(sessions: sessionmaker[Session], repo: SmsRepo) -> None:
    for key in ("r", "p", "x", "u"):
        queue(sessions, key)
    ids = {item.key: item.id for item in repo.due(T0)}
    for item_id in ids.values():
        repo.claim(item_id, T0)
    repo.retry(ids["r"], T0, "Không có sóng / No signal", 60)
    repo.postpone(ids["p"], T0, T0 + timedelta(minutes=30), "chờ / waiting")
    repo.reject(ids["x"], T0, "Số không hợp lệ / Invalid number")
    repo.unsure(ids["u"], T0, "có thể đã đi / may have gone")
    states = {key: repo.get(item_id) for key, item_id in ids.items()}
    assert states["r"] is not None and states["r"].state == "pending"
    assert states["r"].next_attempt_at == T0 + timedelta(seconds=60)
    assert states["p"] is not None and states["p"].attempts == 1  # postponing is no attempt
    assert states["x"] is not None and states["x"].state == "rejected"
    assert [item.key for item in repo.listed(("unsure", "rejected"))] == ["u", "x"]


def test_in_flight_messages_become_unsure_at_start(
    sessions: sessionmaker[Session], repo: SmsRepo
) -> None:
    queue(sessions, "receipt:a")
    queue(sessions, "receipt:b")
    repo.claim(repo.due(T0)[0].id, T0)
    assert repo.mark_cut_off(T0) == 1
    unsure = repo.listed(("unsure",))
    assert [item.key for item in unsure] == ["receipt:a"]
    assert unsure[0].last_error == CUT_OFF
    assert [item.key for item in repo.due(T0)] == ["receipt:b"]


def test_send_again_is_only_for_unsure_or_rejected_and_is_logged(
    sessions: sessionmaker[Session], repo: SmsRepo
) -> None:
    queue(sessions, "receipt:a")
    queue(sessions, "receipt:b")
    first, second = (item.id for item in repo.due(T0))
    repo.claim(first, T0)
    repo.unsure(first, T0, "có thể đã đi / may have gone")
    later = T0 + timedelta(hours=2)
    assert repo.send_again(second, later, "technician:minh") is False  # still pending
    assert repo.send_again(first, later, "technician:minh") is True
    again = repo.get(first)
    assert again is not None and again.state == "pending" and again.next_attempt_at == later
    with sessions() as session:
        logged = session.scalars(select(Event).where(Event.kind == "sms_resend")).one()
        assert logged.actor == "technician:minh"


def test_cancel_pending_spares_sent_and_in_flight(
    sessions: sessionmaker[Session], repo: SmsRepo
) -> None:
    queue(sessions, "a")
    queue(sessions, "b")
    repo.claim(repo.due(T0)[0].id, T0)
    assert repo.cancel_pending(T0, "tắt / off") == 1
    with sessions() as session:
        states = {
            key: state for key, state in session.execute(select(OutboxItem.key, OutboxItem.state))
        }
    assert states == {"a": "in_flight", "b": "cancelled"}


def test_queueing_twice_for_one_cause_keeps_one_message_and_cancel_sms_withdraws_it(
    sessions: sessionmaker[Session], repo: SmsRepo
) -> None:
    queue(sessions, "reminder:H7K2")
    queue(sessions, "reminder:H7K2")
    assert len(repo.due(T0)) == 1
    with sessions.begin() as session:
        assert cancel_sms(session, "reminder:H7K2", T0, "đã hủy / cancelled")
    assert repo.due(T0) == []


def test_templates_are_saved_replaced_and_reset(repo: SmsRepo) -> None:
    assert repo.templates() == {}
    repo.save_template("receipt", "vi", "Mã {code}", "technician:minh", T0)
    repo.save_template("receipt", "vi", "Mã hồ sơ {code}", "technician:lan", T0)
    repo.save_template("receipt", "en", "Code {code}", "technician:lan", T0)
    assert repo.templates() == {
        ("receipt", "vi"): "Mã hồ sơ {code}",
        ("receipt", "en"): "Code {code}",
    }
    repo.reset_template("receipt", "vi")
    assert repo.templates() == {("receipt", "en"): "Code {code}"}
