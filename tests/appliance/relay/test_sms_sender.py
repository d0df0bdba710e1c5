"""The relay's SMS sender against a real store: each outcome of sending, once and only once.

`Script` is a small in-test Modem that records what it is asked to send; the same outcomes are
checked through the real FakeModem over a pty in test_sms_sender_pty.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance import config
from appliance.config import Settings
from appliance.hardware.modem_api import ModemError, ModemStatus
from appliance.relay.sms_sender import SmsSender
from appliance.services import Services, build
from appliance.store.sms_queue import queue_sms
from appliance.store.sms_repo import SmsItem, SmsRepo
from tests.conftest import write_settings

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
READY = ModemStatus("ready", "home", -71, "Viettel")


class Script:
    """A Modem that does what the test says, one answer per send, then sends for real."""

    def __init__(self, *answers: BaseException | None, status: ModemStatus = READY) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, str]] = []
        self._status = status

    def status(self) -> ModemStatus:
        return self._status

    def send_sms(self, to: str, text: str) -> list[int]:
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer
        self.sent.append((to, text))
        return [len(self.sent)]

    def close(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = T0.timestamp()

    def __call__(self) -> float:
        return self.now

    def moment(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta).total_seconds()


def make_settings(tmp_path: Path, sms: str = "") -> Settings:
    return config.load(write_settings(tmp_path, f"\n[sms]\n{sms}\n"), environ={})


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Services]:
    built = build(make_settings(tmp_path, "per_number_per_hour = 2"), devices=False)
    yield built
    built.close()


def queue(
    services: Services,
    key: str,
    *,
    event: str = "receipt",
    to: str = "0912345678",
    lang: str = "vi",
    due: datetime = T0,
    **params: str | None,
) -> None:
    values = {"code": "XB-4K7P", "procedure": "1.001193", "date": None} | params
    with services.sessions.begin() as session:
        queue_sms(session, key=key, event=event, to=to, params=values, lang=lang, now=T0, due=due)


def item(services: Services, key: str) -> SmsItem:
    found = [i for i in SmsRepo(services.sessions).listed(STATES, 1000) if i.key == key]
    assert len(found) == 1
    return found[0]


STATES = ("pending", "in_flight", "delivered", "rejected", "unsure", "cancelled")


def sender(services: Services, modem: Script | None, clock: Clock) -> SmsSender:
    return SmsSender(services.settings, services, modem, clock=clock)


def test_a_receipt_is_rendered_and_sent_once(box: Services) -> None:
    queue(box, "receipt:a")
    modem, clock = Script(), Clock()
    send = sender(box, modem, clock)
    assert send.step() is True
    assert modem.sent == [
        (
            "0912345678",
            "Hộp hỗ trợ Thôn Xà Bang 1: đã nhận hồ sơ Đăng ký khai sinh, mã XB-4K7P. "
            "Tra cứu tại http://10.42.0.1/",
        )
    ]
    assert item(box, "receipt:a").state == "delivered"
    clock.advance(hours=1)
    assert send.step() is False
    assert len(modem.sent) == 1
    sent = SmsRepo(box.sessions).recent_sent()
    assert [(s.key, s.parts) for s in sent] == [("receipt:a", 2)]


def test_a_transient_error_is_retried_after_a_backoff_then_sent(box: Services) -> None:
    queue(box, "receipt:a")
    modem, clock = Script(ModemError("Không có sóng / No signal", transient=True)), Clock()
    send = sender(box, modem, clock)
    send.step()
    waiting = item(box, "receipt:a")
    assert waiting.state == "pending" and waiting.attempts == 1
    assert waiting.last_error == "Không có sóng / No signal"
    delay = (waiting.next_attempt_at - T0).total_seconds()
    assert 30 <= delay <= 60  # sms.retry_base_seconds, jittered into its upper half
    assert send.step() is False and modem.sent == []
    clock.advance(seconds=61)
    send.step()
    assert len(modem.sent) == 1 and item(box, "receipt:a").state == "delivered"


def test_a_permanent_error_rejects_and_is_never_retried(box: Services) -> None:
    queue(box, "receipt:a")
    refusal = ModemError("Mạng từ chối số này / The network refused the number", transient=False)
    modem, clock = Script(refusal), Clock()
    send = sender(box, modem, clock)
    send.step()
    clock.advance(days=1)
    send.step()
    rejected = item(box, "receipt:a")
    assert rejected.state == "rejected" and rejected.last_error == str(refusal)
    assert modem.sent == []


def test_a_part_that_may_have_gone_makes_the_message_unsure_never_resent(box: Services) -> None:
    queue(box, "receipt:a")
    cut = ModemError("Modem im lặng / The modem went silent", transient=True, maybe_sent=True)
    modem, clock = Script(cut), Clock()
    send = sender(box, modem, clock)
    send.step()
    clock.advance(days=1)
    send.step()
    assert item(box, "receipt:a").state == "unsure"
    assert modem.sent == []


def test_an_odd_failure_mid_send_is_unsure_too(box: Services) -> None:
    queue(box, "receipt:a")
    modem, clock = Script(OSError("port vanished")), Clock()
    sender(box, modem, clock).step()
    assert item(box, "receipt:a").state == "unsure"


def test_a_crash_mid_send_leaves_an_unsure_message_that_is_never_resent(box: Services) -> None:
    queue(box, "receipt:a")
    repo = SmsRepo(box.sessions)
    assert repo.claim(repo.due(T0)[0].id, T0) is not None  # the crashed sender's claim
    modem, clock = Script(), Clock()
    send = sender(box, modem, clock)
    assert send.start() == 1
    clock.advance(days=1)
    send.step()
    assert modem.sent == [] and item(box, "receipt:a").state == "unsure"
    assert repo.send_again(item(box, "receipt:a").id, clock.moment(), "technician:minh")
    send.step()
    assert len(modem.sent) == 1  # only a technician's explicit choice sends it again


def test_more_than_the_hourly_limit_to_one_number_waits_without_an_attempt(box: Services) -> None:
    for key in ("a", "b", "c"):
        queue(box, key)
    queue(box, "other", to="0987654321")
    modem, clock = Script(), Clock()
    send = sender(box, modem, clock)
    send.step()
    assert [to for to, _ in modem.sent] == ["0912345678", "0912345678", "0987654321"]
    third = item(box, "c")
    assert third.state == "pending" and third.attempts == 0
    assert third.next_attempt_at == T0 + timedelta(hours=1)
    clock.advance(minutes=59)
    send.step()
    assert len(modem.sent) == 3
    clock.advance(minutes=1)
    send.step()
    assert len(modem.sent) == 4 and item(box, "c").state == "delivered"


def test_without_a_modem_messages_wait_then_are_given_up(box: Services) -> None:
    queue(box, "receipt:a")
    clock = Clock()
    send = sender(box, None, clock)
    clock.advance(hours=71)
    send.step()
    assert item(box, "receipt:a").state == "pending"
    clock.advance(hours=2)
    send.step()
    given_up = item(box, "receipt:a")
    assert given_up.state == "rejected" and given_up.last_error is not None
    assert "72" in given_up.last_error


def test_a_modem_without_sim_sends_nothing_and_says_so_in_modem_json(box: Services) -> None:
    queue(box, "receipt:a")
    modem, clock = Script(status=ModemStatus("absent", "not_registered", None)), Clock()
    sender(box, modem, clock).step()
    assert modem.sent == [] and item(box, "receipt:a").attempts == 0
    written = json.loads((box.settings.runtime_dir / "modem.json").read_text("utf-8"))
    assert written["sim"] == "absent" and written["error"] is None
    assert written["checked_at"] == T0.isoformat()


def test_modem_json_says_when_there_is_no_modem_and_carries_the_signal(box: Services) -> None:
    clock = Clock()
    sender(box, None, clock).step()
    path = box.settings.runtime_dir / "modem.json"
    assert "modem.url" in json.loads(path.read_text("utf-8"))["error"]
    sender(box, Script(), clock).step()
    written = json.loads(path.read_text("utf-8"))
    assert written["signal_dbm"] == -71 and written["operator"] == "Viettel"


def test_a_reminder_after_its_slot_is_cancelled_not_sent(box: Services) -> None:
    start = T0 + timedelta(hours=3)
    queue(box, "reminder:H7K2", event="reminder", booking="H7K2", start=start.isoformat())
    clock = Clock()
    clock.advance(hours=4)
    modem = Script()
    sender(box, modem, clock).step()
    assert item(box, "reminder:H7K2").state == "cancelled" and modem.sent == []


def test_a_number_that_is_not_vietnamese_mobile_is_rejected_plainly(box: Services) -> None:
    queue(box, "receipt:a", to="0281234567")
    modem = Script()
    sender(box, modem, Clock()).step()
    rejected = item(box, "receipt:a")
    assert rejected.state == "rejected" and modem.sent == []
    assert rejected.last_error is not None and " / " in rejected.last_error


def test_sms_turned_off_cancels_what_waits(tmp_path: Path) -> None:
    services = build(make_settings(tmp_path, "enabled = false"), devices=False)
    try:
        queue(services, "receipt:a")
        modem = Script()
        sender(services, modem, Clock()).step()
        assert item(services, "receipt:a").state == "cancelled" and modem.sent == []
    finally:
        services.close()


def test_unaccented_setting_sends_gsm7_text(tmp_path: Path) -> None:
    services = build(make_settings(tmp_path, "unaccented = true"), devices=False)
    try:
        queue(services, "receipt:a")
        modem = Script()
        sender(services, modem, Clock()).step()
        assert modem.sent[0][1] == (
            "Hop ho tro Thon Xa Bang 1: da nhan ho so Dang ky khai sinh, ma XB-4K7P. "
            "Tra cuu tai http://10.42.0.1/"
        )
    finally:
        services.close()


def test_a_technicians_wording_in_the_residents_language_is_used(box: Services) -> None:
    SmsRepo(box.sessions).save_template("done", "en", "Ready: {code}  {link}", "tech", T0)
    queue(box, "status:u:1", event="done", lang="en")
    queue(box, "status:u:2", event="done", lang="vi", to="0987654321")
    modem = Script()
    sender(box, modem, Clock()).step()
    assert modem.sent[0][1] == "Ready: XB-4K7P http://10.42.0.1/danh-gia/XB-4K7P?tu=sms"
    assert modem.sent[1][1].startswith("Thôn Xà Bang 1: hồ sơ XB-4K7P đã có kết quả")


def test_drain_reports_what_it_did(box: Services) -> None:
    queue(box, "a")
    queue(box, "b", to="0987654321")
    queue(box, "c", to="0281234567")
    queue(box, "d", to="0977777777")
    no_signal = ModemError("Không có sóng / No signal", transient=True)
    modem = Script(None, None, no_signal)
    result = sender(box, modem, Clock()).drain()
    assert (result.sent, result.rejected, result.retried, result.waiting) == (2, 1, 1, 1)
    assert result.errors and result.errors[0].startswith("c: ")
