"""What this browser owns: the drafts it started and the receipts of what it submitted.

Residents have no accounts, so a phone's claim to a dossier is its session: a signed cookie,
permanent (it outlives closing the browser; a reboot keeps it, the key being in the data dir).
Both lists are short and kept in order as [key, value] pairs — the session's JSON sorts dict keys —
with the oldest dropped first, so the cookie stays far below browsers' 4 KB limit.
"""

from __future__ import annotations

from flask import session

DRAFTS = "drafts"  # [[draft uuid, procedure code], …], oldest first
RECEIPTS = "receipts"  # [[receipt code, dossier uuid], …], oldest first
KEPT_DRAFTS = 6  # a handful of unfinished dossiers per phone
KEPT_RECEIPTS = 10


def own_drafts() -> dict[str, str]:
    """{uuid: procedure code} of the drafts this browser started, oldest first."""
    return _pairs(DRAFTS)


def add_draft(uuid: str, procedure_code: str) -> None:
    _put(DRAFTS, uuid, procedure_code, KEPT_DRAFTS)


def drop_draft(uuid: str) -> None:
    kept = _pairs(DRAFTS)
    if kept.pop(uuid, None) is not None:
        _save(DRAFTS, kept, KEPT_DRAFTS)


def own_receipts() -> dict[str, str]:
    """{receipt code: dossier uuid} of what this browser submitted (or a volunteer's station)."""
    return _pairs(RECEIPTS)


def remember_receipt(code: str, uuid: str) -> None:
    """Let this browser open the receipt page of a dossier it has just submitted."""
    _put(RECEIPTS, code, uuid, KEPT_RECEIPTS)


def _pairs(key: str) -> dict[str, str]:
    found = session.get(key)
    if not isinstance(found, list):
        return {}
    return {
        item[0]: item[1]
        for item in found
        if isinstance(item, list) and len(item) == 2 and all(isinstance(i, str) for i in item)
    }


def _put(key: str, name: str, value: str, kept: int) -> None:
    pairs = _pairs(key)
    pairs.pop(name, None)
    pairs[name] = value
    _save(key, pairs, kept)


def _save(key: str, pairs: dict[str, str], kept: int) -> None:
    session[key] = [[k, v] for k, v in pairs.items()][-kept:]
    session.permanent = True
