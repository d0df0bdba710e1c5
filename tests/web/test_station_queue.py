"""The volunteers' queue page: what waits to go to the commune, why, and "send now".

The relay is played by updating outbox rows the way it does (attempts, last_error, states), and
its status file by writing runtime_dir/relay.json. `outbox_rows`, `relay_did` and `commune_says`
are also used by test_handout.py and test_history.py.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import or_, select, update

from appliance.intake import Intake
from appliance.receipts import local_time
from appliance.services import Services
from appliance.store.tables import Dossier, Event, OutboxItem, Page
from tests.appliance.test_disk_guard import Filed, pretend_free, queued
from tests.web.conftest import text
from tests.web.test_station import Desk

BIRTH = "1.001193"
QUEUE = "/station/hang-doi"
OFFLINE = "Mất kết nối với xã, sẽ thử lại / No link to the commune; will retry"


def outbox_rows(services: Services, filed: Filed) -> list[OutboxItem]:
    """The dossier's manifest row and the blob rows of its pages, in row order."""
    with services.sessions() as session:
        dossier_id = session.scalar(select(Dossier.id).where(Dossier.uuid == filed.uuid))
        shas = select(Page.blob_sha256).where(Page.dossier_id == dossier_id)
        mine = or_(
            (OutboxItem.kind == "manifest") & (OutboxItem.key == filed.uuid),
            (OutboxItem.kind == "blob") & OutboxItem.key.in_(shas),
        )
        return list(session.scalars(select(OutboxItem).where(mine).order_by(OutboxItem.id)))


def relay_did(services: Services, filed: Filed, kind: str, **values: Any) -> None:
    """Change the dossier's outbox rows of `kind` as the relay would (state, attempts, …)."""
    ids = [row.id for row in outbox_rows(services, filed) if row.kind == kind]
    with services.sessions.begin() as session:
        session.execute(update(OutboxItem).where(OutboxItem.id.in_(ids)).values(**values))


def commune_says(
    services: Services,
    filed: Filed,
    status: str,
    at: datetime,
    note: str | None = None,
    appointment: date | None = None,
    actor: str = "commune",
) -> None:
    """A status update as the relay applies one: the new status, the commune's latest word,
    and a status event."""
    with services.sessions.begin() as session:
        row = session.scalars(select(Dossier).where(Dossier.uuid == filed.uuid)).one()
        payload = {
            "from": row.status,
            "to": status,
            "update_id": 7,
            "note": note,
            "appointment_date": appointment.isoformat() if appointment else None,
        }
        row.status, row.updated_at = status, at
        if actor == "commune":
            row.officer_note = note
            row.result_due = appointment or row.result_due
        session.add(
            Event(dossier_id=row.id, kind="status", payload=payload, actor=actor, created_at=at)
        )


def submitted_ago(services: Services, filed: Filed, delta: timedelta) -> None:
    with services.sessions.begin() as session:
        session.execute(
            update(Dossier)
            .where(Dossier.uuid == filed.uuid)
            .values(submitted_at=datetime.now(UTC) - delta)
        )


def write_uplink(services: Services, **fields: Any) -> None:
    folder = services.settings.runtime_dir
    folder.mkdir(parents=True, exist_ok=True)
    status = {
        "pid": os.getpid(),
        "updated_at": datetime.now(UTC).isoformat(),
        "uplink": "online",
        "last_ok_at": None,
        "last_error": None,
        "queue_depth": 0,
        "clock_offset": 0.0,
        **fields,
    }
    (folder / "relay.json").write_text(json.dumps(status), encoding="utf-8")


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    return Desk(app, services)


def test_anonymous_visitors_are_sent_to_the_login(client: FlaskClient) -> None:
    for url in (QUEUE, "/station/ket-qua", "/station/ho-so/XB1-K7M4QD"):
        response = client.get(url)
        assert response.status_code == 303
        assert response.headers["Location"].startswith(f"/login?next={url}")


