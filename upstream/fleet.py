"""The district technician's fleet page: every enrolled box, how it last said it was doing, and the
enrolment tokens still waiting to be used, per hamlet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from upstream.app import upstream
from upstream.officer_ui import page
from upstream.officers import require_officer
from upstream.tables import Device, EnrollToken, Heartbeat

HEARTBEAT_S = 300  # how often a box reports
STALE_AFTER_S = 3 * HEARTBEAT_S  # three missed heartbeats: the box is shown as out of touch

bp = Blueprint("fleet", __name__)
bp.before_request(require_officer)


@dataclass(frozen=True)
class Box:
    """One enrolled box as the fleet page shows it; None wherever the box has not said."""

    hamlet: str
    device_id: str
    hostname: str | None
    enrolled_at: datetime
    revoked: bool
    heard_ago_s: float | None
    software_version: str | None
    queue_depth: int | None
    oldest_undelivered_s: int | None
    disk_free_bytes: int | None
    modem_signal_dbm: int | None
    conflicts: int | None
    rejected: int | None
    figures: Figures | None = None

    @property
    def stale(self) -> bool:
        return not self.revoked and (self.heard_ago_s is None or self.heard_ago_s > STALE_AFTER_S)


@dataclass(frozen=True)
class Figures:
    """The hamlet's reports as the box summed them (docs/upstream-api.yaml, HeartbeatFigures);
    None wherever a figure is missing or not of its shape."""

    period_days: int | None
    dossiers: int | None
    by_status: tuple[tuple[str, int], ...]
    median_days: float | None
    within_24h: float | None  # a share, 0..1
    ratings: int | None
    satisfaction: float | None  # a share, 0..1
    assistance: int | None


@dataclass(frozen=True)
class Tokens:
    """A hamlet's unused, unexpired enrolment tokens."""

    hamlet: str
    count: int
    first_expiry: datetime
    last_expiry: datetime


@bp.get("/thiet-bi")
def index() -> Response:
    now = upstream().clock()
    return page(
        "fleet.html",
        boxes=boxes(now),
        tokens=tokens(now),
        stale_after=STALE_AFTER_S,
        heartbeat_s=HEARTBEAT_S,
    )


def boxes(now: float) -> list[Box]:
    with upstream().sessions() as db:
        found = db.execute(
            select(Device, Heartbeat)
            .outerjoin(Heartbeat, Heartbeat.device_id == Device.id)
            .order_by(Device.hamlet, Device.id)
        )
        return [_box(device, beat, now) for device, beat in found]


def _box(device: Device, beat: Heartbeat | None, now: float) -> Box:
    body: dict[str, Any] = beat.body if beat is not None and isinstance(beat.body, dict) else {}
    version = body.get("software_version")
    return Box(
        hamlet=device.hamlet,
        device_id=device.id,
        hostname=device.hostname,
        enrolled_at=device.enrolled_at,
        revoked=device.revoked_at is not None,
        heard_ago_s=None if beat is None else max(0.0, now - beat.received_at.timestamp()),
        software_version=version[:32] if isinstance(version, str) else device.software_version,
        queue_depth=_count(body, "queue_depth"),
        oldest_undelivered_s=_count(body, "oldest_undelivered_seconds"),
        disk_free_bytes=_count(body, "disk_free_bytes"),
        modem_signal_dbm=_whole(body, "modem_signal_dbm"),
        conflicts=_count(body, "conflicts"),
        rejected=_count(body, "rejected"),
        figures=_figures(body.get("figures")),
    )


def _figures(value: Any) -> Figures | None:
    """A box may send none, an older or newer set, or something broken: each figure is read on
    its own, and unknown keys are ignored."""
    if not isinstance(value, dict):
        return None
    statuses = value.get("by_status")
    by_status = tuple(
        (status, count)
        for status, count in (statuses.items() if isinstance(statuses, dict) else ())
        if isinstance(status, str) and _is_count(count)
    )
    return Figures(
        period_days=_count(value, "period_days"),
        dossiers=_count(value, "dossiers"),
        by_status=by_status,
        median_days=_number(value, "median_days_to_result"),
        within_24h=_share(value, "delivered_within_24h"),
        ratings=_count(value, "ratings"),
        satisfaction=_share(value, "satisfaction"),
        assistance=_count(value, "assistance"),
    )


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _share(body: dict[str, Any], key: str) -> float | None:
    value = _number(body, key)
    return value if value is not None and value <= 1 else None


def _whole(body: dict[str, Any], key: str) -> int | None:
    """A whole number the box reported, or None for anything else (a box may be older or buggy)."""
    value = body.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    return value if _is_count(value) else None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def tokens(now: float) -> list[Tokens]:
    moment = datetime.fromtimestamp(now, UTC)
    with upstream().sessions() as db:
        found = db.execute(
            select(
                EnrollToken.hamlet,
                func.count(),
                func.min(EnrollToken.expires_at),
                func.max(EnrollToken.expires_at),
            )
            .where(EnrollToken.used_at.is_(None), EnrollToken.expires_at > moment)
            .group_by(EnrollToken.hamlet)
            .order_by(EnrollToken.hamlet)
        )
        return [Tokens(hamlet, count, first, last) for hamlet, count, first, last in found]
