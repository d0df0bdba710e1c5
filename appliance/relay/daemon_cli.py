"""`hamletbox relay`: the daemon under systemd, or `--once` to drain the queue from a terminal.

Signals are handled here, not in the Relay class: SIGTERM and SIGINT ask it to stop after the
request in flight. A box not yet enrolled waits (daemon) or says so plainly (`--once`). The SMS
sender runs in its own thread beside the upstream loop, enrolled or not (a receipt SMS needs no
upstream), so a slow modem never holds up the relay or its watchdog pings.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import defaultdict

from appliance.config import Settings
from appliance.relay import systemd
from appliance.relay.client import UpstreamClient
from appliance.relay.credentials import DeviceCredentials, load_credentials, upstream_url
from appliance.relay.daemon import DrainResult, Relay
from appliance.relay.sms_sender import SmsDrain, SmsSender
from appliance.relay.status_file import RelayStatus, StatusFile
from appliance.services import Services, build
from appliance.stopping import stop_on_signals
from appliance.store.outbox_repo import Waiting

log = logging.getLogger("hamletbox.relay")
ENROLL_RECHECK_SECONDS = 60.0
SMS_STOP_SECONDS = 90.0  # the longest wait for a send in progress at stop (a send's own limit)
NOT_ENROLLED = (
    "Hộp chưa đăng ký với xã: chạy `hamletbox enroll --upstream ĐỊA-CHỈ --token MÃ` / "
    "This box is not enrolled: run `hamletbox enroll --upstream URL --token TOKEN`"
)


def run(settings: Settings, once: bool) -> int:
    # Plain lines on stderr: journald adds the time and the unit.
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its INFO lines at every start
    stopping = threading.Event()
    stop_on_signals(stopping)
    services = build(settings, devices=False, modem=True)
    sms = SmsSender(settings, services, services.modem)
    sms.start()  # before the relay resets its own in-flight rows: a cut-off SMS is never resent
    try:
        if once:
            try:
                return _once(settings, services, stopping)
            finally:  # after the decisions were pulled, so their SMS go in this run too
                _report_sms(sms.drain(stopping))
        sender = threading.Thread(target=sms.run, args=(stopping,), name="sms", daemon=True)
        sender.start()
        try:
            _run_relay(settings, services, stopping)
        finally:
            stopping.set()  # not a signal handler: the relay has returned, so the SMS stop too
            sender.join(SMS_STOP_SECONDS)
        return 0
    finally:
        services.close()


def _run_relay(settings: Settings, services: Services, stopping: threading.Event) -> None:
    creds = _wait_for_enrollment(settings, stopping)
    if creds is None:
        return
    clients = _clients(settings, creds)
    try:
        Relay(settings, services, clients[0], stopping=stopping, extra_clients=clients[1:]).run()
    finally:
        for client in clients:
            client.close()


def _client(settings: Settings, creds: DeviceCredentials) -> UpstreamClient:
    relay = settings.relay
    return UpstreamClient(
        upstream_url(settings, creds),
        creds.device_id,
        creds.secret,
        timeout=relay.timeout_seconds,
        max_kbps=relay.max_kbps,
    )


def _clients(settings: Settings, creds: DeviceCredentials) -> list[UpstreamClient]:
    """One client per connection: a backlog goes out on `relay.connections` at once, so one
    slow answer does not hold the rest up; one only under an upload cap, which is per
    connection. The first client also does the chores (updates, heartbeat, catalog)."""
    count = 1 if settings.relay.max_kbps else settings.relay.connections
    return [_client(settings, creds) for _ in range(count)]


def _once(settings: Settings, services: Services, stopping: threading.Event) -> int:
    creds = load_credentials(settings)
    if creds is None:
        print(f"hamletbox: {NOT_ENROLLED}", file=sys.stderr)
        return 1
    clients = _clients(settings, creds)
    try:
        relay = Relay(settings, services, clients[0], stopping=stopping, extra_clients=clients[1:])
        result = relay.drain()
    finally:
        for client in clients:
            client.close()
    _report(result)
    return result.exit_code


def _report(result: DrainResult) -> None:
    print(
        f"đã gửi {result.delivered} mục, {result.rejected} bị từ chối, {result.conflicts} xung đột"
        f" / delivered {result.delivered} items, {result.rejected} refused,"
        f" {result.conflicts} conflicts"
    )
    for error in result.errors:
        print(f"hamletbox: {error}", file=sys.stderr)
    if result.revoked:
        print(
            "hamletbox: xã đã thu hồi đăng ký của hộp / the box's enrolment was revoked",
            file=sys.stderr,
        )
    elif result.gave_up:
        print(
            "hamletbox: không liên lạc được với xã; còn chờ gửi / "
            "the commune's upstream cannot be reached; still waiting:",
            file=sys.stderr,
        )
    for line in waiting_lines(result.waiting):
        print(f"  {line}", file=sys.stderr)


def _report_sms(result: SmsDrain) -> None:
    """One line when the modem was tried or a message refused, and the reason of each refusal
    (without a modem, SMS only wait: the relay's own report says nothing new)."""
    if not (result.sent or result.rejected or result.unsure or result.retried):
        return
    print(
        f"SMS: đã gửi {result.sent}, bị từ chối {result.rejected}, chưa rõ {result.unsure},"
        f" còn chờ {result.waiting} / sent {result.sent}, refused {result.rejected},"
        f" unsure {result.unsure}, waiting {result.waiting}"
    )
    for error in result.errors:
        print(f"hamletbox: SMS {error}", file=sys.stderr)


def waiting_lines(items: list[Waiting]) -> list[str]:
    """One line per dossier: its receipt code, what of it waits, and the last error."""
    by_dossier: dict[str, list[Waiting]] = defaultdict(list)
    for item in items:
        by_dossier[item.receipt_code or item.key[:12]].append(item)
    lines = []
    for code, waiting in by_dossier.items():
        pages = sum(item.kind == "blob" for item in waiting)
        errors = [item.last_error for item in waiting if item.last_error]
        last = f" — {errors[-1]}" if errors else ""
        lines.append(f"{code}: {pages} trang + hồ sơ / {pages} pages + manifest{last}")
    return lines


def _wait_for_enrollment(settings: Settings, stopping: threading.Event) -> DeviceCredentials | None:
    """The credentials once `hamletbox enroll` has written them, re-checked every minute;
    None when stopped first. Meanwhile relay.json says "not_enrolled" and systemd is kept happy."""
    status, checked = StatusFile(settings.runtime_dir), float("-inf")
    watchdog = systemd.watchdog_interval()
    told = False
    while not stopping.is_set():
        if time.monotonic() - checked >= ENROLL_RECHECK_SECONDS:
            checked = time.monotonic()
            creds = load_credentials(settings)
            if creds is not None:
                return creds
            if not told:
                log.warning(NOT_ENROLLED)
                systemd.notify("READY=1")
                told = True
            status.publish(RelayStatus(uplink="not_enrolled", last_error=NOT_ENROLLED), time.time())
        if watchdog is not None:
            systemd.notify("WATCHDOG=1")
        stopping.wait(min(ENROLL_RECHECK_SECONDS, watchdog or ENROLL_RECHECK_SECONDS))
    return None
