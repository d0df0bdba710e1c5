"""All SQL of the device side: enrolment, nonces, blobs, manifests, the updates feed, heartbeats.

Written for both SQLite and PostgreSQL under concurrent requests: a write transaction starts with
its write (so SQLite never has to upgrade a stale read snapshot), and a unique key taken by a
concurrent twin is answered as a replay, never as a server error.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from appliance.domain.protocol import canonical_json, manifest_blobs
from upstream.tables import (
    Blob,
    Device,
    Dossier,
    DossierPage,
    EnrollToken,
    Heartbeat,
    Nonce,
    Update,
)

Sessions = sessionmaker[Session]
Outcome = Literal["created", "same", "conflict", "missing"]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(sessions: Sessions, hamlet: str, days: int, now: datetime) -> str:
    """A one-time enrolment token for a box of `hamlet`; only its SHA-256 is kept."""
    token = secrets.token_urlsafe(24)
    while token.startswith("-"):  # `enroll --token -x…` would read as an option
        token = secrets.token_urlsafe(24)
    with sessions.begin() as session:
        session.add(
            EnrollToken(
                token_sha256=token_digest(token),
                hamlet=hamlet,
                created_at=now,
                expires_at=now + timedelta(days=days),
            )
        )
    return token


class _Spent(Exception):
    """The token was taken by a concurrent enrolment: undo the device just added."""


def enroll(
    sessions: Sessions, token: str, hostname: str | None, software: str | None, now: datetime
) -> Device | None:
    """A new device for a valid token, which is used up in the same transaction; else None."""
    digest = token_digest(token)
    with sessions.begin() as session:
        found = session.get(EnrollToken, digest)
        if found is None or found.used_at is not None or found.expires_at <= now:
            return None
        hamlet = found.hamlet
    device = Device(
        id="hb-" + secrets.token_urlsafe(12),
        hamlet=hamlet,
        secret=secrets.token_urlsafe(32),
        hostname=hostname,
        software_version=software,
        enrolled_at=now,
    )
    try:
        with sessions.begin() as session:
            session.add(device)
            session.flush()
            used = session.execute(
                update(EnrollToken)
                .where(EnrollToken.token_sha256 == digest, EnrollToken.used_at.is_(None))
                .values(used_at=now, device_id=device.id)
            )
            if used.rowcount != 1:  # type: ignore[attr-defined]
                raise _Spent
    except _Spent:
        return None
    return device


def find_device(sessions: Sessions, device_id: str) -> Device | None:
    with sessions.begin() as session:
        return session.get(Device, device_id)


def record_nonce(sessions: Sessions, device_id: str, nonce: str, now: datetime) -> bool:
    """Remember a nonce in its own committed transaction; False when the device used it before."""
    try:
        with sessions.begin() as session:
            session.execute(insert(Nonce).values(device_id=device_id, nonce=nonce, seen_at=now))
    except IntegrityError:
        return False
    return True


def purge_nonces(sessions: Sessions, before: datetime) -> None:
    with sessions.begin() as session:
        session.execute(delete(Nonce).where(Nonce.seen_at < before))


def put_blob(
    sessions: Sessions, device_id: str, sha256: str, media_type: str, data: bytes, now: datetime
) -> bool:
    """Store verified bytes under their hash; False when they were there already."""
    if _blob_known(sessions, sha256):
        return False
    row = Blob(
        sha256=sha256,
        media_type=media_type,
        size=len(data),
        data=data,
        device_id=device_id,
        stored_at=now,
    )
    try:
        with sessions.begin() as session:
            session.add(row)
    except IntegrityError:  # the same bytes arrived at the same moment
        return False
    return True


def _blob_known(sessions: Sessions, sha256: str) -> bool:
    with sessions.begin() as session:
        return session.scalar(select(Blob.sha256).where(Blob.sha256 == sha256)) is not None


@dataclass(frozen=True)
class Received:
    """What became of a delivered manifest; `status` and `receipt_code` are the stored ones."""

    outcome: Outcome
    status: str = ""
    receipt_code: str = ""
    missing: list[str] = field(default_factory=list)


def put_dossier(
    sessions: Sessions, device: Device, manifest: Mapping[str, Any], now: datetime
) -> Received:
    """Receive a valid manifest once: the dossier and its pages in one transaction.

    A replay from the same device with the same canonical JSON gets the stored result; anything
    else under a taken UUID is a conflict, and the stored dossier is never changed.
    """
    uuid, digest = manifest["uuid"], hashlib.sha256(canonical_json(manifest)).hexdigest()
    seen = _replay(sessions, uuid, device.id, digest)
    if seen is not None:
        return seen
    with sessions.begin() as session:
        wanted = manifest_blobs(manifest)
        have = set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(wanted))))
    missing = [sha for sha in wanted if sha not in have]
    if missing:
        return Received("missing", missing=missing)
    try:
        with sessions.begin() as session:
            session.add(_dossier_row(device, manifest, digest, now))
            session.flush()  # the dossier before its pages (their foreign key)
            session.add_all(_page_rows(uuid, manifest))
    except IntegrityError:  # a concurrent twin stored it first
        again = _replay(sessions, uuid, device.id, digest)
        if again is None:
            raise
        return again
    return Received("created", "sent", manifest["receipt_code"])


def _replay(sessions: Sessions, uuid: str, device_id: str, digest: str) -> Received | None:
    with sessions.begin() as session:
        found = session.get(Dossier, uuid)
        if found is None:
            return None
        same = found.device_id == device_id and found.manifest_sha256 == digest
        return Received("same" if same else "conflict", found.status, found.receipt_code)


def _dossier_row(
    device: Device, manifest: Mapping[str, Any], digest: str, now: datetime
) -> Dossier:
    return Dossier(
        uuid=manifest["uuid"],
        device_id=device.id,
        receipt_code=manifest["receipt_code"],
        hamlet=device.hamlet,
        procedure=manifest["procedure"],
        applicant_name=manifest["applicant"]["full_name"],
        status="sent",
        manifest=dict(manifest),
        manifest_sha256=digest,
        received_at=now,
        updated_at=now,
    )


def _page_rows(uuid: str, manifest: Mapping[str, Any]) -> list[DossierPage]:
    return [
        DossierPage(
            dossier_uuid=uuid,
            position=page["position"],
            sha256=page["sha256"],
            paper=page["paper"],
            mode=page["mode"],
        )
        for page in manifest["pages"]
    ]


def updates_after(
    sessions: Sessions, device_id: str, after: int, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """This device's updates after the cursor, oldest first, and whether more are waiting."""
    query = (
        select(Update, Dossier.receipt_code)
        .join(Dossier, Dossier.uuid == Update.dossier_uuid)
        .where(Update.device_id == device_id, Update.id > after)
        .order_by(Update.id)
        .limit(limit + 1)
    )
    with sessions.begin() as session:
        rows = session.execute(query).all()
    found = [_update_json(row, code) for row, code in rows[:limit]]
    return found, len(rows) > limit


