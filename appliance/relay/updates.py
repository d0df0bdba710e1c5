"""Pulling the commune's decisions: the updates feed, page by page, each page applied exactly once.

The cursor lives in the box's store with the changes it covers (appliance.store.relay_repo), so
a crash between fetching and applying only means the same page is fetched again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from appliance.relay.client import UpstreamClient
from appliance.relay.outbox import expect, odd_answer
from appliance.store.relay_repo import RelayRepo

log = logging.getLogger(__name__)
PAGE_LIMIT = 100


def pull_updates(client: UpstreamClient, repo: RelayRepo, now: Callable[[], datetime]) -> int:
    """Fetch and apply every waiting update; returns how many changed a dossier.

    Raises the client's TransportError or outbox.Refused when a page cannot be had.
    """
    cursor, changed = repo.cursor(), 0
    while True:
        reply = client.updates(cursor, PAGE_LIMIT)
        expect("updates", reply)
        updates, after, more = _page(reply.body)
        if updates or after > cursor:
            applied = repo.apply_updates(updates, after, now())
            changed += applied.applied
            log.info(
                "updates after %d: %d applied, %d skipped, %d not allowed; cursor %d",
                cursor,
                applied.applied,
                applied.skipped,
                applied.ignored,
                after,
            )
        if not more:
            return changed
        if after <= cursor:
            log.warning("the upstream says more updates wait but its cursor did not move")
            return changed
        cursor = after


def _page(body: Any) -> tuple[list[dict[str, Any]], int, bool]:
    """The page's updates, cursor and `more`, checked against the contract."""
    if not isinstance(body, dict):
        log.warning("updates answer is not a JSON object")
        raise odd_answer()
    updates, cursor, more = body.get("updates"), body.get("cursor"), body.get("more")
    if (
        not isinstance(updates, list)
        or not all(isinstance(u, dict) for u in updates)
        or not isinstance(cursor, int)
        or isinstance(cursor, bool)
        or cursor < 0
        or not isinstance(more, bool)
    ):
        log.warning("updates answer does not follow the contract: %.200r", body)
        raise odd_answer()
    return updates, cursor, more
