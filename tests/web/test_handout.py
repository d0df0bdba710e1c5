"""Results to hand out: dossiers the commune finished, and "handed over" recorded exactly once."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from appliance.domain.dossier import new_receipt_code
from appliance.intake import Intake
from appliance.services import Services
from appliance.store.tables import Dossier, Event
from tests.appliance.test_disk_guard import Filed, queued
from tests.web.conftest import text
from tests.web.test_station import Desk
from tests.web.test_station_queue import commune_says, relay_did

RESULTS = "/station/ket-qua"


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    return Desk(app, services)


def finished(services: Services, name: str, phone: str, hours_ago: float = 3.0) -> Filed:
    """A dossier the commune has finished: sent, received, done `hours_ago`."""
    filed = queued(services, name, phone=phone)
    relay_did(services, filed, "blob", state="delivered")
    relay_did(services, filed, "manifest", state="delivered")
    done_at = datetime.now(UTC) - timedelta(hours=hours_ago)
    commune_says(services, filed, "sent", done_at - timedelta(days=2), actor="relay")
    commune_says(services, filed, "received", done_at - timedelta(days=1))
    commune_says(services, filed, "done", done_at)
    return filed


def status_events(services: Services, filed: Filed) -> list[tuple[str, str, str | None]]:
    """(from, to, actor) of the dossier's status events, in the order written."""
    query = (
        select(Event)
        .join(Dossier, Event.dossier_id == Dossier.id)
        .where(Dossier.uuid == filed.uuid, Event.kind == "status")
        .order_by(Event.id)
    )
    with services.sessions() as session:
        return [(e.payload["from"], e.payload["to"], e.actor) for e in session.scalars(query)]


def hand_over(desk: Desk, filed: Filed, **form: str) -> TestResponse:
    return desk.post(f"{RESULTS}/{filed.code}/da-trao", **form)


def test_finished_dossiers_are_listed_with_what_identifies_the_resident(
    desk: Desk, services: Services
) -> None:
    ready = finished(services, "Trần Thị Bình", "0912345678")
    waiting = queued(services, "Lê Văn Cường")
    html = desk.page(RESULTS)
    assert "1 kết quả đang chờ người dân đến nhận" in html
    assert ready.code in html and "Trần Thị Bình" in html and "Đăng ký khai sinh" in html
    assert "Số điện thoại: …5678" in html and "0912345678" not in html
    assert "có kết quả 3 giờ trước" in html
    assert f'action="{RESULTS}/{ready.code}/da-trao"' in html
    assert waiting.code not in html and "Lê Văn Cường" not in html


def test_nothing_to_hand_out_says_so(desk: Desk) -> None:
    assert "Chưa có kết quả nào cần trao." in desk.page(RESULTS)


def test_handed_over_moves_done_to_returned_with_one_event(desk: Desk, services: Services) -> None:
    filed = finished(services, "Trần Thị Bình", "0912345678")
    response = hand_over(desk, filed)
    assert response.status_code == 303 and response.headers["Location"] == RESULTS
    assert Intake(services).get(filed.uuid).status == "returned"
    assert status_events(services, filed)[-1] == ("done", "returned", "volunteer:lan")
    html = desk.page(RESULTS)
    assert f"Đã ghi nhận: đã trao kết quả hồ sơ {filed.code}." in html
    assert "Chưa có kết quả nào cần trao." in html


def test_a_second_press_is_told_kindly_and_records_nothing(desk: Desk, services: Services) -> None:
    filed = finished(services, "Trần Thị Bình", "0912345678")
    hand_over(desk, filed)
    events = status_events(services, filed)
    again = hand_over(desk, filed, follow_redirects=True)
    assert again.status_code == 200
    assert "Hồ sơ này đã được ghi là đã trao rồi" in text(again)
    assert status_events(services, filed) == events


def test_two_stations_at_once_record_it_once(app: Flask, services: Services) -> None:
    filed = finished(services, "Trần Thị Bình", "0912345678")
    desks = [Desk(app, services, "lan"), Desk(app, services, "minh")]
    start = threading.Barrier(len(desks))
    answers: list[str] = []

    def press(desk: Desk) -> None:
        start.wait(timeout=10)
        answers.append(text(hand_over(desk, filed, follow_redirects=True)))

    threads = [threading.Thread(target=press, args=(desk,)) for desk in desks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 2
    returned = [e for e in status_events(services, filed) if e[1] == "returned"]
    assert len(returned) == 1
    assert sum("Đã ghi nhận: đã trao kết quả" in a for a in answers) == 1
    assert sum("đã được ghi là đã trao rồi" in a for a in answers) == 1


def test_a_result_not_ready_cannot_be_handed_over(desk: Desk, services: Services) -> None:
    filed = queued(services)
    page = text(hand_over(desk, filed, follow_redirects=True))
    assert "Hồ sơ này chưa có kết quả để trao" in page
    assert Intake(services).get(filed.uuid).status == "queued"
    unknown = new_receipt_code("XB1", random.Random(1))
    assert desk.post(f"{RESULTS}/{unknown}/da-trao").status_code == 303
    assert "Không tìm thấy hồ sơ" in desk.page(RESULTS)
    assert desk.post(f"{RESULTS}/not-a-code/da-trao").status_code == 404


def test_handing_over_needs_the_token(desk: Desk, services: Services) -> None:
    filed = finished(services, "Trần Thị Bình", "0912345678")
    assert desk.client.post(f"{RESULTS}/{filed.code}/da-trao").status_code == 400
    assert Intake(services).get(filed.uuid).status == "done"


def test_from_the_dossiers_page_it_goes_back_there(desk: Desk, services: Services) -> None:
    filed = finished(services, "Trần Thị Bình", "0912345678")
    response = hand_over(desk, filed, tu="ho-so")
    assert response.headers["Location"] == f"/station/ho-so/{filed.code}"
