"""Dossiers in the store: drafts that survive a reboot, pages in order, one-transaction submit."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.catalog_source import load_builtin
from appliance.domain.catalog import Procedure
from appliance.domain.dossier import (
    Applicant,
    DossierError,
    IncompleteError,
    PageMeta,
    paper_key,
)
from appliance.store import dossier_submit, migrate
from appliance.store.blobs import BlobStore
from appliance.store.db import make_engine, make_sessions
from appliance.store.dossiers import DossierRepo, Submission
from appliance.store.tables import Dossier, Event, OutboxItem, Page

T0 = datetime(2025, 6, 5, 7, 30, tzinfo=UTC)
SUBMISSION = Submission("1", "XB1", "Thôn Xà Bang 1", "volunteer:lan")
LAN = Applicant(
    "Nguyễn Thị Lan", "075190001234", date(1990, 3, 4), "female", "Ấp 3, xã Xà Bang, Đồng Nai"
)


@pytest.fixture
def birth() -> Procedure:
    procedure = load_builtin().get("1.001193")
    assert procedure is not None
    return procedure


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def repo(sessions: sessionmaker[Session], blobs: BlobStore) -> DossierRepo:
    return DossierRepo(sessions, blobs)


def page(blobs: BlobStore, n: int, mode: str = "text") -> PageMeta:
    data = f"page {n} ".encode() * (10 + n)
    return PageMeta(blobs.put(data), "text" if mode == "text" else "color", 1654, 2339, len(data))


def ready_draft(repo: DossierRepo, blobs: BlobStore, procedure: Procedure) -> str:
    """A draft with an applicant, a phone, a page for each required paper but the last, whose
    original the resident brings."""
    uuid = repo.create_draft(procedure.code, "station", T0)
    repo.set_applicant(uuid, LAN, T0)
    repo.set_phone(uuid, "0912345678", T0)
    required = [paper_key(p) for p in procedure.papers if p.required]
    for n, name in enumerate(required[:-1]):
        repo.add_page(uuid, name, page(blobs, n), T0)
    repo.mark_bring_original(uuid, required[-1], True, T0)
    return uuid


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_new_draft_is_saved_with_nothing_filled_in(repo: DossierRepo) -> None:
    uuid = repo.create_draft("1.001193", "phone", T0)
    found = repo.get(uuid)
    assert found is not None
    assert (found.status, found.channel, found.procedure_code) == ("draft", "phone", "1.001193")
    assert (found.receipt_code, found.applicant, found.phone, found.pages) == (None, None, None, ())
    assert found.created_at == found.updated_at == T0
    assert repo.get("no-such-uuid") is None


def test_an_unknown_channel_is_refused(repo: DossierRepo) -> None:
    with pytest.raises(ValueError, match="channel"):
        repo.create_draft("1.001193", "fax", T0)


def test_drafts_survive_a_reboot(db_path: Path, blobs: BlobStore, birth: Procedure) -> None:
    """A new engine on the same file, as after a power cut: every step of the draft is there."""
    first = make_engine(db_path)
    migrate.upgrade(first)
    uuid = ready_draft(DossierRepo(make_sessions(first), blobs), blobs, birth)
    before = DossierRepo(make_sessions(first), blobs).get(uuid)
    first.dispose()

    second = make_engine(db_path)
    try:
        repo = DossierRepo(make_sessions(second), blobs)
        assert repo.get(uuid) == before
        assert [d.uuid for d in repo.list_drafts("station")] == [uuid]
    finally:
        second.dispose()


def test_list_drafts_by_channel_latest_first(repo: DossierRepo, blobs: BlobStore) -> None:
    old = repo.create_draft("1.001193", "station", T0)
    new = repo.create_draft("1.000656", "station", T0 + timedelta(minutes=1))
    repo.create_draft("1.001193", "phone", T0)
    repo.set_applicant(old, LAN, T0 + timedelta(minutes=2))
    repo.add_page(old, "Tờ khai", page(blobs, 1), T0 + timedelta(minutes=3))
    drafts = repo.list_drafts("station")
    assert [(d.uuid, d.full_name, d.pages) for d in drafts] == [
        (old, "Nguyễn Thị Lan", 1),
        (new, None, 0),
    ]


def test_applicant_from_the_id_card_and_a_typed_one(repo: DossierRepo) -> None:
    uuid = repo.create_draft("1.001193", "station", T0)
    repo.set_applicant(uuid, LAN, T0)
    found = repo.get(uuid)
    assert found is not None and found.applicant == LAN
    repo.set_applicant(uuid, Applicant("Trần Văn Bình"), T0 + timedelta(seconds=5))
    found = repo.get(uuid)
    assert found is not None and found.applicant == Applicant("Trần Văn Bình")
    assert found.updated_at == T0 + timedelta(seconds=5)


def test_html_in_a_name_is_stored_as_text(
    repo: DossierRepo, sessions: sessionmaker[Session]
) -> None:
    uuid = repo.create_draft("1.001193", "phone", T0)
    repo.set_applicant(uuid, Applicant("<b>Lan</b> & <script>x()</script>"), T0)
    with sessions() as session:
        stored = session.scalar(select(Dossier.full_name).where(Dossier.uuid == uuid))
    assert stored == "<b>Lan</b> & <script>x()</script>"


def test_pages_are_appended_moved_and_removed_keeping_positions_unique(
    repo: DossierRepo, blobs: BlobStore
) -> None:
    uuid = repo.create_draft("1.001193", "station", T0)
    ids = [repo.add_page(uuid, "Tờ khai", page(blobs, n), T0).id for n in range(4)]

    def order() -> list[tuple[int, int]]:
        found = repo.get(uuid)
        assert found is not None
        return [(p.position, p.id) for p in found.pages]

    assert order() == list(zip([1, 2, 3, 4], ids, strict=True))
    repo.move_page(uuid, ids[3], 1, T0)  # last to first: every other page shifts
    assert order() == list(zip([1, 2, 3, 4], [ids[3], ids[0], ids[1], ids[2]], strict=True))
    repo.move_page(uuid, ids[3], 2, T0)  # a swap of neighbours
    assert [i for _, i in order()] == [ids[0], ids[3], ids[1], ids[2]]
    repo.move_page(uuid, ids[0], 99, T0)  # clamped to the end
    assert [i for _, i in order()] == [ids[3], ids[1], ids[2], ids[0]]
    repo.remove_page(uuid, ids[1], T0)
    assert order() == list(zip([1, 2, 3], [ids[3], ids[2], ids[0]], strict=True))
    assert repo.add_page(uuid, "Tờ khai", page(blobs, 9), T0).position == 4


def test_replace_page_keeps_its_place(repo: DossierRepo, blobs: BlobStore) -> None:
    uuid = repo.create_draft("1.001193", "station", T0)
    first = repo.add_page(uuid, "Tờ khai", page(blobs, 1), T0)
    repo.add_page(uuid, "Tờ khai", page(blobs, 2), T0)
    turned = PageMeta(blobs.put(b"rotated"), "color", 2339, 1654, 7)
    repo.replace_page(uuid, first.id, turned, T0)
    found = repo.get(uuid)
    assert found is not None
    assert (found.pages[0].id, found.pages[0].sha256, found.pages[0].width) == (
        first.id,
        turned.sha256,
        2339,
    )


def test_a_page_of_another_dossier_cannot_be_touched(repo: DossierRepo, blobs: BlobStore) -> None:
    mine = repo.create_draft("1.001193", "station", T0)
    theirs = repo.create_draft("1.001193", "station", T0)
    other = repo.add_page(theirs, "Tờ khai", page(blobs, 1), T0)
    actions: list[Callable[[], object]] = [
        lambda: repo.remove_page(mine, other.id, T0),
        lambda: repo.move_page(mine, other.id, 1, T0),
        lambda: repo.replace_page(mine, other.id, page(blobs, 2), T0),
    ]
    for action in actions:
        with pytest.raises(DossierError) as caught:
            action()
        assert caught.value.code == "page_not_found"


def test_bring_the_original_can_be_marked_and_unmarked(repo: DossierRepo) -> None:
    uuid = repo.create_draft("1.001193", "station", T0)
    repo.mark_bring_original(uuid, "Giấy chứng sinh", True, T0)
    repo.mark_bring_original(uuid, "Tờ khai", True, T0)
    repo.mark_bring_original(uuid, "Tờ khai", False, T0)
    found = repo.get(uuid)
    assert found is not None and found.originals == {"Giấy chứng sinh"}


def test_submit_writes_dossier_outbox_and_event_together(
    repo: DossierRepo, blobs: BlobStore, birth: Procedure, sessions: sessionmaker[Session]
) -> None:
    uuid = ready_draft(repo, blobs, birth)
    at = T0 + timedelta(minutes=10)
    code = repo.submit(uuid, birth, SUBMISSION, at, random.Random(5))

    assert code.startswith("XB1-") and len(code) == 10
    found = repo.get(uuid)
    assert found is not None
    assert (found.status, found.receipt_code, found.submitted_at) == ("queued", code, at)
    assert (found.consent_at, found.consent_version) == (at, "1")
    with sessions() as session:
        items = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        events = session.scalars(select(Event)).all()
    shas = [p.sha256 for p in found.pages]
    assert [(i.kind, i.key, i.state) for i in items] == [
        *(("blob", sha, "pending") for sha in shas),
        ("manifest", uuid, "pending"),
        ("sms", f"receipt:{uuid}", "pending"),
    ]
    assert items[0].payload == {"bytes": found.pages[0].bytes, "media_type": "image/tiff"}
    manifest = items[-2].payload
    assert manifest is not None
    assert manifest["receipt_code"] == code and manifest["hamlet"] == "Thôn Xà Bang 1"
    assert manifest["procedure"] == "1.001193"
    assert manifest["applicant"]["full_name"] == "Nguyễn Thị Lan"
    assert manifest["applicant"]["date_of_birth"] == "1990-03-04"
    assert manifest["applicant"]["phone"] == "0912345678"
    assert manifest["pages"] == [
        {"sha256": p.sha256, "paper": p.paper_name, "mode": "text", "position": p.position}
        for p in found.pages
    ]
    assert manifest["originals"] == [paper_key([p for p in birth.papers if p.required][-1])]
    assert manifest["consent"] == {"version": "1", "at": at.isoformat()}
    assert [(e.kind, e.actor, e.payload) for e in events] == [
        ("submitted", "volunteer:lan", {"from": "draft", "to": "queued", "receipt_code": code})
    ]


def test_a_failure_mid_submit_writes_nothing(
    repo: DossierRepo,
    blobs: BlobStore,
    birth: Procedure,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uuid = ready_draft(repo, blobs, birth)
    before = repo.get(uuid)

    def power_cut(**_: object) -> None:
        raise OSError("power cut")

    # The event is the last write: the dossier update and outbox rows are already flushed.
    monkeypatch.setattr(dossier_submit, "Event", power_cut)
    with pytest.raises(OSError, match="power cut"):
        repo.submit(uuid, birth, SUBMISSION, T0 + timedelta(hours=1), random.Random(1))

    assert repo.get(uuid) == before
    assert count(sessions, OutboxItem) == 0
    assert count(sessions, Event) == 0


def test_missing_papers_are_refused_with_their_names(
    repo: DossierRepo, blobs: BlobStore, birth: Procedure, sessions: sessionmaker[Session]
) -> None:
    uuid = ready_draft(repo, blobs, birth)
    required = [p for p in birth.papers if p.required]
    repo.mark_bring_original(uuid, paper_key(required[-1]), False, T0)
    with pytest.raises(IncompleteError) as caught:
        repo.submit(uuid, birth, SUBMISSION, T0, random.Random(1))
    assert caught.value.missing == (required[-1],)
    assert paper_key(required[-1]) in str(caught.value)
    found = repo.get(uuid)
    assert found is not None and found.status == "draft" and found.updated_at == T0
    assert count(sessions, OutboxItem) == 0


@pytest.mark.parametrize("missing", ["applicant", "phone"])
def test_an_applicant_and_a_phone_are_needed(
    repo: DossierRepo, blobs: BlobStore, birth: Procedure, missing: str
) -> None:
    uuid = repo.create_draft(birth.code, "phone", T0)
    if missing == "phone":
        repo.set_applicant(uuid, LAN, T0)
    else:
        repo.set_phone(uuid, "0912345678", T0)
    for paper in birth.papers:
        repo.mark_bring_original(uuid, paper_key(paper), True, T0)
    with pytest.raises(DossierError) as caught:
        repo.submit(uuid, birth, SUBMISSION, T0, random.Random(1))
    assert caught.value.code == f"no_{missing}"


def test_consent_is_needed(repo: DossierRepo, blobs: BlobStore, birth: Procedure) -> None:
    uuid = ready_draft(repo, blobs, birth)
    no_consent = Submission("", "XB1", "Thôn Xà Bang 1", "resident")
    with pytest.raises(DossierError) as caught:
        repo.submit(uuid, birth, no_consent, T0, random.Random(1))
    assert caught.value.code == "no_consent"


def test_a_page_whose_blob_is_gone_is_refused(
    repo: DossierRepo, blobs: BlobStore, birth: Procedure
) -> None:
    uuid = ready_draft(repo, blobs, birth)
    found = repo.get(uuid)
    assert found is not None
    blobs.path(found.pages[1].sha256).unlink()
    with pytest.raises(DossierError, match="trang 2") as caught:
        repo.submit(uuid, birth, SUBMISSION, T0, random.Random(1))
    assert caught.value.code == "blob_missing"


def test_a_receipt_code_collision_is_retried(
    repo: DossierRepo, blobs: BlobStore, birth: Procedure
) -> None:
    first = repo.submit(ready_draft(repo, blobs, birth), birth, SUBMISSION, T0, random.Random(9))
    uuid = ready_draft(repo, blobs, birth)
    second = repo.submit(uuid, birth, SUBMISSION, T0, random.Random(9))  # same first code
    assert second != first
    found = repo.get(uuid)
    assert found is not None and found.receipt_code == second and found.status == "queued"


def test_a_shared_page_is_queued_once(
    repo: DossierRepo, blobs: BlobStore, birth: Procedure, sessions: sessionmaker[Session]
) -> None:
    """Two dossiers with the same photo: the blob goes up once (the upstream keys by SHA-256)."""
    for seed in (1, 2):
        repo.submit(ready_draft(repo, blobs, birth), birth, SUBMISSION, T0, random.Random(seed))
    with sessions() as session:
        kinds = session.execute(select(OutboxItem.kind, func.count()).group_by("kind")).all()
    blobs_queued = len([p for p in birth.papers if p.required]) - 1
    assert dict(kinds) == {"blob": blobs_queued, "manifest": 2, "sms": 2}


def test_a_submitted_dossier_cannot_be_edited_or_submitted_again(
    repo: DossierRepo, blobs: BlobStore, birth: Procedure
) -> None:
    uuid = ready_draft(repo, blobs, birth)
    repo.submit(uuid, birth, SUBMISSION, T0, random.Random(1))
    actions: list[Callable[[], object]] = [
        lambda: repo.set_phone(uuid, "0987654321", T0),
        lambda: repo.add_page(uuid, "Tờ khai", page(blobs, 7), T0),
        lambda: repo.mark_bring_original(uuid, "Tờ khai", True, T0),
        lambda: repo.delete_draft(uuid, T0),
        lambda: repo.submit(uuid, birth, SUBMISSION, T0, random.Random(2)),
    ]
    for action in actions:
        with pytest.raises(DossierError) as caught:
            action()
        assert caught.value.code == "not_draft"
    with pytest.raises(DossierError) as missing:
        repo.set_phone("no-such-uuid", "0987654321", T0)
    assert missing.value.code == "not_found"


def test_delete_draft_takes_its_pages(
    repo: DossierRepo, blobs: BlobStore, birth: Procedure, sessions: sessionmaker[Session]
) -> None:
    uuid = ready_draft(repo, blobs, birth)
    repo.delete_draft(uuid, T0)
    assert repo.get(uuid) is None
    assert count(sessions, Page) == 0


def test_lookup_needs_the_code_and_the_last_four_digits(
    repo: DossierRepo, blobs: BlobStore, birth: Procedure
) -> None:
    uuid = ready_draft(repo, blobs, birth)
    assert repo.lookup("XB1-222222", "5678") is None  # nothing submitted yet
    code = repo.submit(uuid, birth, SUBMISSION, T0, random.Random(4))

    found = repo.lookup(code, "5678")
    assert found is not None
    assert (found.receipt_code, found.status, found.submitted_at) == (code, "queued", T0)
    assert repo.lookup(f" {code.lower().replace('-', ' ')} ", " 5678 ") == found
    assert repo.lookup(code, "5679") is None
    assert repo.lookup(code, "") is None
    assert repo.lookup(code, "45678") is None
    assert repo.lookup("XB1-222222", "5678") is None
    assert repo.lookup("not a code", "5678") is None
