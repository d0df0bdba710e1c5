"""The station's reports page, its CSV and SVG charts, and the assistance log, as a volunteer
uses them; the store is seeded relative to now, since the pages count up to the present."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from appliance.receipts import VIETNAM, local_time
from appliance.services import Services
from appliance.store.assistance_repo import AssistanceRepo
from appliance.store.tables import Assistance, Event, Feedback
from tests.support.report_rows import manifest, submitted_dossier
from tests.web.conftest import text
from tests.web.test_station import TOKEN, Desk

REPORTS, ASSIST = "/station/bao-cao", "/station/tro-giup"
SVG = "{http://www.w3.org/2000/svg}"
BIRTH, DEATH = "1.001193", "1.000656"


def add_dossier(
    services: Services,
    procedure: str,
    status: str,
    ago: timedelta,
    *,
    done_after: timedelta | None = None,
    delivered_after: timedelta | None = None,
    rating: int | None = None,
) -> None:
    moment = datetime.now(UTC) - ago
    with services.sessions.begin() as session:
        row = submitted_dossier(session, moment, procedure, status)
        manifest(session, row, None if delivered_after is None else moment + delivered_after)
        if done_after is not None:
            payload = {"from": "processing", "to": "done"}
            session.add(
                Event(
                    dossier_id=row.id,
                    kind="status",
                    payload=payload,
                    created_at=moment + done_after,
                )
            )
        if rating is not None:
            when = moment + (done_after or timedelta()) + timedelta(days=1)
            session.add(Feedback(dossier_id=row.id, rating=rating, channel="sms", created_at=when))


@pytest.fixture
def desk(app: Flask, services: Services) -> Desk:
    return Desk(app, services)


@pytest.fixture
def seeded(services: Services) -> Services:
    two_weeks = timedelta(days=14)
    add_dossier(
        services,
        BIRTH,
        "done",
        two_weeks,
        done_after=timedelta(days=2),
        delivered_after=timedelta(hours=1),
        rating=5,
    )
    add_dossier(
        services,
        BIRTH,
        "returned",
        two_weeks,
        done_after=timedelta(days=4),
        delivered_after=timedelta(hours=30),
        rating=3,
    )
    add_dossier(services, DEATH, "received", timedelta(minutes=1))
    add_dossier(services, BIRTH, "returned", timedelta(days=200), delivered_after=timedelta(1))
    repo = AssistanceRepo(services.sessions)
    for kind in ("vneid", "vneid", "other"):
        repo.record(kind, None, "hoa", datetime.now(UTC) - timedelta(days=3))
    return services


def svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(found) for found in re.findall(r"<svg.*?</svg>", page, re.S)]


def table(page: str, table_id: str) -> list[list[str]]:
    found = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)
    assert found, table_id
    body = found[1][found[1].index("<tbody>") :]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def figures(page: str) -> dict[str, str]:
    block = page[page.index('id="so-lieu"') : page.index("</dl>")]
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd><span class=\"big\">(.*?)</span>", block, re.S)
    return dict(pairs)


def test_the_page_shows_the_figures(desk: Desk, seeded: Services) -> None:
    page = desk.page(REPORTS)
    assert figures(page) == {
        "Hồ sơ đã nộp": "3",
        "Thời gian từ khi nộp đến khi có kết quả (trung vị)": "3,0 ngày",
        "Gửi lên xã trong vòng 24 giờ": "50%",
        "Lượt đánh giá": "2",
        "Điểm đánh giá trung bình": "4,0 / 5 sao",
        "Tỷ lệ hài lòng": "50%",
        "Trợ giúp không cần hồ sơ": "3",
    }
    assert "Tính trên 2 hồ sơ đã có kết quả" in page
    assert "1 trên 2 hồ sơ; chỉ tính hồ sơ nộp cách đây từ 24 giờ trở lên" in page
    assert table(page, "bang-thu-tuc") == [["Đăng ký khai sinh", "2"], ["Đăng ký khai tử", "1"]]
    assert sorted(table(page, "bang-tinh-trang")) == [
        ["Xã đã tiếp nhận", "1"],
        ["Đã có kết quả — mời nhận tại nhà văn hóa", "1"],
        ["Đã trả kết quả", "1"],
    ]
    assert table(page, "bang-tro-giup")[0] == ["Cài đặt VNeID", "2"]
    assert table(page, "bang-tro-giup")[-1] == ["Việc khác", "1"]
    weeks = table(page, "bang-tuan")
    assert len(weeks) == 12 and [int(w[2]) for w in weeks][-3:] == [2, 0, 1]
    this_week = local_time(datetime.now(UTC)).isocalendar()
    assert weeks[-1][0] == f"Tuần {this_week.week}/{this_week.year}"
    assert "<script" not in page


@pytest.mark.parametrize(("asked", "rows", "count"), [("4", 4, "3"), ("52", 52, "4")])
def test_the_period_can_be_chosen(
    desk: Desk, seeded: Services, asked: str, rows: int, count: str
) -> None:
    page = desk.page(f"{REPORTS}?tuan={asked}")
    assert len(table(page, "bang-tuan")) == rows
    assert figures(page)["Hồ sơ đã nộp"] == count
    assert f'href="/station/bao-cao?tuan={asked}" aria-current="page"' in page


@pytest.mark.parametrize("asked", ["-4", "abc", "5", "", "12.0", "99999999999999999999"])
def test_a_bad_period_is_the_default_one(desk: Desk, seeded: Services, asked: str) -> None:
    page = desk.page(f"{REPORTS}?tuan={asked}")
    assert len(table(page, "bang-tuan")) == 12
    assert 'href="/station/bao-cao?tuan=12" aria-current="page"' in page


def test_the_charts_are_well_formed_svg_with_their_numbers(desk: Desk, seeded: Services) -> None:
    weekly, by_procedure = svgs(desk.page(REPORTS))
    for chart in (weekly, by_procedure):
        assert chart.tag == f"{SVG}svg"
        title = chart.find(f"{SVG}title")
        assert title is not None and title.text and title.get("id") == chart.get("aria-labelledby")
    assert len(weekly.findall(f"{SVG}rect")) == 12
    numbers = [t.text for t in weekly.findall(f"{SVG}text") if t.get("class") == "n"]
    assert numbers == ["2", "1"]  # on the bars of two weeks ago and of this week
    labels = [t.text for t in weekly.findall(f"{SVG}text") if t.get("class") == "label"]
    assert labels[-1] == str(local_time(datetime.now(UTC)).isocalendar().week)
    labels = [t.text for t in by_procedure.findall(f"{SVG}text")]
    assert labels == ["Đăng ký khai sinh", "2", "Đăng ký khai tử", "1"]
    assert len(by_procedure.findall(f"{SVG}rect")) == 2


def test_the_csv_opens_in_excel(desk: Desk, seeded: Services) -> None:
    response = desk.client.get(f"{REPORTS}.csv?tuan=4")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = text(response)
    assert body.startswith("\ufeff")
    today = local_time(datetime.now(UTC)).date().isoformat()
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        rf'attachment; filename="bao-cao-\d{{4}}-\d\d-\d\d-{today}.csv"', disposition
    )
    lines = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    head = lines[0]
    assert head[:5] == ["Tuần", "Từ ngày", "Mã thủ tục", "Thủ tục", "Tổng"]
    blank = lines.index([])
    detail = [dict(zip(head, line, strict=True)) for line in lines[1:blank]]
    assert sum(int(line["Tổng"]) for line in detail) == 3
    births = [line for line in detail if line["Mã thủ tục"] == BIRTH]
    assert len(births) == 1
    assert births[0]["Tổng"] == "2" and births[0]["Thủ tục"] == "Đăng ký khai sinh"
    assert (
        births[0]["Đã trả kết quả"] == births[0]["Đã có kết quả — mời nhận tại nhà văn hóa"] == "1"
    )
    assert births[0]["Xã đã tiếp nhận"] == "0"
    summary = {line[0]: line[1] for line in lines[blank + 2 :]}
    assert summary["Hồ sơ đã nộp"] == "3"
    assert summary["Tỷ lệ hài lòng"] == "50%"
    assert summary["Trợ giúp: Cài đặt VNeID"] == "2"


def test_reports_need_a_login(client: FlaskClient) -> None:
    for url in (REPORTS, f"{REPORTS}.csv", ASSIST):
        response = client.get(url)
        assert response.status_code == 303
        assert "/login" in response.headers["Location"]


def test_the_station_home_links_to_both(app: Flask, services: Services) -> None:
    page = Desk(app, services).page("/station")
    assert f'href="{REPORTS}"' in page and f'href="{ASSIST}"' in page


def test_one_tap_records_help(desk: Desk, services: Services) -> None:
    page = desk.page(ASSIST)
    assert page.count('name="kind"') == 5 and "Không ghi tên, số điện thoại" in page
    response = desk.post(ASSIST, kind="account", note="  cho bà Tư  ", follow_redirects=True)
    assert response.status_code == 200
    page = text(response)
    assert "Đã ghi: Tạo tài khoản Cổng dịch vụ công" in page
    entries = page[page.index('id="hom-nay"') :]
    clock = local_time(datetime.now(UTC)).strftime("%H:")
    assert "Tạo tài khoản Cổng dịch vụ công · lan" in entries and clock in entries
    assert "cho bà Tư" in entries
    with services.sessions() as session:
        row = session.scalars(select(Assistance)).one()
    assert (row.kind, row.note, row.volunteer) == ("account", "cho bà Tư", "lan")


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"kind": "bogus"}, "Loại trợ giúp không có trong danh sách"),
        ({}, "Loại trợ giúp không có trong danh sách"),
        ({"kind": "other", "note": "x" * 201}, "Ghi chú dài quá 200 ký tự"),
    ],
)
def test_a_bad_entry_is_refused_plainly(
    desk: Desk, services: Services, data: dict[str, str], said: str
) -> None:
    response = desk.client.post(ASSIST, data={"csrf_token": TOKEN, **data})
    assert response.status_code == 400
    assert said in text(response)
    with services.sessions() as session:
        assert session.scalar(select(func.count(Assistance.id))) == 0


def test_help_is_not_recorded_without_the_csrf_token(desk: Desk, services: Services) -> None:
    response = desk.client.post(ASSIST, data={"kind": "vneid"})
    assert response.status_code in (400, 403)
    assert AssistanceRepo(services.sessions).today(datetime.now(UTC), VIETNAM) == []


def test_a_volunteer_takes_back_only_their_own_tap(
    app: Flask, desk: Desk, services: Services
) -> None:
    other = AssistanceRepo(services.sessions).record("lookup", None, "hoa", datetime.now(UTC))
    desk.post(ASSIST, kind="vneid")
    page = desk.page(ASSIST)
    (mine,) = re.findall(r'action="/station/tro-giup/(\d+)/xoa"', page)  # no button on hoa's
    refused = desk.post(f"{ASSIST}/{other.id}/xoa", follow_redirects=True)
    assert "Chỉ xóa được mục của chính bạn" in text(refused)
    taken = desk.post(f"{ASSIST}/{mine}/xoa", follow_redirects=True)
    assert "Đã xóa mục vừa ghi." in text(taken)
    with services.sessions() as session:
        assert [row.volunteer for row in session.scalars(select(Assistance))] == ["hoa"]


def test_in_english_the_procedures_and_decimals_read_in_english(
    desk: Desk, seeded: Services
) -> None:
    page = desk.page(f"{REPORTS}?lang=en")
    assert table(page, "bang-thu-tuc")[0] == ["Birth registration", "2"]
    assert "3.0" in page and "3,0" not in page
