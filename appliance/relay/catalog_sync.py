"""Catalog sync: the commune's procedure catalog, fetched with its ETag and kept on the card.

A catalog that does not pass the same checks as a local override is refused and the copy the
box has stays; a good one replaces it in one rename, and CatalogSource picks it up (its
precedence: the commune's local override, then this file, then the built-in catalog).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from appliance.catalog_source import load_builtin, synced_path
from appliance.config import Settings
from appliance.domain.catalog import CatalogError, read_catalog
from appliance.files import write_atomically
from appliance.relay.client import UpstreamClient
from appliance.relay.outbox import expect
from appliance.store.relay_repo import CATALOG, RelayRepo

log = logging.getLogger(__name__)
SOURCE = "upstream catalog"

Synced = Literal["unchanged", "updated", "refused"]


def sync_catalog(
    client: UpstreamClient, settings: Settings, repo: RelayRepo, now: datetime
) -> Synced:
    """Raises the client's TransportError or outbox.Refused when the upstream cannot answer."""
    path = synced_path(settings.data_dir)
    etag = repo.state(CATALOG).get("etag") if path.is_file() else None
    reply = client.catalog(etag if isinstance(etag, str) else None)
    expect("catalog", reply, ok=(200, 304))
    if reply.status == 304:
        return "unchanged"
    try:
        catalog = read_catalog(reply.raw, SOURCE, base=load_builtin())
    except CatalogError as exc:
        log.warning("catalog from the upstream refused, keeping the one the box has: %s", exc)
        return "refused"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomically(path, reply.raw, durable=True)
    new_etag = reply.headers.get("etag")
    repo.set_state(CATALOG, {"etag": new_etag} if new_etag else {}, now)
    log.info("catalog synced from the upstream: %d procedures", len(catalog.procedures))
    return "updated"
