"""The SMS sender through the real AT session and the FakeModem over a pty: what a resident's
phone would receive, once, whatever the modem does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance import config
from appliance.hardware.fakes import FakeModem
from appliance.hardware.modem_api import Modem
from appliance.relay.sms_sender import SmsSender
from appliance.services import Services, build
from tests.appliance.relay.test_daemon_process import hamletbox
from tests.appliance.relay.test_sms_sender import Clock, item, queue
from tests.conftest import write_settings
from tests.support.box import make_box


@pytest.fixture
def box(tmp_path: Path, fake: FakeModem) -> Iterator[Services]:
    extra = f'\n[modem]\nurl = "{fake.path}"\ntimeout_seconds = 1\n'
    settings = config.load(write_settings(tmp_path, extra), environ={})
    services = build(settings, devices=False, modem=True)
    yield services
    services.close()


def modem_of(box: Services) -> Modem:
    assert box.modem is not None
    return box.modem


def test_the_receipt_reaches_the_phone_once_in_two_ucs2_parts(
    box: Services, fake: FakeModem
) -> None:
    queue(box, "receipt:a")
    clock = Clock()
    send = SmsSender(box.settings, box, modem_of(box), clock=clock)
    send.step()
    clock.advance(hours=2)
    send.step()
    [message] = fake.messages()
    assert message.number.endswith("912345678")
    assert message.text.startswith("Hộp hỗ trợ Thôn Xà Bang 1: đã nhận hồ sơ Đăng ký khai sinh")
    assert len(message.references) == 2
    assert item(box, "receipt:a").state == "delivered"


def test_no_signal_is_retried_and_sent_when_the_signal_returns(
    box: Services, fake: FakeModem
) -> None:
    queue(box, "receipt:a")
    clock = Clock()
    send = SmsSender(box.settings, box, modem_of(box), clock=clock)
    fake.signal = False
    send.step()  # the status says no network: nothing is tried
    assert item(box, "receipt:a").attempts == 0 and fake.messages() == []
    fake.signal = True
    clock.advance(seconds=box.settings.modem.status_seconds)
    send.step()
    assert len(fake.messages()) == 1


def test_a_network_refusal_rejects_with_its_plain_reason(box: Services, fake: FakeModem) -> None:
    queue(box, "receipt:a")
    fake.cms_error = 21
    clock = Clock()
    send = SmsSender(box.settings, box, modem_of(box), clock=clock)
    send.step()
    clock.advance(days=1)
    send.step()
    rejected = item(box, "receipt:a")
    assert rejected.state == "rejected" and rejected.attempts == 1
    assert rejected.last_error is not None and "không nhận được tin nhắn" in rejected.last_error


def test_a_congested_network_is_retried_with_backoff(box: Services, fake: FakeModem) -> None:
    queue(box, "receipt:a")
    fake.cms_error = 42
    clock = Clock()
    send = SmsSender(box.settings, box, modem_of(box), clock=clock)
    send.step()
    waiting = item(box, "receipt:a")
    assert waiting.state == "pending" and waiting.last_error is not None
    fake.cms_error = None
    clock.advance(seconds=box.settings.sms.retry_base_seconds)
    send.step()
    assert len(fake.messages()) == 1 and item(box, "receipt:a").state == "delivered"


def test_a_modem_that_stops_after_the_first_part_leaves_the_message_unsure(
    box: Services, fake: FakeModem
) -> None:
    queue(box, "receipt:a")
    fake.cms_error, fake.cms_error_after = 42, 1  # the second part fails after the first went
    clock = Clock()
    send = SmsSender(box.settings, box, modem_of(box), clock=clock)
    send.step()
    fake.cms_error = None
    clock.advance(days=1)
    send.step()
    assert item(box, "receipt:a").state == "unsure"
    assert fake.messages() == []  # half a message went; the other half is never sent twice
    assert len(fake.sent) == 1


def test_a_modem_that_answers_garbage_is_retried_and_nothing_is_lost(
    box: Services, fake: FakeModem
) -> None:
    queue(box, "receipt:a")
    clock = Clock()
    send = SmsSender(box.settings, box, modem_of(box), clock=clock)
    send.step()  # the first status, while the modem was sane
    queue(box, "receipt:b", to="0987654321")
    fake.garbage = True
    send.step()
    assert [m.number[-9:] for m in fake.messages()] == ["912345678"]
    waiting = item(box, "receipt:b")
    assert waiting.state == "pending", waiting.last_error  # no part went: safe to try again
    assert waiting.attempts == 1 and fake.messages()[0].number[-9:] == "912345678"
    fake.garbage = False
    clock.advance(hours=1)
    send.step()
    assert [m.number[-9:] for m in fake.messages()] == ["912345678", "987654321"]


def test_services_open_the_fake_named_in_settings(box: Services, fake: FakeModem) -> None:
    status = modem_of(box).status()
    assert status.can_send and status.sim == "ready"


def test_relay_once_sends_due_sms_even_before_the_box_is_enrolled(
    tmp_path: Path, fake: FakeModem
) -> None:
    box = make_box(tmp_path / "box", extra=f'\n[modem]\nurl = "{fake.path}"\n')
    with box.services() as services:
        queue(services, "receipt:a")
        queue(services, "receipt:b", to="0281234567")  # not a mobile: refused, never sent
    proc = hamletbox(box, "relay", "--once")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "This box is not enrolled" in err  # the upstream part
    assert "SMS: đã gửi 1, bị từ chối 1" in out and "sent 1, refused 1" in out
    assert "receipt:b: Đầu số 028 không phải số di động" in err
    assert [m.text[:10] for m in fake.messages()] == ["Hộp hỗ trợ"]
