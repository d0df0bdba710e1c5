"""The relay daemon: delivers the outbox, pulls the commune's decisions, sends heartbeats and
syncs the catalog, on an injected clock.

One thread does the chores; a backlog goes out on `relay.connections` connections at once (one
sender thread each, in bursts of at most BURST_SECONDS between chores), so one slow answer does
not hold the rest up. `stop()` only sets an Event, so a request in flight always finishes and its
result is recorded before the loop ends. Waiting is on that Event in steps of at most a
second, so the web's "send now" (next_attempt_at = now) is picked up within a second.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from appliance.config import Settings
from appliance.relay import systemd
from appliance.relay.catalog_sync import sync_catalog
from appliance.relay.client import Reply, TransportError, UpstreamClient
from appliance.relay.heartbeat import heartbeat_body, send_heartbeat
from appliance.relay.outbox import BOX_FAULT, Outcome, Refused, backoff, classify
from appliance.relay.status_file import RelayStatus, StatusFile, Uplink
from appliance.relay.updates import pull_updates
from appliance.services import Services
from appliance.store.outbox_repo import Claimed, OutboxRepo, Waiting
from appliance.store.relay_repo import RelayRepo
from appliance.store.reports_repo import ReportsRepo

log = logging.getLogger("hamletbox.relay")
STEP_SECONDS = 1.0  # the longest wait: "send now" is noticed within this
SOON_SECONDS = 5.0  # after a manifest is delivered, ask for the commune's decisions this soon
REVOKED_PAUSE = 3600.0  # a revoked box asks again this rarely (the district may undo it)
GIVE_UP_ROUNDS = 3  # `--once`: rounds in a row that settled nothing while items wait
BURST_SECONDS = 5.0  # run(): a backlog is sent on every connection this long between chores
IDLE_POLL_SECONDS = 0.05  # drain(): how often an idle sender looks again while others send
SETTLED = ("delivered", "reject", "conflict")  # an item that leaves the queue


def utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


@dataclass
class DrainResult:
    """What `relay --once` did, and what still waits when it gave up."""

    delivered: int = 0
    rejected: int = 0
    conflicts: int = 0
    revoked: bool = False
    gave_up: bool = False  # the upstream stayed unreachable while items waited
    waiting: list[Waiting] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # updates, heartbeat or catalog that failed

    @property
    def exit_code(self) -> int:
        return 1 if self.revoked or self.gave_up or self.errors else 0

    def count(self, outcome: Outcome) -> None:
        self.delivered += outcome.action == "delivered"
        self.rejected += outcome.action == "reject"
        self.conflicts += outcome.action == "conflict"
        self.revoked = self.revoked or outcome.action == "revoked"


class Relay:
    """The relay's single worker: `run()` under systemd, `drain()` for `relay --once`."""

    def __init__(
        self,
        settings: Settings,
        services: Services,
        client: UpstreamClient,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        wait: Callable[[float], object] | None = None,
        stopping: threading.Event | None = None,
        environ: Mapping[str, str] | None = None,
        extra_clients: Sequence[UpstreamClient] = (),
    ) -> None:
        """`wait(seconds)` pauses the loop (default: the stop Event's wait; tests pass one that
        moves their clock); `environ` is where systemd's notify socket is looked up.
        `extra_clients`: more connections `drain()` sends on at once, so one slow answer does not
        hold up the rest of a backlog."""
        self.settings = settings
        self.client = client
        self._extra_clients = tuple(extra_clients)
        self._lock = threading.Lock()  # the outcome bookkeeping, shared by drain()'s senders
        self.outbox = OutboxRepo(services.sessions, services.blobs)
        self.relay_repo = RelayRepo(services.sessions)
        self.reports = ReportsRepo(services.sessions)  # the figures in the heartbeat
        self.status = RelayStatus()
        self._clock = clock
        self._rng = rng or random.Random()
        self._stopping = stopping if stopping is not None else threading.Event()
        self._wait = wait or self._stopping.wait
        self._environ = environ
        self._window = settings.sending_window
        self._status_file = StatusFile(settings.runtime_dir)
        self._due = {"updates": 0.0, "heartbeat": 0.0, "catalog": 0.0}  # clock() times
        self._held_until = 0.0  # no request before then: the link just failed, or revoked
        self._link_down = False
        self._unanswered = 0  # requests in a row that got no answer at all
        self._revoked = False
        self._sending = False
        self._in_flight = 0  # items claimed and not yet recorded, across drain()'s senders

    def stop(self) -> None:
        """Finish the request in flight, record it, and leave run() or drain()."""
        self._stopping.set()

    def run(self) -> None:
        resumed = self.outbox.reset_in_flight(self._now())
        log.info("relay started; %d items were in flight and will be sent again", resumed)
        self._notify("READY=1")
        watchdog = systemd.watchdog_interval(self._environ) is not None
        while not self._stopping.is_set():
            busy = self.step()
            if watchdog:
                self._notify("WATCHDOG=1")
            self._publish()
            if not busy:
                self._wait(self._pause())
        self._publish(force=True)
        log.info("relay stopped")
        self._notify("STOPPING=1")

    def step(self) -> bool:
        """One turn: send one due item, then whatever periodic exchange is due. True when an
        item was sent, so the loop goes on at once."""
        sent = False
        if self._may_send() and self._extra_clients:
            attempted, _ = self._drain_round(DrainResult(), self._clock() + BURST_SECONDS)
            sent = attempted
        elif self._may_send():
            sent = self._send_one() is not None
        else:
            self._sending = False
        for name, interval, action in self._tasks():
            now = self._clock()
            if self._stopping.is_set() or now < self._held_until:
                break
            if now >= self._due[name]:
                self._due[name] = now + interval
                self._exchange(name, action)
        return sent

    def drain(self) -> DrainResult:
        """`relay --once`: send until nothing sendable is left, then pull the decisions, send a
        heartbeat and sync the catalog. Gives up after GIVE_UP_ROUNDS fruitless rounds."""
        result, fruitless = DrainResult(), 0
        self.outbox.reset_in_flight(self._now())
        while not self._stopping.is_set() and self._window_open():
            attempted, settled = self._drain_round(result)
            due = self.outbox.next_due_at()
            if result.revoked or due is None:
                break
            fruitless = 0 if settled else fruitless + attempted
            if fruitless >= GIVE_UP_ROUNDS:
                result.gave_up = True
                break
            self._wait(max(0.0, due.timestamp() - self._clock(), self._held_until - self._clock()))
        if result.gave_up or result.revoked:
            result.waiting = self.outbox.waiting()
        elif not self._stopping.is_set():
            for name, _, action in self._tasks():
                outcome = self._exchange(name, action)
                if outcome.action != "delivered":
                    result.errors.append(f"{name}: {outcome.reason}")
        self._publish(force=True)
        return result

    def _drain_round(self, result: DrainResult, until: float = float("inf")) -> tuple[bool, bool]:
        """Send every item due now, on every connection at once; whether any was tried, and
        whether any left the queue. Claiming is safe for concurrent senders (outbox_repo).
        A sender with nothing due keeps watching while another's answer is awaited, since that
        answer may free a manifest or a retry; the round ends when every sender is idle, or
        once `until` (a clock() time) has passed and each has finished its request."""
        tally = [False, False]  # attempted, settled
        senders = [
            threading.Thread(target=self._sender, args=(client, result, tally, until), daemon=True)
            for client in self._extra_clients
        ]
        for sender in senders:
            sender.start()
        self._sender(self.client, result, tally, until)
        for sender in senders:
            sender.join()
        return tally[0], tally[1]

    def _sender(
        self, client: UpstreamClient, result: DrainResult, tally: list[bool], until: float
    ) -> None:
        while self._may_send() and self._clock() < until:
            outcome = self._send_one(client)
            if outcome is None:
                with self._lock:
                    others_busy = self._in_flight > 0
                if not others_busy:
                    break
                self._stopping.wait(IDLE_POLL_SECONDS)
                continue
            with self._lock:
                result.count(outcome)
                tally[0], tally[1] = True, tally[1] or outcome.action in SETTLED
            if outcome.action == "revoked":
                break

    def _send_one(self, client: UpstreamClient | None = None) -> Outcome | None:
        with self._lock:  # counted before the claim, so an idle sender never misses it
            self._in_flight += 1
        try:
            claimed = self.outbox.claim_next(self._now())
            if claimed is None:
                self._sending = False
                return None
            outcome = self._exchange(
                claimed.kind, lambda: self._put(claimed, client or self.client)
            )
            self._record(claimed, outcome)
            return outcome
        finally:
            with self._lock:
                self._in_flight -= 1

    def _put(self, item: Claimed, client: UpstreamClient) -> Reply:
        if item.kind == "blob":
            assert item.data is not None  # claim_next reads every blob's bytes
            return client.put_blob(item.key, item.data, str(item.payload["media_type"]))
        return client.put_manifest(item.key, item.payload)

    def _record(self, item: Claimed, outcome: Outcome) -> None:
        now, action, reason = self._now(), outcome.action, outcome.reason or ""
        relay = self.settings.relay
        delay = backoff(
            item.attempts, relay.backoff_base_seconds, relay.backoff_cap_seconds, self._rng
        )
        label = f"{item.kind} {item.key[:12]} (attempt {item.attempts})"
        if action == "delivered":
            self._sending = True
            log.info("%s delivered", label)
            if self.outbox.delivered(item.id, now):
                self._due["updates"] = min(self._due["updates"], self._clock() + SOON_SECONDS)
            return
        log.warning("%s: %s (%s)", label, reason, action)
        if action == "reject":
            self.outbox.reject(item.id, now, reason)
        elif action == "conflict":
            self.outbox.conflict(item.id, now, reason)
        elif action == "resend_blobs":
            self.outbox.resend_blobs(item.id, now, outcome.missing, reason, delay)
        else:
            self.outbox.retry(item.id, now, reason, delay)

    def _tasks(self) -> list[tuple[str, float, Callable[[], None]]]:
        relay = self.settings.relay
        return [
            ("updates", relay.poll_seconds, self._pull),
            ("heartbeat", relay.heartbeat_seconds, self._heartbeat),
            ("catalog", relay.catalog_seconds, self._sync_catalog),
        ]

    def _pull(self) -> None:
        pull_updates(self.client, self.relay_repo, self._now)

    def _heartbeat(self) -> None:
        now = self._now()
        body = heartbeat_body(
            self.settings, self.outbox.stats(now), figures=self.reports.heartbeat(now)
        )
        send_heartbeat(self.client, body)

    def _sync_catalog(self) -> None:
        sync_catalog(self.client, self.settings, self.relay_repo, self._now())

    def _exchange(self, kind: str, action: Callable[[], Reply | None]) -> Outcome:
        """Run one request and say what it means; the uplink state follows every answer."""
        answered = True
        try:
            reply = action()
        except TransportError as exc:
            log.warning("%s: no answer from the upstream: %s", kind, exc)
            outcome, answered = classify(kind, exc), False
        except Refused as exc:
            outcome = exc.outcome
        except Exception:  # a fault of the box (a full card, a bug): logged, and the work goes on
            log.exception("%s failed on the box", kind)
            outcome = Outcome("retry", BOX_FAULT)
        else:
            outcome = Outcome("delivered") if reply is None else classify(kind, reply)
        self._note(outcome, answered)
        return outcome

    def _note(self, outcome: Outcome, answered: bool) -> None:
        with self._lock:
            self._note_locked(outcome, answered)

    def _note_locked(self, outcome: Outcome, answered: bool) -> None:
        now = self._clock()
        self._revoked = outcome.action == "revoked"
        self._link_down = not answered
        self._unanswered = 0 if answered else self._unanswered + 1
        if self._revoked:
            self._held_until = now + REVOKED_PAUSE
        elif self._unanswered >= 2:
            # Twice in a row without an answer: the link is down, not one request unlucky (the
            # failed item backs off by itself). Hold everything, longer each time, up to the cap.
            relay = self.settings.relay
            hold = relay.backoff_base_seconds * 2 ** (self._unanswered - 2)
            self._held_until = now + min(relay.backoff_cap_seconds, hold)
        if outcome.action == "delivered":
            self.status.last_ok_at, self.status.last_error = now, None
        else:
            self.status.last_error = outcome.reason
        self.status.clock_offset = self.client.offset

    def _may_send(self) -> bool:
        return (
            not self._stopping.is_set()
            and self._clock() >= self._held_until
            and (self._window_open())
        )

    def _window_open(self) -> bool:
        """The sending window is local time by the upstream's clock (the Pi has no RTC)."""
        if self._window is None:
            return True
        moment = datetime.fromtimestamp(self._clock() + self.client.offset).time()
        return self._window.contains(moment)

    def _pause(self) -> float:
        """Seconds until something may be due, at most STEP_SECONDS."""
        now = self._clock()
        wake = max(min(self._due.values()), self._held_until)
        if self._may_send():
            due = self.outbox.next_due_at()
            wake = min(wake, due.timestamp()) if due is not None else wake
        return max(0.0, min(STEP_SECONDS, wake - now))

    def _uplink(self) -> Uplink:
        if self._revoked:
            return "revoked"
        if self._link_down or self.status.last_ok_at is None:
            return "offline"
        return "sending" if self._sending else "online"

    def _publish(self, *, force: bool = False) -> None:
        self.status.uplink = self._uplink()
        self.status.queue_depth = self.outbox.stats(self._now()).queue_depth
        self._status_file.publish(self.status, self._clock(), force=force)

    def _notify(self, message: str) -> None:
        systemd.notify(message, self._environ)

    def _now(self) -> datetime:
        return utc(self._clock())


def run_command(settings: Settings, once: bool) -> int:
    """`hamletbox relay [--once]`: see appliance.relay.daemon_cli."""
    from appliance.relay.daemon_cli import run

    return run(settings, once)