def _update_json(row: Update, receipt_code: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "uuid": row.dossier_uuid,
        "receipt_code": receipt_code,
        "status": row.status,
        "note": row.note,
        "appointment_date": row.appointment_date.isoformat() if row.appointment_date else None,
        "at": row.created_at.isoformat(),
    }


def save_heartbeat(
    sessions: Sessions, device_id: str, body: Mapping[str, Any], now: datetime
) -> None:
    """Keep the device's latest heartbeat (one row each) and the software version it reports."""
    with sessions.begin() as session:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(Heartbeat).values(device_id=device_id, received_at=now, body=body)
        session.execute(
            upsert.on_conflict_do_update(
                index_elements=[Heartbeat.device_id],
                set_={"received_at": upsert.excluded.received_at, "body": upsert.excluded.body},
            )
        )
        session.execute(
            update(Device)
            .where(Device.id == device_id)
            .values(software_version=body.get("software_version"))
        )


def received_dossiers(sessions: Sessions) -> list[dict[str, Any]]:
    """Every dossier received, oldest first, with its pages' hashes in page order."""
    with sessions.begin() as session:
        dossiers = session.scalars(select(Dossier).order_by(Dossier.received_at, Dossier.uuid))
        pages = session.execute(
            select(DossierPage.dossier_uuid, DossierPage.sha256).order_by(
                DossierPage.dossier_uuid, DossierPage.position
            )
        ).all()
        by_dossier: dict[str, list[str]] = {}
        for uuid, sha in pages:
            by_dossier.setdefault(uuid, []).append(sha)
        return [
            {
                "uuid": row.uuid,
                "receipt_code": row.receipt_code,
                "hamlet": row.hamlet,
                "procedure": row.procedure,
                "status": row.status,
                "pages": by_dossier.get(row.uuid, []),
            }
            for row in dossiers
        ]


def count_rows(sessions: Sessions, table: type[Any]) -> int:
    with sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0
