"""`hamletbox sms send` and `hamletbox sms status` against the fake modem."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.hardware.fakes import FakeModem, SentMessage
from tests.conftest import write_settings

LONG = "Hồ sơ BX7K2 đã có kết quả. Mời ông/bà mang căn cước đến nhà văn hóa thôn nhận ạ."


def config(tmp_path: Path, url: str = "") -> str:
    modem = f'[modem]\nurl = "{url}"\ntimeout_seconds = 1\n'
    return str(write_settings(tmp_path, modem))


def test_send_through_the_given_modem(
    fake: FakeModem, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--config", config(tmp_path), "sms", "send", "--to", "0912 345 678"]
    assert main([*argv, "--text", "Xin chao", "--modem", fake.path]) == 0
    assert capsys.readouterr().out == "đã gửi / sent: 1 phần / parts, mã / references 1\n"
    assert fake.messages() == [SentMessage("+84912345678", "Xin chao", (1,))]


def test_send_through_the_configured_modem_in_parts(
    fake: FakeModem, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--config", config(tmp_path, fake.path), "sms", "send", "--to", "0912345678"]
    assert main([*argv, "--text", LONG]) == 0
    assert capsys.readouterr().out == "đã gửi / sent: 2 phần / parts, mã / references 1 2\n"
    assert [m.text for m in fake.messages()] == [LONG]


def test_a_bad_number_fails_without_touching_the_modem(
    fake: FakeModem, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--config", config(tmp_path, fake.path), "sms", "send", "--to", "0123 456 789"]
    assert main([*argv, "--text", "x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hamletbox: Đầu số 012 không phải số di động Việt Nam / ")
    assert fake.commands == []


def test_a_refused_send_prints_the_plain_message(
    fake: FakeModem, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.cms_error = 21
    argv = ["--config", config(tmp_path, fake.path), "sms", "send", "--to", "0912345678"]
    assert main([*argv, "--text", "x"]) == 1
    assert capsys.readouterr().err == (
        "hamletbox: Số điện thoại không nhận được tin nhắn / "
        "The number cannot receive text messages\n"
    )


def test_no_modem_at_all_is_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--config", config(tmp_path), "sms", "send", "--to", "0912345678", "--text", "x"]
    assert main(argv) == 2
    assert "no modem configured" in capsys.readouterr().err
    assert main(["--config", config(tmp_path), "sms", "status"]) == 2


def test_status_prints_json(
    fake: FakeModem, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", config(tmp_path, fake.path), "sms", "status"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "sim": "ready",
        "registration": "home",
        "signal_dbm": -73,
        "operator": "Viettel",
    }


def test_status_without_sim_exits_1(
    fake: FakeModem, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.sim, fake.signal = "absent", False
    assert main(["--config", config(tmp_path), "sms", "status", "--modem", fake.path]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "sim": "absent",
        "registration": "searching",
        "signal_dbm": None,
        "operator": None,
    }


def test_status_of_a_missing_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "ttyUSB9")
    assert main(["--config", config(tmp_path), "sms", "status", "--modem", missing]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hamletbox: Không mở được cổng modem")
    assert "Cannot open the modem port" in err


def test_the_installed_command_sends(fake: FakeModem, tmp_path: Path) -> None:
    argv = ["--config", config(tmp_path), "sms", "send", "--modem", fake.path]
    done = subprocess.run(
        [sys.executable, "-m", "appliance.cli", *argv, "--to", "0987654321", "--text", "Chào"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (
        0,
        "đã gửi / sent: 1 phần / parts, mã / references 1\n",
    )
    assert fake.messages() == [SentMessage("+84987654321", "Chào", (1,))]
