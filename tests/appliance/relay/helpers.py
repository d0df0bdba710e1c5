"""Queued dossiers made quickly through the dossier repository, the rows the relay works on, and a
scripted stand-in for the upstream client for answers a real upstream does not give on demand."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from appliance.domain.dossier import Applicant, PageMeta, paper_key
from appliance.relay.client import Reply, TransportError, UpstreamClient, enroll
from appliance.services import Services
from appliance.store.dossiers import DossierRepo, Submission
from appliance.store.tables import Dossier, Event, OutboxItem
from tests.support.upstream_server import make_token
from upstream.settings import UpstreamSettings

BIRTH = "1.001193"
SUBMISSION = Submission("1", "XB1", "Thôn Xà Bang 1", "volunteer:lan")
APPLICANT = Applicant("Nguyễn Thị Lan", "075190001234", None, "female", "Ấp 3, xã Xà Bang")
PHONE = "0912345678"


def queue_dossier(services: Services, tag: str, now: datetime, pages: int = 2) -> str:
    """A submitted (queued) dossier whose pages are small blobs no other dossier has."""
    repo = DossierRepo(services.sessions, services.blobs)
    procedure = services.catalog.current().get(BIRTH)
    assert procedure is not None
    uuid = repo.create_draft(BIRTH, "station", now)
    repo.set_applicant(uuid, APPLICANT, now)
    repo.set_phone(uuid, PHONE, now)
    papers = [paper_key(p) for p in procedure.papers if p.required]
    for n in range(pages):
        data = f"{tag} page {n} ".encode() * 40
        meta = PageMeta(services.blobs.put(data), "color", 1654, 2339, len(data))
        repo.add_page(uuid, papers[0], meta, now)
    for paper in papers[1:]:
        repo.mark_bring_original(uuid, paper, True, now)
    repo.submit(uuid, procedure, SUBMISSION, now, random.Random(tag))
    return uuid


def rows(services: Services, kind: str | None = None) -> list[OutboxItem]:
    """Outbox rows in id order: of one kind, or every upstream kind (not the residents' SMS,
    which the SMS sender sends, not the Relay)."""
    query = select(OutboxItem).order_by(OutboxItem.id)
    if kind is not None:
        query = query.where(OutboxItem.kind == kind)
    else:
        query = query.where(OutboxItem.kind != "sms")
    with services.sessions() as session:
        return list(session.scalars(query))


def status_sms(services: Services) -> list[OutboxItem]:
    """The SMS the commune's decisions queued (not the receipt SMS every submit queues)."""
    return [row for row in rows(services, "sms") if row.key.startswith("status:")]


def dossier(services: Services, uuid: str) -> Dossier:
    with services.sessions() as session:
        return session.scalars(select(Dossier).where(Dossier.uuid == uuid)).one()


def events(services: Services, uuid: str, kind: str = "status") -> list[Event]:
    with services.sessions() as session:
        return list(
            session.scalars(
                select(Event)
                .join(Dossier, Dossier.id == Event.dossier_id)
                .where(Dossier.uuid == uuid, Event.kind == kind)
                .order_by(Event.id)
            )
        )


def enrolled_client(url: str, upstream: UpstreamSettings, **options: Any) -> UpstreamClient:
    """A real client for a device just enrolled with the upstream at `url`."""
    answer = enroll(
        url, make_token(upstream), hostname="test-box", software_version="0.1.0", timeout=10
    )
    assert answer.status == 201 and answer.body is not None, answer.raw
    device, secret = answer.body["device_id"], answer.body["secret"]
    return UpstreamClient(url, device, secret, timeout=10, **options)


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Check `condition` until it holds (another thread or process makes it so); fail after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for a condition"
        time.sleep(0.05)


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def reply(
    status: int, body: Mapping[str, Any] | None = None, raw: bytes = b"", **headers: str
) -> Reply:
    return Reply(status, dict(body) if body is not None else None, raw, headers, None)


@dataclass
class FakeClient:
    """The UpstreamClient's methods, answering from scripts: a Reply or a TransportError each.

    A method with no script left answers `default` (200 with an empty object)."""

    scripts: dict[str, deque[Reply | TransportError]] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    offset: float = 0.0
    default: Reply = field(default_factory=lambda: reply(200, {}))

    def script(self, method: str, *answers: Reply | TransportError) -> None:
        self.scripts.setdefault(method, deque()).extend(answers)

    def _answer(self, method: str, *args: Any) -> Reply:
        self.calls.append((method, args))
        queue = self.scripts.get(method)
        answer = queue.popleft() if queue else self.default
        if isinstance(answer, TransportError):
            raise answer
        return answer

    def called(self, method: str) -> list[tuple[Any, ...]]:
        return [args for name, args in self.calls if name == method]

    def put_blob(self, sha256: str, data: bytes, media_type: str) -> Reply:
        return self._answer("put_blob", sha256, data, media_type)

    def put_manifest(self, uuid: str, manifest: Mapping[str, Any]) -> Reply:
        return self._answer("put_manifest", uuid, manifest)

    def updates(self, after: int, limit: int = 100) -> Reply:
        return self._answer("updates", after, limit)

    def heartbeat(self, body: Mapping[str, Any]) -> Reply:
        return self._answer("heartbeat", body)

    def catalog(self, etag: str | None) -> Reply:
        return self._answer("catalog", etag)

    def close(self) -> None:
        self.calls.append(("close", ()))
