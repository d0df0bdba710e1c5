"""The AT session against the fake modem over a real pty: sending, status, and every way a modem
goes wrong (refusals, silence, noise, restarts, a stale prompt)."""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from appliance.config import Settings
from appliance.hardware.fakes import FakeModem, SentMessage
from appliance.hardware.modem import READ_SLICE, SerialModem, open_modem, started
from appliance.hardware.modem_api import ModemError, ModemStatus
from appliance.services import build

TO = "0912345678"
DIALLED = "+84912345678"
VIETNAMESE = "Hồ sơ BX7K2 đã có kết quả. Mời ông/bà đến nhà văn hóa thôn nhận."
LONG = (
    "Hồ sơ khai sinh BX7K2 của ông/bà đã có kết quả. Mời ông/bà mang căn cước đến nhà văn hóa "
    "thôn Xà Bang 1 nhận vào giờ hỗ trợ, tối thứ Năm từ 19:00. Cảm ơn ông/bà."
)


def session(fake: FakeModem, timeout: float = 1.0) -> SerialModem:
    port = serial.serial_for_url(fake.path, timeout=READ_SLICE)
    return started(SerialModem(port, timeout=timeout, rng=random.Random(7)), port)


@pytest.fixture
def modem(fake: FakeModem) -> Iterator[SerialModem]:
    opened = session(fake)
    yield opened
    opened.close()


def with_modem(settings: Settings, url: str) -> Settings:
    modem = dataclasses.replace(settings.modem, url=url, timeout_seconds=1)
    return dataclasses.replace(settings, modem=modem)


def cmgs_count(fake: FakeModem) -> int:
    return sum(command.startswith("AT+CMGS=") for command in fake.commands)


def test_init_turns_echo_off_and_picks_pdu_mode(fake: FakeModem, modem: SerialModem) -> None:
    assert fake.commands == ["AT", "ATE0", "AT+CMEE=1", "AT+CMGF=0"]


def test_status_ready(modem: SerialModem) -> None:
    status = modem.status()
    assert status == ModemStatus("ready", "home", -73, "Viettel")
    assert status.can_send
    assert status.as_json() == {
        "sim": "ready",
        "registration": "home",
        "signal_dbm": -73,
        "operator": "Viettel",
    }


@pytest.mark.parametrize(
    ("sim", "signal", "expected"),
    [
        ("absent", True, ModemStatus("absent", "home", -73, "Viettel")),
        ("pin", True, ModemStatus("pin", "home", -73, "Viettel")),
        ("ready", False, ModemStatus("ready", "searching", None, None)),
        ("absent", False, ModemStatus("absent", "searching", None, None)),
    ],
)
def test_status_when_it_cannot_send(
    fake: FakeModem, modem: SerialModem, sim: str, signal: bool, expected: ModemStatus
) -> None:
    fake.sim, fake.signal = sim, signal
    assert modem.status() == expected
    assert not expected.can_send


def test_short_gsm7_message(fake: FakeModem, modem: SerialModem) -> None:
    assert modem.send_sms(TO, "Ho so BX7K2 da co ket qua") == [1]
    assert fake.messages() == [SentMessage(DIALLED, "Ho so BX7K2 da co ket qua", (1,))]
    assert fake.sent[0].encoding == "gsm7"
    assert fake.sent[0].concat_ref is None


def test_vietnamese_goes_as_ucs2(fake: FakeModem, modem: SerialModem) -> None:
    assert modem.send_sms("+84 912.345.678", VIETNAMESE) == [1]
    [part] = fake.sent
    assert (part.number, part.text, part.encoding) == (DIALLED, VIETNAMESE, "ucs2")


def test_long_text_goes_in_three_parts_that_join_back(fake: FakeModem, modem: SerialModem) -> None:
    references = modem.send_sms(TO, LONG)
    assert references == [1, 2, 3]
    assert fake.messages() == [SentMessage(DIALLED, LONG, (1, 2, 3))]
    concat_refs = {part.concat_ref for part in fake.sent}
    assert len(concat_refs) == 1
    assert [(p.total, p.index) for p in fake.sent] == [(3, 1), (3, 2), (3, 3)]
    modem.send_sms(TO, LONG)
    assert {p.concat_ref for p in fake.sent[3:]} != concat_refs  # a new reference per message