def test_a_waiting_dossier_shows_what_is_left_since_when_and_the_last_error(
    desk: Desk, services: Services
) -> None:
    filed = queued(services, "Trần Thị Bình")
    submitted_ago(services, filed, timedelta(hours=2, minutes=5))
    later = datetime.now(UTC) + timedelta(minutes=30)
    relay_did(services, filed, "blob", attempts=3, last_error=OFFLINE, next_attempt_at=later)
    html = desk.page(QUEUE)
    assert "1 hồ sơ đang chờ gửi" in html
    assert filed.code in html and "Trần Thị Bình" in html and "Đăng ký khai sinh" in html
    kilobytes = -(-sum(p.bytes for p in Intake(services).get(filed.uuid).pages) // 1024)
    assert f"Còn 2 trang chưa gửi ({kilobytes} KB)" in html
    assert "nộp 2 giờ trước" in html
    assert "Đã thử 3 lần" in html
    assert f"Thử lại lúc {local_time(later).strftime('%H:%M %d/%m/%Y')}" in html
    assert "Lần thử trước: Mất kết nối với xã, sẽ thử lại" in html
    assert "No link to the commune" not in html  # one language per page
    assert f'href="/station/ho-so/{filed.code}"' in html
    desk.client.set_cookie("lang", "en")
    english = desk.page(QUEUE)
    assert "No link to the commune; will retry" in english and "2 hours ago" in english


def test_a_dossier_whose_pages_arrived_waits_for_its_manifest_then_leaves(
    desk: Desk, services: Services
) -> None:
    filed = queued(services)
    relay_did(services, filed, "blob", state="delivered")
    html = desk.page(QUEUE)
    assert "Các trang đã gửi xong; còn gửi thông tin hồ sơ" in html
    relay_did(services, filed, "manifest", state="in_flight", attempts=1)
    assert "Đang gửi…" in desk.page(QUEUE)
    relay_did(services, filed, "manifest", state="delivered")
    html = desk.page(QUEUE)
    assert "0 hồ sơ đang chờ gửi" in html and "mọi hồ sơ đã đến xã" in html
    assert f'href="/station/ho-so/{filed.code}"' in html  # still among the recent ones


def test_a_page_shared_by_two_dossiers_counts_for_both(desk: Desk, services: Services) -> None:
    first = queued(services, "Lê Văn Cường", pages=1)
    second = queued(services, "Phạm Thị Dung", pages=0)
    with services.sessions.begin() as session:  # the same photo filed again in the second
        page = session.scalars(select(Page)).one()
        second_id = session.scalar(select(Dossier.id).where(Dossier.uuid == second.uuid))
        session.add(
            Page(
                **{c: getattr(page, c) for c in ("paper_name", "blob_sha256", "mode", "width")},
                **{"height": page.height, "bytes": page.bytes, "created_at": page.created_at},
                dossier_id=second_id,
                position=1,
            )
        )
    assert desk.page(QUEUE).count("Còn 1 trang chưa gửi") == 2
    relay_did(services, first, "blob", state="delivered")
    assert desk.page(QUEUE).count("Các trang đã gửi xong") == 2


def test_rejected_and_conflicted_dossiers_say_why_and_to_tell_the_technician(
    desk: Desk, services: Services
) -> None:
    refused = queued(services, "Võ Văn Em")
    clash = queued(services, "Đỗ Thị Giang")
    relay_did(services, refused, "blob", state="rejected", last_error="Xã từ chối: tệp quá lớn")
    relay_did(services, clash, "blob", state="delivered")
    relay_did(
        services,
        clash,
        "manifest",
        state="conflict",
        last_error="Xã đã có hồ sơ khác cùng mã — cần kỹ thuật viên / The commune holds another",
    )
    html = desk.page(QUEUE)
    assert "0 hồ sơ đang chờ gửi · 2 hồ sơ cần kỹ thuật viên" in html
    assert "Lý do: Xã từ chối: tệp quá lớn" in html
    assert "Lý do: Xã đã có hồ sơ khác cùng mã — cần kỹ thuật viên" in html
    assert html.count("Hãy báo kỹ thuật viên") == 2
    assert "Gửi ngay" not in html  # nothing the relay would send


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"uplink": "online", "last_ok_at": "2026-11-22T03:15:00+00:00"}, "Đã gửi lúc 10:15"),
        ({"uplink": "sending"}, "Đang gửi lên xã"),
        ({"uplink": "offline", "last_error": OFFLINE}, "Mất kết nối với xã, sẽ thử lại"),
        ({"uplink": "not_enrolled"}, "Chưa đăng ký với xã"),
        ({"uplink": "revoked"}, "Xã đã thu hồi quyền gửi của hộp"),
        ({"updated_at": "2020-01-01T00:00:00+00:00"}, "Chưa rõ tình trạng kết nối"),
        ({"pid": 2**22 + 12345}, "Chưa rõ tình trạng kết nối"),  # above Linux's pid_max
        ({"updated_at": 1.5e9}, "Chưa rõ tình trạng kết nối"),
    ],
)
def test_the_link_to_the_commune_is_told_from_the_relays_status_file(
    desk: Desk, services: Services, fields: dict[str, Any], shown: str
) -> None:
    assert "Chưa rõ tình trạng kết nối" in desk.page(QUEUE)  # no file: no relay running
    write_uplink(services, **fields)
    assert shown in desk.page(QUEUE)


