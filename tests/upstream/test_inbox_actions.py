"""The officer's decisions: each one changes the dossier and puts exactly one update on the box's
feed, in one transaction; bad input, a move the lifecycle forbids, a stale page or a missing CSRF
token change nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.support.upstream_server import FakeClock, Signer
from tests.upstream.test_inbox import file_dossier, receive
from tests.upstream.test_officers import NAME, csrf_of, officer_client, problem, sessions_of
from upstream import inbox_store
from upstream.inbox_store import Decision, DossierChanged
from upstream.tables import Dossier, Update

TODAY = date(2025, 10, 9)  # the fake clock's day in Vietnam (15:53 local)


@dataclass(frozen=True)
class State:
    """What a decision may change: the dossier's own fields and the updates on the feed."""

    status: str
    note: str | None
    appointment_date: date | None
    updates: int


def state(app: Flask, uuid: str) -> State:
    with sessions_of(app).sessions() as db:
        found = db.get(Dossier, uuid)
        assert found is not None
        count = db.scalar(select(func.count()).select_from(Update)) or 0
        return State(found.status, found.note, found.appointment_date, count)


@pytest.fixture
def officer(upstream_app: Flask, upstream_client: FlaskClient) -> FlaskClient:
    return officer_client(upstream_app, upstream_client)


Act = Callable[..., TestResponse]


@pytest.fixture
def act(officer: FlaskClient) -> Act:
    """Post a decision from the dossier's page, as the officer's browser does."""

    def post(uuid: str, action: str, **fields: str) -> TestResponse:
        page = officer.get(f"/ho-so/{uuid}").text
        seen = fields.pop("seen", None) or _seen(page)
        form = {"csrf_token": csrf_of(page), "seen": seen, "action": action, **fields}
        return officer.post(f"/ho-so/{uuid}", data=form)

    return post


def _seen(page: str) -> str:
    marker = 'name="seen" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


GOOD = [
    # (set up to, action, form, expected note, expected appointment)
    (None, "received", {"appointment_date": "2025-10-16"}, None, date(2025, 10, 16)),
    (None, "received", {"appointment_date": "09/10/2025", "note": " Hẹn "}, "Hẹn", TODAY),
    ("needs_more", "received", {"appointment_date": "2025-10-20"}, None, date(2025, 10, 20)),
    (
        "received",
        "needs_more",
        {"note": "Thiếu bản sao\r\nCCCD của mẹ"},
        "Thiếu bản sao\nCCCD của mẹ",
        TODAY,
    ),
    (
        None,
        "rejected",
        {"note": "Không thuộc thẩm quyền của xã"},
        "Không thuộc thẩm quyền của xã",
        None,
    ),
    ("received", "processing", {}, None, TODAY),
    ("processing", "done", {"note": "Mời nhận tại nhà văn hóa"}, "Mời nhận tại nhà văn hóa", TODAY),
]


@pytest.mark.parametrize(("before", "action", "form", "note", "appointment"), GOOD)
def test_a_decision_changes_the_dossier_and_feeds_one_update(
    upstream_app: Flask,
    act: Act,
    signed: Signer,
    clock: FakeClock,
    before: str | None,
    action: str,
    form: Mapping[str, str],
    note: str | None,
    appointment: date | None,
) -> None:
    uuid, code = file_dossier(signed)
    if before == "received":
        receive(upstream_app, uuid, clock)
    elif before is not None:
        receive(upstream_app, uuid, clock, then=before)
    was = state(upstream_app, uuid)
    clock.advance(600)
    answer = act(uuid, action, **form)
    assert answer.status_code == 303 and answer.headers["Location"] == f"/ho-so/{uuid}"
    now = state(upstream_app, uuid)
    assert now == State(action, note, appointment, was.updates + 1)
    feed = signed("GET", f"/v1/updates?after={was.updates}").get_json()
    (update,) = feed["updates"]
    assert update["uuid"] == uuid and update["receipt_code"] == code
    assert update["status"] == action and update["note"] == note
    expected_date = appointment.isoformat() if action == "received" and appointment else None
    assert update["appointment_date"] == expected_date
    with sessions_of(upstream_app).sessions() as db:
        row = db.scalars(select(Update).order_by(Update.id.desc())).first()
        found = db.get(Dossier, uuid)
    assert row is not None and row.officer == NAME
    assert found is not None and found.updated_at == datetime.fromtimestamp(clock.now, UTC)