def test_unsolicited_lines_are_passed_by(fake: FakeModem, modem: SerialModem) -> None:
    fake.unsolicited = ["RING", '+CMTI: "SM",3', "^RSSI: 20", "+CREG: 1"]
    assert modem.status().registration == "home"
    assert modem.send_sms(TO, "ok") == [1]


def test_a_bad_number_is_refused_before_the_modem(fake: FakeModem, modem: SerialModem) -> None:
    with pytest.raises(ModemError, match=r"máy bàn.* / This is a landline") as caught:
        modem.send_sms("0212 345 6789", "x")
    assert caught.value.transient is False
    assert cmgs_count(fake) == 0


def test_cms_error_becomes_a_plain_message(fake: FakeModem, modem: SerialModem) -> None:
    fake.cms_error = 21
    with pytest.raises(ModemError) as caught:
        modem.send_sms(TO, "x")
    error = caught.value
    assert (
        str(error)
        == "Số điện thoại không nhận được tin nhắn / The number cannot receive text messages"
    )
    assert (error.code, error.transient, error.maybe_sent) == (21, False, False)
    fake.cms_error = 42
    with pytest.raises(ModemError, match="nghẽn / The network is busy") as busy:
        modem.send_sms(TO, "x")
    assert busy.value.transient
    assert fake.sent == []


def test_no_sim_and_no_signal_refuse_sending(fake: FakeModem, modem: SerialModem) -> None:
    fake.sim = "absent"
    with pytest.raises(ModemError, match="Chưa lắp SIM / No SIM") as no_sim:
        modem.send_sms(TO, "x")
    assert (no_sim.value.code, no_sim.value.transient) == (310, True)
    fake.sim, fake.signal = "ready", False
    with pytest.raises(ModemError, match="không có sóng") as no_signal:
        modem.send_sms(TO, "x")
    assert (no_signal.value.code, no_signal.value.transient) == (331, True)


def test_a_part_refused_after_others_went_out_is_maybe_sent(
    fake: FakeModem, modem: SerialModem
) -> None:
    fake.cms_error, fake.cms_error_after = 42, 1
    with pytest.raises(ModemError, match="1/3") as caught:
        modem.send_sms(TO, LONG)
    assert caught.value.maybe_sent and not caught.value.transient
    assert len(fake.sent) == 1


def test_silent_hang_times_out_and_recovers(fake: FakeModem) -> None:
    modem = session(fake, timeout=0.5)
    try:
        fake.hang = True
        with pytest.raises(ModemError, match="không trả lời") as caught:
            modem.status()
        assert caught.value.transient
        fake.hang = False
        assert modem.status().can_send
    finally:
        modem.close()


def test_hang_after_the_pdu_is_maybe_sent_and_not_resent(fake: FakeModem) -> None:
    modem = session(fake, timeout=0.5)
    try:
        fake.hang_on = "PDU"
        with pytest.raises(ModemError, match=r"có thể đã đi / .* may have been sent") as caught:
            modem.send_sms(TO, "x")
        assert caught.value.maybe_sent and not caught.value.transient
        assert cmgs_count(fake) == 1
        fake.hang = False
        assert modem.send_sms(TO, "y") == [1]
        assert [m.text for m in fake.messages()] == ["y"]
    finally:
        modem.close()


def test_garbage_is_an_error_not_an_answer(fake: FakeModem) -> None:
    modem = session(fake, timeout=0.5)
    try:
        fake.garbage = True
        with pytest.raises(ModemError):
            modem.status()
        with pytest.raises(ModemError):
            modem.send_sms(TO, "x")
        assert fake.sent == []
        fake.garbage = False
        assert modem.status().can_send
        assert modem.send_sms(TO, "x") == [1]
    finally:
        modem.close()


