"""The fleet page: each box's figures as its last heartbeat gave them, silence shown plainly, and
the enrolment tokens still waiting per hamlet.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.support.upstream_server import EnrolledDevice, FakeClock, Signer, make_token
from tests.upstream.test_inbox import plain, rows
from tests.upstream.test_officers import officer_client, sessions_of
from upstream.officer_ui import ago, size
from upstream.tables import Device, Heartbeat

BEAT = {
    "software_version": "0.4.1",
    "queue_depth": 3,
    "oldest_undelivered_seconds": 2 * 3600 + 120,
    "disk_free_bytes": 12_345_678_900,
    "modem_signal_dbm": -85,
    "uptime_seconds": 86400,
    "rejected": 1,
    "conflicts": 2,
}
COLUMNS = ("hamlet", "box", "heard", "software", "queue", "oldest", "disk", "signal", "problems")


@pytest.fixture
def officer(upstream_app: Flask, upstream_client: FlaskClient) -> FlaskClient:
    return officer_client(upstream_app, upstream_client)


def beat(signed: Signer, body: dict[str, Any]) -> None:
    answer = signed.post_json("/v1/heartbeat", body)
    assert answer.status_code == 200, answer.text


def fleet(officer: FlaskClient) -> list[dict[str, str]]:
    page = officer.get("/thiet-bi")
    assert page.status_code == 200
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows(page.text)]


def test_a_box_shows_its_last_heartbeat(
    officer: FlaskClient, signed: Signer, device: EnrolledDevice, clock: FakeClock
) -> None:
    beat(signed, BEAT)
    clock.advance(4 * 60)
    (box,) = fleet(officer)
    assert box == {
        "hamlet": "Thôn Xà Bang 1",
        "box": f"hamletbox-test {device.id} Ghi danh enrolled 09/10/2025 15:53",
        "heard": "4 phút trước 4 min ago",
        "software": "0.4.1",
        "queue": "3",
        "oldest": "2 giờ 2 h",
        "disk": "11,5 GB",
        "signal": "-85 dBm",
        "problems": "2 / 1",
    }


def test_what_a_box_did_not_say_is_a_dash(
    officer: FlaskClient, signed: Signer, clock: FakeClock
) -> None:
    beat(signed, {"software_version": "0.4.1", "queue_depth": 0, "modem_signal_dbm": None})
    (box,) = fleet(officer)
    assert (box["heard"], box["queue"]) == ("vừa xong just now", "0")
    assert [box[k] for k in ("oldest", "disk", "signal", "problems")] == ["—", "—", "—", "— / —"]


def test_a_silent_box_is_out_of_touch(
    officer: FlaskClient, signed: Signer, clock: FakeClock
) -> None:
    beat(signed, BEAT)
    clock.advance(15 * 60)
    (box,) = fleet(officer)
    assert box["heard"] == "15 phút trước 15 min ago"
    clock.advance(1)
    page = officer.get("/thiet-bi").text
    assert 'class="stale"' in page
    (box,) = fleet(officer)
    assert box["heard"] == "15 phút trước 15 min ago Mất liên lạc Out of touch"
    clock.advance(10 * 3600)
    assert fleet(officer)[0]["heard"].startswith("10 giờ trước 10 h ago Mất liên lạc")


def test_a_box_that_never_reported_says_so(officer: FlaskClient, device: EnrolledDevice) -> None:
    (box,) = fleet(officer)
    assert box["heard"] == "Chưa báo lần nào Never reported"
    assert box["software"] == "0.1.0"  # what it said when it enrolled


def test_a_retired_box_is_marked_not_alarmed_about(
    upstream_app: Flask, officer: FlaskClient, device: EnrolledDevice, clock: FakeClock
) -> None:
    with sessions_of(upstream_app).sessions.begin() as db:
        db.execute(update(Device).values(revoked_at=datetime.fromtimestamp(clock.now, UTC)))
    page = officer.get("/thiet-bi").text
    assert fleet(officer)[0]["heard"] == "Đã thu hồi Retired"
    assert 'class="stale"' not in page


def test_unused_tokens_are_counted_per_hamlet(
    upstream_app: Flask, officer: FlaskClient, device: EnrolledDevice, clock: FakeClock
) -> None:
    sessions = sessions_of(upstream_app).sessions
    make_token(sessions, "Thôn Xà Bang 2", days=7, now=clock.now)
    make_token(sessions, "Thôn Xà Bang 2", days=14, now=clock.now)
    make_token(sessions, "Thôn Suối Rao", days=1, now=clock.now - 2 * 86400)  # expired
    page = officer.get("/thiet-bi").text
    tokens = page[page.index("Mã ghi danh chưa dùng") :]
    assert rows(tokens) == [["Thôn Xà Bang 2", "2", "16/10/2025 15:53 – 23/10/2025 15:53"]]
    assert "Suối Rao" not in plain(tokens)


def test_an_empty_fleet_says_so(officer: FlaskClient) -> None:
    text = plain(officer.get("/thiet-bi").text)
    assert "Chưa có máy nào ghi danh" in text and "Không có mã ghi danh nào còn hạn" in text


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "vừa xong"),
        (59, "vừa xong"),
        (60, "1 phút trước"),
        (7199, "1 giờ trước"),
        (3 * 86400, "3 ngày trước"),
    ],
)
def test_ages_read_in_plain_words(seconds: float, said: str) -> None:
    assert plain(ago(seconds)).startswith(said)


@pytest.mark.parametrize(
    ("count", "said"),
    [
        (None, "—"),
        (512, "512 B"),
        (1536, "1,5 KB"),
        (250 * 1024**2, "250 MB"),
        (3 * 1024**4, "3072 GB"),
    ],
)
def test_sizes_read_with_the_vietnamese_decimal_comma(count: int | None, said: str) -> None:
    assert size(count) == said


FIGURES = {
    "period_days": 28,
    "dossiers": 14,
    "by_status": {"done": 4, "received": 10},
    "median_days_to_result": 3.25,
    "delivered_within_24h": 0.875,
    "ratings": 6,
    "satisfaction": 0.8333,
    "assistance": 9,
}
FIGURE_COLUMNS = (
    "hamlet",
    "box",
    "days",
    "dossiers",
    "statuses",
    "median",
    "within_24h",
    "ratings",
    "satisfied",
    "assistance",
)


def figures_rows(officer: FlaskClient) -> list[dict[str, str]]:
    page = officer.get("/thiet-bi")
    assert page.status_code == 200
    section = page.text[page.text.index('id="so-lieu"') :]
    return [dict(zip(FIGURE_COLUMNS, row, strict=True)) for row in rows(section)]


def test_a_box_shows_its_hamlets_figures(
    officer: FlaskClient, signed: Signer, device: EnrolledDevice
) -> None:
    beat(signed, {**BEAT, "figures": {**FIGURES, "a_newer_figure": {"x": 1}}})
    (row,) = figures_rows(officer)
    assert row == {
        "hamlet": "Thôn Xà Bang 1",
        "box": "hamletbox-test",
        "days": "28",
        "dossiers": "14",
        "statuses": "Đã có kết quả Result ready: 4 Đã tiếp nhận Received: 10",
        "median": "3,2 ngày days",
        "within_24h": "88%",
        "ratings": "6",
        "satisfied": "83%",
        "assistance": "9",
    }


def test_a_box_without_figures_shows_dashes(officer: FlaskClient, signed: Signer) -> None:
    beat(signed, BEAT)
    (row,) = figures_rows(officer)
    assert [row[k] for k in FIGURE_COLUMNS[2:]] == ["—"] * 8


@pytest.mark.parametrize(
    "figures",
    [
        "many",
        [1, 2],
        {
            "period_days": "28",
            "dossiers": -3,
            "by_status": ["done"],
            "median_days_to_result": True,
            "delivered_within_24h": 7,
            "ratings": 2.5,
            "satisfaction": "high",
            "assistance": None,
        },
    ],
)
def test_figures_of_the_wrong_shape_still_render(
    upstream_app: Flask, officer: FlaskClient, signed: Signer, figures: object
) -> None:
    """The device API only takes an object, so other shapes are written as an old row might be."""
    beat(signed, {**BEAT, "figures": FIGURES})
    with sessions_of(upstream_app).sessions.begin() as db:
        db.execute(update(Heartbeat).values(body={**BEAT, "figures": figures}))
    (row,) = figures_rows(officer)
    assert [row[k] for k in FIGURE_COLUMNS[2:]] == ["—"] * 8
    assert fleet(officer)[0]["queue"] == "3"


def test_a_bad_status_count_is_left_out(officer: FlaskClient, signed: Signer) -> None:
    statuses = {"done": 2, "sent": "4", "": -1, "returned": True}
    beat(signed, {**BEAT, "figures": {"by_status": statuses}})
    (row,) = figures_rows(officer)
    assert row["statuses"] == "Đã có kết quả Result ready: 2"