def test_the_page_confirms_and_keeps_the_history(
    act: Act, officer: FlaskClient, signed: Signer
) -> None:
    uuid, _ = file_dossier(signed)
    act(uuid, "received", appointment_date="2025-10-16")
    page = officer.get(f"/ho-so/{uuid}").text
    assert "Đã tiếp nhận hồ sơ / Dossier received" in page
    history = page[page.index('<ol class="history">') :]
    assert "Đã tiếp nhận" in history and NAME in history and "16/10/2025" in history
    assert "Đã tiếp nhận hồ sơ" not in officer.get(f"/ho-so/{uuid}").text  # said once


BAD = [
    ("received", {}, "Hãy chọn ngày hẹn trả kết quả"),
    ("received", {"appointment_date": "mai"}, "Hãy chọn ngày hẹn trả kết quả"),
    ("received", {"appointment_date": "31/02/2025"}, "Hãy chọn ngày hẹn trả kết quả"),
    ("received", {"appointment_date": "2025-10-08"}, "không được ở trong quá khứ"),
    ("received", {"appointment_date": "2027-01-01"}, "xa quá một năm"),
    ("needs_more", {}, "Hãy ghi những giấy tờ cần bổ sung"),
    ("needs_more", {"note": " \n\t "}, "Hãy ghi những giấy tờ cần bổ sung"),
    ("rejected", {"note": ""}, "Hãy ghi lý do từ chối"),
    ("rejected", {"note": "x" * 1001}, "Ghi chú dài quá 1000 ký tự"),
    ("withdrawn", {}, "Không rõ thao tác"),
    ("returned", {}, "Không rõ thao tác"),
]


@pytest.mark.parametrize(("action", "form", "said"), BAD)
def test_bad_input_changes_nothing_and_says_why(
    upstream_app: Flask,
    act: Act,
    signed: Signer,
    clock: FakeClock,
    action: str,
    form: Mapping[str, str],
    said: str,
) -> None:
    uuid, _ = file_dossier(signed)
    if action != "received":
        receive(upstream_app, uuid, clock)
    was = state(upstream_app, uuid)
    answer = act(uuid, action, **form)
    assert answer.status_code == 400
    assert said in problem(answer) and " / " in problem(answer)
    assert state(upstream_app, uuid) == was


def test_what_was_typed_is_kept_when_the_page_comes_back(act: Act, signed: Signer) -> None:
    uuid, _ = file_dossier(signed)
    answer = act(uuid, "received", appointment_date="2025-10-01")
    assert 'value="2025-10-01"' in answer.text


def test_the_past_is_judged_by_the_communes_calendar(
    upstream_app: Flask, act: Act, signed: Signer, clock: FakeClock
) -> None:
    """At 18:30 UTC on 9 October it is already 10 October in Vietnam: the 9th is the past."""
    clock.now = datetime(2025, 10, 9, 18, 30, tzinfo=UTC).timestamp()
    uuid, _ = file_dossier(signed)
    refused = act(uuid, "received", appointment_date="2025-10-09")
    assert refused.status_code == 400 and "quá khứ" in problem(refused)
    assert act(uuid, "received", appointment_date="2025-10-10").status_code == 303


