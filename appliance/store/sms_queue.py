"""Queueing a resident's SMS: an outbox row of kind "sms", written in the caller's transaction.

The caller is whatever causes the message (a dossier submitted, a decision applied, a booking
made), so the message exists exactly when its cause was committed. The key names the cause
("receipt:<uuid>", "status:<uuid>:<update id>", "booking:<code>", "reminder:<code>"); a second
queueing under the same key does nothing, so one cause never sends two messages. The relay's SMS
sender renders the text from the event's template when it sends (appliance.domain.notify).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from appliance.store.tables import OutboxItem

KIND = "sms"


def queue_sms(
    session: Session,
    *,
    key: str,
    event: str,
    to: str,
    params: Mapping[str, str | None],
    lang: str,
    now: datetime,
    due: datetime | None = None,
    dossier_id: int | None = None,
) -> None:
    """One message for `event` to the mobile number `to` (normalised, "0xxxxxxxxx"), sent from
    `due` (default now) on. `params` fill the template's placeholders (see notify.PLACEHOLDERS).
    """
    payload = {"event": event, "to": to, "lang": lang, "params": dict(params)}
    session.execute(
        sqlite_insert(OutboxItem)
        .values(kind=KIND, key=key, dossier_id=dossier_id, payload=payload, state="pending")
        .values(attempts=0, next_attempt_at=due or now, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["kind", "key"])
    )


def cancel_sms(session: Session, key: str, now: datetime, reason: str) -> bool:
    """Withdraw a message not yet sent (a reminder for a cancelled booking); whether one was."""
    result = session.execute(
        update(OutboxItem)
        .where(OutboxItem.kind == KIND, OutboxItem.key == key, OutboxItem.state == "pending")
        .values(state="cancelled", last_error=reason, updated_at=now)
    )
    return bool(getattr(result, "rowcount", 0))