@pytest.mark.parametrize("announce", [True, False])
def test_restart_between_commands_is_reinitialised(
    fake: FakeModem, modem: SerialModem, announce: bool
) -> None:
    fake.reset(announce=announce)  # silent: the echo of the next command gives it away
    assert modem.status().can_send
    assert fake.commands.count("ATE0") == 2
    assert fake.commands.count("AT+CMGF=0") == 2
    assert modem.send_sms(TO, "x") == [1]


def test_restart_on_a_question_is_asked_again(fake: FakeModem, modem: SerialModem) -> None:
    fake.reset_on = "AT+CSQ"
    assert modem.status() == ModemStatus("ready", "home", -73, "Viettel")
    assert fake.commands.count("AT+CSQ") == 2


def test_restart_before_the_prompt_sends_once(fake: FakeModem, modem: SerialModem) -> None:
    fake.reset_on = "AT+CMGS"
    assert modem.send_sms(TO, "x") == [1]
    assert cmgs_count(fake) == 2
    assert [m.text for m in fake.messages()] == ["x"]


def test_restart_after_the_pdu_is_never_resent(fake: FakeModem, modem: SerialModem) -> None:
    fake.reset_on = "PDU"
    with pytest.raises(ModemError, match="may have been sent") as caught:
        modem.send_sms(TO, "x")
    assert caught.value.maybe_sent
    assert cmgs_count(fake) == 1
    assert fake.sent == []
    assert modem.status().can_send  # and the session is usable again


def test_a_modem_stuck_at_the_prompt_is_recovered(fake: FakeModem) -> None:
    fake.stuck_at_prompt()
    modem = session(fake)
    try:
        assert modem.status().can_send
        assert modem.send_sms(TO, "x") == [1]
        assert fake.sent[0].text == "x"
    finally:
        modem.close()


def test_status_and_sending_share_the_port(fake: FakeModem, modem: SerialModem) -> None:
    results: list[object] = []

    def poll() -> None:
        results.extend(modem.status() for _ in range(5))

    def send() -> None:
        results.extend(modem.send_sms(TO, f"tin {n}") for n in range(3))

    threads = [threading.Thread(target=poll), threading.Thread(target=send)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert sum(isinstance(r, ModemStatus) and r.can_send for r in results) == 5
    assert sorted(m.text for m in fake.messages()) == ["tin 0", "tin 1", "tin 2"]


def test_open_modem_from_settings(fake: FakeModem, settings: Settings) -> None:
    assert open_modem(settings) is None  # modem.url empty: no modem
    modem = open_modem(with_modem(settings, fake.path))
    assert modem is not None
    try:
        assert modem.send_sms(TO, "x") == [1]
    finally:
        modem.close()


def test_open_modem_that_cannot_open(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(
        ModemError, match=r"Không mở được cổng modem .* / Cannot open the modem port"
    ) as caught:
        open_modem(with_modem(settings, str(tmp_path / "ttyNONE")))
    assert caught.value.transient


def test_open_modem_that_does_not_answer(fake: FakeModem, settings: Settings) -> None:
    fake.hang = True
    with pytest.raises(ModemError, match=r"không trả lời lệnh AT .* / .* does not answer AT"):
        open_modem(with_modem(settings, fake.path))


def test_services_open_the_modem_only_when_asked(fake: FakeModem, settings: Settings) -> None:
    configured = with_modem(settings, fake.path)
    plain = build(configured, devices=False)
    try:
        assert plain.modem is None
        assert fake.commands == []
    finally:
        plain.close()
    relay = build(configured, devices=False, modem=True)
    try:
        assert relay.modem is not None
        assert relay.modem.status().can_send
    finally:
        relay.close()


def test_services_go_on_without_a_silent_modem(
    fake: FakeModem, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    fake.hang = True
    with caplog.at_level(logging.WARNING, logger="hamletbox.services"):
        relay = build(with_modem(settings, fake.path), devices=False, modem=True)
    try:
        assert relay.modem is None
        assert "modem không trả lời" in caplog.text
        assert "does not answer AT" in caplog.text
    finally:
        relay.close()
