"""`hamletbox provision enroll` against a real upstream on loopback: tokens land in the sheet, work
for the right hamlet, and every refusal leaves the sheet as it was."""

from __future__ import annotations

import csv
import io
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import main
from provisioning import enroll
from provisioning.devices import COLUMNS, Refused
from provisioning.enroll import EnrollFailed, Upstream, enroll_sheet
from tests.provisioning.conftest import device_row, write_csv
from tests.support.upstream_server import enroll_http, running_upstream
from upstream.db import open_store
from upstream.officers import add_officer
from upstream.settings import UpstreamSettings

USER, PASSWORD = "kythuat.huyen", "mat-khau-ky-thuat"


@pytest.fixture
def upstream_url(tmp_path: Path) -> Iterator[str]:
    settings = UpstreamSettings(db_url=f"sqlite:///{tmp_path / 'upstream.sqlite3'}")
    engine, sessions = open_store(settings.db_url)
    try:
        add_officer(sessions, USER, PASSWORD)
    finally:
        engine.dispose()
    with running_upstream(settings) as url:
        yield url


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def run(
    monkeypatch: pytest.MonkeyPatch, sheet: Path, url: str, *extra: str, password: str = PASSWORD
) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    args = ["--devices", str(sheet), "--upstream", url, "--user", USER, "--password-stdin"]
    return main(["provision", "enroll", *args, *extra])


def test_empty_token_cells_are_filled_and_each_token_enrolls_its_hamlet(
    tmp_path: Path,
    upstream_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kept = device_row(2)["token"]
    sheet = write_csv(
        tmp_path / "DEVICES.csv", [device_row(1, token=""), device_row(2), device_row(3, token="")]
    )
    assert run(monkeypatch, sheet, upstream_url) == 0
    rows = rows_of(sheet)
    assert list(rows[0]) == list(COLUMNS)  # columns and their order kept
    assert rows[1]["token"] == kept
    assert [r["box_name"] for r in rows] == [device_row(n)["box_name"] for n in (1, 2, 3)]
    for row in (rows[0], rows[2]):
        assert enroll_http(upstream_url, row["token"], row["hostname"]).hamlet == row["hamlet"]
    out = capsys.readouterr().out
    assert "xabang1: mã mới / new token" in out and "xabang2: đã có mã" in out
    assert rows[0]["token"] not in out  # the tokens go to the sheet, not the terminal


def test_renew_replaces_every_token_and_a_token_column_is_added_when_missing(
    tmp_path: Path, upstream_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    columns = [c for c in COLUMNS if c != "token"]
    sheet = write_csv(tmp_path / "DEVICES.csv", [device_row(1), device_row(2)], columns)
    assert run(monkeypatch, sheet, upstream_url) == 0
    first = [r["token"] for r in rows_of(sheet)]
    assert all(first) and list(rows_of(sheet)[0])[-1] == "token"
    assert run(monkeypatch, sheet, upstream_url, "--renew", "--days", "2") == 0
    second = [r["token"] for r in rows_of(sheet)]
    assert all(second) and not set(first) & set(second)


def test_a_spreadsheet_byte_order_mark_is_kept(
    tmp_path: Path, upstream_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = write_csv(tmp_path / "DEVICES.csv", [device_row(1, token="")])
    sheet.write_bytes(b"\xef\xbb\xbf" + sheet.read_bytes())
    assert run(monkeypatch, sheet, upstream_url) == 0
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbfhostname,")
    assert rows_of(sheet)[0]["token"]


def test_a_wrong_password_is_said_plainly_and_the_sheet_is_untouched(
    tmp_path: Path,
    upstream_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sheet = write_csv(tmp_path / "DEVICES.csv", [device_row(1, token="")])
    before = sheet.read_bytes()
    assert run(monkeypatch, sheet, upstream_url, password="doan-mo") == 2
    assert "sai tên tài khoản hoặc mật khẩu / wrong account name or password" in (
        capsys.readouterr().err
    )
    assert sheet.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_an_unreachable_upstream_is_said_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = write_csv(tmp_path / "DEVICES.csv", [device_row(1, token="")])
    before = sheet.read_bytes()
    with socket.socket() as closed:  # bound, never listening: the connection is refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        assert run(monkeypatch, sheet, url) == 1
    assert "không kết nối được máy chủ xã" in capsys.readouterr().err
    assert sheet.read_bytes() == before


def test_a_refused_hamlet_is_named_by_its_row(
    tmp_path: Path,
    upstream_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [device_row(1, token=""), device_row(2, token="", hamlet="Thôn " + "x" * 200)]
    sheet = write_csv(tmp_path / "DEVICES.csv", rows)
    before = sheet.read_bytes()
    assert run(monkeypatch, sheet, upstream_url) == 2
    err = capsys.readouterr().err
    assert "dòng 3 / row 3: máy chủ từ chối tên thôn / the upstream refused the hamlet" in err
    assert "row 2" not in err
    assert sheet.read_bytes() == before


def test_plain_http_to_another_machine_is_refused_before_asking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The password would cross the network in the clear."""
    sheet = write_csv(tmp_path / "DEVICES.csv", [device_row(1, token="")])
    assert run(monkeypatch, sheet, "http://motcua.xabang.example.vn") == 2
    assert "https://" in capsys.readouterr().err


def test_missing_columns_and_empty_hamlets_are_refused_by_row(tmp_path: Path) -> None:
    ask = Upstream("http://127.0.0.1:9", USER, PASSWORD)
    no_hamlet = write_csv(tmp_path / "a.csv", [device_row(1)], ["hostname", "token"])
    with pytest.raises(Refused, match="missing columns: hamlet"):
        enroll_sheet(no_hamlet, ask)
    empty = write_csv(tmp_path / "b.csv", [device_row(1), device_row(2, hamlet="")])
    with pytest.raises(Refused, match=r"row 3: .*empty cell in column hamlet"):
        enroll_sheet(empty, ask)


def test_each_batch_is_kept_when_a_later_one_fails(
    tmp_path: Path, upstream_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(enroll, "BATCH", 2)
    real = Upstream(upstream_url, USER, PASSWORD)
    calls: list[list[str]] = []

    def flaky(hamlets: list[str]) -> list[str]:
        calls.append(hamlets)
        if len(calls) == 2:
            raise EnrollFailed("mạng rớt / network dropped")
        return real(hamlets)

    sheet = write_csv(tmp_path / "DEVICES.csv", [device_row(n, token="") for n in (1, 2, 3)])
    with pytest.raises(EnrollFailed):
        enroll_sheet(sheet, flaky)
    tokens = [r["token"] for r in rows_of(sheet)]
    assert bool(tokens[0]) and bool(tokens[1]) and tokens[2] == ""
    assert not list(tmp_path.glob(".*.tmp"))
    calls.clear()
    enroll_sheet(sheet, flaky)  # the rerun asks only for what is missing
    assert calls == [["Thôn Xà Bang 3"]]
    assert all(r["token"] for r in rows_of(sheet))
