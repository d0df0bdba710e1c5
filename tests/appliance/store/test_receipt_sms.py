"""The receipt SMS is queued in the submit transaction: one per dossier, none if submit fails."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appliance.domain.catalog import Procedure
from appliance.domain.dossier import DossierError
from appliance.store import dossier_submit
from appliance.store.blobs import BlobStore
from appliance.store.dossiers import DossierRepo
from appliance.store.tables import Dossier, OutboxItem
from tests.appliance.store.test_dossiers import SUBMISSION, T0, ready_draft

pytest_plugins = ["tests.appliance.store.test_dossiers"]


def sms_rows(sessions: sessionmaker[Session]) -> list[OutboxItem]:
    with sessions() as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.kind == "sms")))


def test_submit_queues_one_receipt_sms_in_the_residents_language(
    repo: DossierRepo, blobs: BlobStore, birth: Procedure, sessions: sessionmaker[Session]
) -> None:
    uuid = ready_draft(repo, blobs, birth)
    english = dataclasses.replace(SUBMISSION, lang="en")
    at = T0 + timedelta(minutes=3)
    code = repo.submit(uuid, birth, english, at, random.Random(3))
    [row] = sms_rows(sessions)
    assert (row.key, row.state, row.next_attempt_at) == (f"receipt:{uuid}", "pending", at)
    assert row.payload == {
        "event": "receipt",
        "to": "0912345678",
        "lang": "en",
        "params": {"code": code, "procedure": "1.001193", "date": None},
    }
    with sessions() as session:
        dossier = session.scalars(select(Dossier).where(Dossier.uuid == uuid)).one()
        assert row.dossier_id == dossier.id and dossier.lang == "en"


def test_a_refused_submit_queues_no_sms(
    repo: DossierRepo, blobs: BlobStore, birth: Procedure, sessions: sessionmaker[Session]
) -> None:
    uuid = repo.create_draft(birth.code, "station", T0)
    with pytest.raises(DossierError):
        repo.submit(uuid, birth, SUBMISSION, T0, random.Random(1))
    assert sms_rows(sessions) == []


def test_a_failure_after_the_sms_is_queued_rolls_it_back(
    repo: DossierRepo,
    blobs: BlobStore,
    birth: Procedure,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uuid = ready_draft(repo, blobs, birth)

    def power_cut(**_: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(dossier_submit, "Event", power_cut)  # the write after the SMS
    with pytest.raises(OSError, match="power cut"):
        repo.submit(uuid, birth, SUBMISSION, T0, random.Random(1))
    assert sms_rows(sessions) == []