@pytest.mark.parametrize(
    ("before", "action", "form"),
    [
        (None, "done", {}),
        (None, "processing", {}),
        (None, "needs_more", {"note": "Thiếu giấy"}),
        ("received", "received", {"appointment_date": "2025-10-16"}),
        ("rejected", "received", {"appointment_date": "2025-10-16"}),
        ("rejected", "processing", {}),
    ],
)
def test_a_move_the_lifecycle_forbids_is_refused(
    upstream_app: Flask,
    act: Act,
    officer: FlaskClient,
    signed: Signer,
    clock: FakeClock,
    before: str | None,
    action: str,
    form: Mapping[str, str],
) -> None:
    uuid, _ = file_dossier(signed)
    if before == "received":
        receive(upstream_app, uuid, clock)
    elif before == "rejected":
        act(uuid, "rejected", note="Sai thủ tục")
    was = state(upstream_app, uuid)
    answer = act(uuid, action, seen=was.status, **form)  # a final status offers no form at all
    assert answer.status_code == 400
    assert "không thể chuyển sang" in problem(answer)
    assert state(upstream_app, uuid) == was
    buttons = officer.get(f"/ho-so/{uuid}").text
    assert f'name="action" value="{action}"' not in buttons  # never offered in the first place


def test_a_change_made_meanwhile_is_detected(
    upstream_app: Flask, officer: FlaskClient, signed: Signer, clock: FakeClock
) -> None:
    uuid, _ = file_dossier(signed)
    page = officer.get(f"/ho-so/{uuid}").text  # the officer looks while the dossier is "sent"
    receive(upstream_app, uuid, clock, then="needs_more")  # a colleague decides first
    was = state(upstream_app, uuid)
    form = {"csrf_token": csrf_of(page), "seen": "sent", "action": "rejected", "note": "Sai"}
    answer = officer.post(f"/ho-so/{uuid}", data=form)
    assert answer.status_code == 409
    assert "vừa được người khác cập nhật" in problem(answer)
    assert "Chờ bổ sung giấy tờ" in answer.text  # the page now shows the new status
    assert state(upstream_app, uuid) == was


def test_two_decisions_at_the_same_moment_make_one_update(
    upstream_app: Flask, signed: Signer, clock: FakeClock
) -> None:
    """The guarded write itself (UPDATE … WHERE status = seen) lets only one of two racing
    decisions through, whichever database takes the second one."""
    uuid, _ = file_dossier(signed)
    sessions, now = sessions_of(upstream_app).sessions, datetime.fromtimestamp(clock.now, UTC)
    start = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def decide(decision: Decision) -> None:
        start.wait()
        try:
            inbox_store.decide(sessions, uuid, "sent", decision, "an", now)
            outcomes.append(decision.status)
        except DossierChanged:
            outcomes.append("changed")

    racers = [
        threading.Thread(target=decide, args=(Decision("received", None, TODAY),)),
        threading.Thread(target=decide, args=(Decision("rejected", "Sai thủ tục"),)),
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=30)
    assert sorted(outcomes)[0] == "changed" and len(outcomes) == 2
    won = next(o for o in outcomes if o != "changed")
    assert state(upstream_app, uuid).status == won
    assert state(upstream_app, uuid).updates == 1


def test_a_decision_without_the_csrf_token_is_refused(
    upstream_app: Flask, officer: FlaskClient, signed: Signer
) -> None:
    uuid, _ = file_dossier(signed)
    was = state(upstream_app, uuid)
    answer = officer.post(
        f"/ho-so/{uuid}",
        data={"seen": "sent", "action": "received", "appointment_date": "2025-10-16"},
    )
    assert answer.status_code == 400 and "Phiên làm việc đã hết hạn" in answer.text
    assert state(upstream_app, uuid) == was


def test_an_officer_logged_out_meanwhile_changes_nothing(
    upstream_app: Flask, officer: FlaskClient, signed: Signer, clock: FakeClock
) -> None:
    uuid, _ = file_dossier(signed)
    page = officer.get(f"/ho-so/{uuid}").text
    clock.advance(timedelta(hours=13).total_seconds())
    form = {"csrf_token": csrf_of(page), "seen": "sent", "action": "rejected", "note": "Sai"}
    answer = officer.post(f"/ho-so/{uuid}", data=form)
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/dang-nhap")
    assert state(upstream_app, uuid).status == "sent"
