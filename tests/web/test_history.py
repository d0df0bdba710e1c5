"""A dossier's status history at the station: each change in time order, who made it, and the
commune's latest word (the promised date, the papers asked for, the reason for a refusal)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from appliance.intake import Intake
from appliance.services import Services
from appliance.store.tables import Dossier, Event
from tests.appliance.test_disk_guard import Filed, queued
from tests.web.test_station import Desk
from tests.web.test_station_queue import commune_says, relay_did

DUE = date(2026, 11, 28)


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    return Desk(app, services)


def page_of(filed: Filed) -> str:
    return f"/station/ho-so/{filed.code}"


def timeline(html: str) -> list[str]:
    """The history's lines, tags removed and spaces collapsed."""
    found = re.search(r'<ol class="steps" id="dien-bien">(.*?)</ol>', html, flags=re.S)
    assert found, "no history on the page"
    items = re.findall(r"<li>(.*?)</li>", found.group(1), flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def status_box(html: str) -> str:
    found = re.search(r'<div class="status" id="tinh-trang"[^>]*>(.*?)</div>', html, flags=re.S)
    assert found
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def delivered(services: Services, filed: Filed, at: datetime) -> None:
    relay_did(services, filed, "blob", state="delivered")
    relay_did(services, filed, "manifest", state="delivered")
    commune_says(services, filed, "sent", at, actor="relay")


def test_every_change_is_listed_in_time_order_with_who_and_what(
    desk: Desk, services: Services
) -> None:
    filed = queued(services, "Trần Thị Bình")
    start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 08:00 in the hamlet
    with services.sessions.begin() as session:
        session.execute(update(Event).where(Event.kind == "submitted").values(created_at=start))
    delivered(services, filed, start + timedelta(hours=1))
    commune_says(services, filed, "received", start + timedelta(hours=3), appointment=DUE)
    ask = "Bản sao giấy chứng sinh bị mờ, xin chụp lại"
    commune_says(services, filed, "needs_more", start + timedelta(days=1), note=ask)
    commune_says(services, filed, "received", start + timedelta(days=2))
    html = desk.page(page_of(filed))
    lines = timeline(html)
    assert len(lines) == 5
    assert lines[0] == "08:00 20/11/2026 · Trạm: Đã nộp tại thôn, chờ gửi lên xã"
    assert lines[1] == "09:00 20/11/2026 · Trạm: Đã gửi lên xã"
    assert lines[2] == "11:00 20/11/2026 · Xã: Xã đã tiếp nhận Hẹn trả kết quả: 28/11/2026"
    assert lines[3] == f"08:00 21/11/2026 · Xã: Cần bổ sung giấy tờ Xã cần bổ sung: {ask}"
    assert lines[4] == "08:00 22/11/2026 · Xã: Xã đã tiếp nhận"
    assert "Trần Thị Bình" in html and "Đăng ký khai sinh" in html
    assert status_box(html) == "Xã đã tiếp nhận Hẹn trả kết quả: 28/11/2026"


def test_papers_asked_for_are_shown_prominently(desk: Desk, services: Services) -> None:
    filed = queued(services)
    now = datetime.now(UTC)
    delivered(services, filed, now)
    commune_says(services, filed, "received", now, appointment=DUE)
    commune_says(services, filed, "needs_more", now, note="Thiếu giấy chứng sinh")
    box = status_box(desk.page(page_of(filed)))
    assert box.startswith("Cần bổ sung giấy tờ Xã cần bổ sung: Thiếu giấy chứng sinh")
    assert "Hẹn trả kết quả: 28/11/2026" in box


def test_a_refusal_shows_its_reason(desk: Desk, services: Services) -> None:
    filed = queued(services)
    now = datetime.now(UTC)
    delivered(services, filed, now)
    commune_says(services, filed, "rejected", now, note="Không thuộc thẩm quyền của xã")
    html = desk.page(page_of(filed))
    assert status_box(html) == "Không được tiếp nhận Lý do: Không thuộc thẩm quyền của xã"
    assert timeline(html)[-1].endswith(
        "Xã: Không được tiếp nhận Lý do: Không thuộc thẩm quyền của xã"
    )


def test_a_finished_dossier_offers_the_hand_over_and_then_shows_it(
    desk: Desk, services: Services
) -> None:
    filed = queued(services)
    now = datetime.now(UTC)
    delivered(services, filed, now)
    commune_says(services, filed, "done", now, appointment=DUE)
    html = desk.page(page_of(filed))
    assert f'action="/station/ket-qua/{filed.code}/da-trao"' in html
    desk.post(f"/station/ket-qua/{filed.code}/da-trao", tu="ho-so")
    html = desk.page(page_of(filed))
    assert "da-trao" not in html
    assert timeline(html)[-1].endswith("Trạm: Đã trả kết quả")
    assert status_box(html) == "Đã trả kết quả"  # no promised date once it is handed over


def test_other_events_and_other_dossiers_stay_out(desk: Desk, services: Services) -> None:
    filed, other = queued(services, "A"), queued(services, "B")
    now = datetime.now(UTC)
    commune_says(services, other, "withdrawn", now, actor="resident")
    with services.sessions.begin() as session:
        row = session.scalars(select(Dossier).where(Dossier.uuid == filed.uuid)).one()
        payload = {"from": "queued", "to": "done", "update_id": 3}
        session.add(
            Event(dossier_id=row.id, kind="status_ignored", payload=payload, created_at=now)
        )
        session.add(Event(dossier_id=row.id, kind="status", payload=None, created_at=now))
    assert len(timeline(desk.page(page_of(filed)))) == 1


def test_the_history_in_english(desk: Desk, services: Services) -> None:
    filed = queued(services)
    now = datetime.now(UTC)
    delivered(services, filed, now)
    commune_says(services, filed, "received", now, appointment=DUE)
    desk.client.set_cookie("lang", "en")
    html = desk.page(page_of(filed))
    assert "Result promised for: 28/11/2026" in html
    assert "Commune: Received by the commune" in html


def test_unknown_codes_and_drafts_have_no_history(desk: Desk, services: Services) -> None:
    draft = Intake(services).start_draft("1.001193", "station")
    assert desk.client.get("/station/ho-so/not-a-code").status_code == 404
    assert desk.client.get("/station/ho-so/XB1-K7M4QE").status_code == 404
    assert draft not in desk.page("/station/hang-doi")
