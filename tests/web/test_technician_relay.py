"""The technician's list of what the relay stopped sending (rejected, conflict), and what to do."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from appliance.services import Services
from tests.appliance.test_disk_guard import queued
from tests.web.conftest import text
from tests.web.test_auth import add_user, log_in
from tests.web.test_station_queue import outbox_rows, relay_did

PAGE = "/tech/outbox"
TOO_LARGE = "Xã từ chối: tệp quá lớn / The commune refused it: the file is too large"
CLASH = "Xã đã có hồ sơ khác cùng mã — cần kỹ thuật viên / The commune holds another dossier"


def test_rejected_and_conflicted_items_are_listed_with_their_reason(
    technician: FlaskClient, services: Services
) -> None:
    refused = queued(services, "Võ Văn Em", pages=1)
    clash = queued(services, "Đỗ Thị Giang")
    fine = queued(services, "Lê Văn Cường")
    relay_did(services, refused, "blob", state="rejected", last_error=TOO_LARGE)
    relay_did(services, clash, "blob", state="delivered")
    relay_did(services, clash, "manifest", state="conflict", last_error=CLASH)
    relay_did(services, fine, "blob", state="delivered")
    response = technician.get(PAGE)
    assert response.status_code == 200
    html = text(response)
    assert 'Các mục <span lang="en">· Items</span> (2)' in html
    for filed in (refused, clash):
        assert filed.code in html and filed.uuid in html
    blob = next(row for row in outbox_rows(services, refused) if row.kind == "blob")
    assert blob.key in html  # which page file the commune refused
    assert TOO_LARGE in html and CLASH in html  # both languages: the technician reads either
    assert "Trùng mã" in html and "Bị từ chối" in html
    assert "hộp không bao giờ gửi đè" in html and "Hộp không tự gửi lại" in html
    assert fine.code not in html and "Lê Văn Cường" not in html


def test_nothing_stopped_says_so(technician: FlaskClient, services: Services) -> None:
    queued(services)
    html = text(technician.get(PAGE))
    assert "Không có mục nào dừng gửi." in html and "Việc cần làm" not in html


def test_the_poster_page_links_to_it(technician: FlaskClient) -> None:
    assert f'href="{PAGE}"' in text(technician.get("/tech/posters"))


def test_volunteers_and_visitors_are_kept_out(app: Flask, services: Services) -> None:
    assert app.test_client().get(PAGE).headers["Location"].startswith(f"/login?next={PAGE}")
    volunteer = app.test_client()
    add_user(services, "lan", "volunteer")
    log_in(volunteer, "lan")
    assert volunteer.get(PAGE).status_code == 403
