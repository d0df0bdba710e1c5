"""The relay's SMS sender: renders each due message from its event's template and sends it
through the modem, in its own thread beside the upstream loop (it also runs before the box is
enrolled: a receipt SMS needs no upstream).

One SMS per event, never two: a message whose sending was cut off (a crash, a modem that may
have sent a part) becomes "unsure" and only a technician sends it again. Transient modem
trouble is retried with backoff; a refusal or a number that is not Vietnamese mobile is final.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from appliance.config import Settings
from appliance.domain import notify
from appliance.domain.phone import PhoneError, normalize_vn_mobile
from appliance.domain.sms import segment
from appliance.hardware.modem_api import Modem, ModemError
from appliance.relay.daemon import utc
from appliance.relay.modem_status import NO_MODEM, write_status
from appliance.relay.outbox import backoff
from appliance.services import Services
from appliance.store.sms_repo import SmsItem, SmsRepo

log = logging.getLogger(__name__)
STEP_SECONDS = 1.0  # the longest idle wait: a new receipt goes out within about this
DISABLED = "Tin nhắn SMS đang tắt (sms.enabled) / SMS is turned off (sms.enabled)"
GAVE_UP = (
    "Không gửi được trong {hours} giờ (không có modem hoặc sóng) / "
    "Could not be sent within {hours} hours (no modem or no signal)"
)
SLOT_PASSED = "Giờ hẹn đã qua, không cần nhắc / The slot has passed, no reminder needed"
RATE_LIMITED = (
    "Chờ: đã gửi {count} tin cho số này trong một giờ / "
    "Waiting: {count} messages went to this number within the hour"
)
UNKNOWN_FAILURE = (
    "Modem gặp lỗi lạ khi gửi: tin có thể đã đi / The modem failed oddly mid-send: it may have gone"
)


@dataclass
class SmsDrain:
    """What `relay --once` did with the SMS queue."""

    sent: int = 0
    retried: int = 0
    rejected: int = 0
    unsure: int = 0
    waiting: int = 0  # still queued at the end (no modem, rate limit, backoff)
    errors: list[str] = field(default_factory=list)


class SmsSender:
    def __init__(
        self,
        settings: Settings,
        services: Services,
        modem: Modem | None,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.repo = SmsRepo(services.sessions)
        self._catalog = services.catalog
        self._modem = modem
        self._clock = clock
        self._rng = rng or random.Random()
        self._started = False
        self._status_due = float("-inf")
        self._can_send = modem is not None  # until the first status says otherwise

    def _now(self) -> datetime:
        return utc(self._clock())

    def start(self) -> int:
        """Once, before anything else: messages left in flight become unsure; how many."""
        if self._started:
            return 0
        self._started = True
        cut = self.repo.mark_cut_off(self._now())
        if cut:
            log.warning("%d SMS were cut off mid-send and are now unsure / tin chưa rõ", cut)
        return cut

    def run(self, stopping: threading.Event) -> None:
        """Send until `stopping` is set; a send in progress always finishes and is recorded."""
        self.start()
        while not stopping.is_set():
            try:
                busy = self.step(stopping)
            except Exception:  # the thread must outlive a bad row or a locked database
                log.exception("SMS sender step failed / bước gửi SMS lỗi")
                busy = False
            if not busy:
                stopping.wait(STEP_SECONDS)

    def step(self, stopping: threading.Event | None = None) -> bool:
        """Refresh the modem's status when due, then try every due message; True when one was
        attempted, so the caller goes on at once."""
        self.start()
        self._refresh_status()
        now = self._now()
        if not self.settings.sms.enabled:
            self.repo.cancel_pending(now, DISABLED)
            return False
        attempted = False
        for item in self.repo.due(now):
            if stopping is not None and stopping.is_set():
                break
            attempted = self._handle(item, self._now()) or attempted
        return attempted

    def drain(self, stopping: threading.Event | None = None) -> SmsDrain:
        """`relay --once`: one pass over every due message, and what happened to them."""
        result = SmsDrain()
        self.start()
        self._refresh_status()
        before = {item.id for item in self.repo.due(self._now(), limit=1000)}
        while self.step(stopping) and not (stopping is not None and stopping.is_set()):
            pass
        for item_id in before:
            self._tally(result, item_id)
        result.waiting = len(self.repo.listed(("pending",), limit=1000))
        return result

    def _tally(self, result: SmsDrain, item_id: int) -> None:
        item = self.repo.get(item_id)
        if item is None:
            return
        if item.state == "delivered":
            result.sent += 1
        elif item.state == "rejected":
            result.rejected += 1
            result.errors.append(f"{item.key}: {item.last_error}")
        elif item.state == "unsure":
            result.unsure += 1
        elif item.state == "pending" and item.attempts:
            result.retried += 1

    def _handle(self, item: SmsItem, now: datetime) -> bool:
        """Settle what needs no modem, else send; whether the modem was tried."""
        try:
            to = normalize_vn_mobile(item.to)
        except PhoneError as exc:
            self.repo.reject(item.id, now, str(exc))
            return False
        if self._expired(item, now):
            return False
        if self._modem is None or not self._can_send:
            return False
        sent = self.repo.sent_within_hour(to, now)
        limit = self.settings.sms.per_number_per_hour
        if len(sent) >= limit:
            until = sent[len(sent) - limit] + timedelta(hours=1)
            self.repo.postpone(item.id, now, until, RATE_LIMITED.format(count=len(sent)))
            return False
        claimed = self.repo.claim(item.id, now)
        if claimed is None:
            return False
        self._send(self._modem, claimed, to)
        return True

    def _expired(self, item: SmsItem, now: datetime) -> bool:
        """A reminder after its slot, or any message unsent for sms.give_up_hours, is dropped."""
        if item.event == "reminder":
            start = item.params.get("start")
            try:
                passed = start is not None and datetime.fromisoformat(start) <= now
            except ValueError:
                passed = False
            if passed:
                self.repo.cancel(item.id, now, SLOT_PASSED)
            return passed
        hours = self.settings.sms.give_up_hours
        if now - item.created_at < timedelta(hours=hours):
            return False
        log.warning("SMS %s given up after %d hours / bỏ tin sau %d giờ", item.key, hours, hours)
        self.repo.reject(item.id, now, GAVE_UP.format(hours=hours))
        return True

    def _send(self, modem: Modem, item: SmsItem, to: str) -> None:
        text = self.text(item)
        try:
            references = modem.send_sms(to, text)
        except ModemError as exc:
            self._failed(item, exc)
            return
        except Exception:
            log.exception("SMS %s: unexpected modem failure / lỗi modem lạ", item.key)
            self.repo.unsure(item.id, self._now(), UNKNOWN_FAILURE)
            return
        self.repo.delivered(item, self._now(), text, segment(text).parts, list(references))
        log.info("SMS %s sent in %d part(s)", item.key, len(references))

    def _failed(self, item: SmsItem, exc: ModemError) -> None:
        now = self._now()
        if exc.maybe_sent:
            self.repo.unsure(item.id, now, str(exc))
        elif exc.transient:
            sms = self.settings.sms
            delay = backoff(item.attempts, sms.retry_base_seconds, sms.retry_cap_seconds, self._rng)
            self.repo.retry(item.id, now, str(exc), delay)
            self._status_due = float("-inf")  # look at the signal again before the next try
        else:
            self.repo.reject(item.id, now, str(exc))
        log.warning("SMS %s not sent: %s", item.key, exc)

    def text(self, item: SmsItem) -> str:
        """The message as sent: the event's template (a technician's, else the built-in) in the
        row's language, filled, under the text policy."""
        lang = item.lang if item.lang in notify.LANGS else "vi"
        template = self.repo.templates().get((item.event, lang)) or notify.builtin(item.event, lang)
        values = notify.values(
            item.params,
            lang,
            hamlet=self.settings.box.hamlet,
            box_url=self.settings.box_url,
            procedure_name=self._procedure_name(item.params.get("procedure"), lang),
        )
        try:
            filled = notify.render(item.event, template, values)
        except notify.TemplateError:  # an override saved before a placeholder was withdrawn
            filled = notify.render(item.event, notify.builtin(item.event, lang), values)
        return notify.apply_policy(filled, self.settings.sms.unaccented)

    def _procedure_name(self, code: str | None, lang: str) -> str | None:
        procedure = self._catalog.current().get(code) if code else None
        return None if procedure is None else procedure.name.get(lang)

    def _refresh_status(self) -> None:
        """Every modem.status_seconds: ask the modem and write runtime_dir/modem.json."""
        moment = self._clock()
        if moment < self._status_due:
            return
        self._status_due = moment + self.settings.modem.status_seconds
        status, error = None, NO_MODEM if self._modem is None else None
        if self._modem is not None:
            try:
                status = self._modem.status()
                self._can_send = status.can_send
            except ModemError as exc:
                error, self._can_send = str(exc), True  # a send will say what is wrong
        try:
            write_status(self.settings.runtime_dir, status, utc(moment), error)
        except OSError as exc:
            log.warning("modem.json not written / không ghi được modem.json: %s", exc)