def test_a_broken_status_file_reads_as_unknown(desk: Desk, services: Services) -> None:
    services.settings.runtime_dir.mkdir(parents=True, exist_ok=True)
    (services.settings.runtime_dir / "relay.json").write_text("{half", encoding="utf-8")
    assert "Chưa rõ tình trạng kết nối" in desk.page(QUEUE)


def test_send_now_makes_every_waiting_item_due_and_leaves_the_rest(
    desk: Desk, services: Services
) -> None:
    waiting, stopped, sent = queued(services, "A"), queued(services, "B"), queued(services, "C")
    later = datetime.now(UTC) + timedelta(hours=1)
    relay_did(services, waiting, "blob", attempts=4, next_attempt_at=later, last_error=OFFLINE)
    relay_did(services, stopped, "blob", state="rejected", next_attempt_at=later)
    relay_did(services, sent, "blob", state="delivered", next_attempt_at=later)
    with services.sessions.begin() as session:
        session.add(
            OutboxItem(
                kind="sms",
                key="status:x:1",
                payload={},
                state="pending",
                attempts=0,
                next_attempt_at=later,
                created_at=later,
                updated_at=later,
            )
        )
    before = datetime.now(UTC)
    response = desk.post(QUEUE + "/gui-ngay")
    after = datetime.now(UTC)
    assert response.status_code == 303 and response.headers["Location"] == QUEUE
    due = [row for row in outbox_rows(services, waiting) if row.kind == "blob"]
    assert due and all(before <= row.next_attempt_at <= after for row in due)
    assert all(row.attempts == 4 and row.state == "pending" for row in due)
    for filed in (stopped, sent):
        blobs = [row for row in outbox_rows(services, filed) if row.kind == "blob"]
        assert all(row.next_attempt_at == later for row in blobs)
    with services.sessions() as session:
        sms = session.scalars(select(OutboxItem).where(OutboxItem.key == "status:x:1")).one()
    assert sms.next_attempt_at == later  # SMS are not this relay's
    assert "Hộp sẽ gửi ngay các hồ sơ đang chờ" in desk.page(QUEUE)


def test_send_now_with_nothing_waiting_says_so(desk: Desk) -> None:
    response = desk.post(QUEUE + "/gui-ngay", follow_redirects=True)
    assert "Không có gì đang chờ gửi." in text(response)


def test_send_now_needs_the_token(desk: Desk, services: Services) -> None:
    filed = queued(services)
    later = datetime.now(UTC) + timedelta(hours=1)
    relay_did(services, filed, "blob", next_attempt_at=later)
    assert desk.client.post(QUEUE + "/gui-ngay").status_code == 400
    assert all(r.next_attempt_at == later for r in outbox_rows(services, filed) if r.kind == "blob")


def test_the_station_home_links_both_pages_with_their_counts(
    desk: Desk, services: Services
) -> None:
    queued(services, "A")
    done = queued(services, "B")
    relay_did(services, done, "blob", state="delivered")
    relay_did(services, done, "manifest", state="delivered")
    commune_says(services, done, "done", datetime.now(UTC))
    html = desk.page("/station")
    assert 'href="/station/hang-doi">Hồ sơ chờ gửi lên xã: 1</a>' in html
    assert 'href="/station/ket-qua">Kết quả cần trao: 1</a>' in html


def test_a_nearly_full_card_is_shown_on_the_queue_page(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "Bộ nhớ của hộp sắp đầy" not in desk.page(QUEUE)
    pretend_free(monkeypatch, 0)
    assert "Bộ nhớ của hộp sắp đầy" in desk.page(QUEUE)


def test_a_full_card_refuses_new_dossiers_with_a_message_on_either_screen(
    desk: Desk, app: Flask, services: Services, phone: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.web.test_auth import csrf_token_of

    filed = queued(services)
    rows = [(row.kind, row.key, row.state) for row in outbox_rows(services, filed)]
    pretend_free(monkeypatch, 0)
    response = desk.post("/station/new", procedure=BIRTH, follow_redirects=True)
    assert response.status_code == 200 and response.request.path == "/station"
    assert "Bộ nhớ của hộp đã đầy; hồ sơ mới tạm dừng" in text(response)
    token = csrf_token_of(phone, f"/nop/{BIRTH}")
    refused = phone.post(f"/nop/{BIRTH}", data={"csrf_token": token})
    assert refused.status_code == 507
    page = text(refused)
    assert "Hồ sơ đã lưu vẫn an toàn và sẽ được gửi." in page and "storage is full" not in page
    assert Intake(services).list_drafts("station") == []
    assert [(row.kind, row.key, row.state) for row in outbox_rows(services, filed)] == rows
