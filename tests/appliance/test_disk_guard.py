"""A full card: new dossiers and pages are refused with one clear message; saved work is untouched.

Below settings.intake.min_free_mb free on the data dir, intake refuses to start a dossier or add
a page; a write that still runs out of space (ENOSPC, SQLite's "disk is full") says the same.
One test uses a real small tmpfs (root only). `Filed`, `queued` and `pretend_free` are also used
by the web tests of the relay pages.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from appliance import config
from appliance.cli import main
from appliance.domain.dossier import DossierError, PageMeta, paper_key
from appliance.errors import HamletBoxError
from appliance.intake import Intake
from appliance.services import Services, build
from appliance.store.blobs import STORAGE_FULL, StorageFullError, full_is_refused
from appliance.store.tables import OutboxItem
from tests.conftest import write_settings
from tests.support.disk import fill, small_tmpfs

BIRTH = "1.001193"
MB = 1024 * 1024


class Usage(NamedTuple):
    total: int
    used: int
    free: int


def pretend_free(monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    """Every filesystem now reports `free` bytes free."""
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(64 * 1024 * MB, 0, free))


@dataclasses.dataclass(frozen=True)
class Filed:
    uuid: str
    code: str


def queued(
    services: Services, name: str = "Nguyễn Văn An", pages: int = 2, phone: str = "0912345678"
) -> Filed:
    """A dossier submitted at the station with `pages` distinct small pages, quickly (no camera)."""
    intake = Intake(services)
    uuid = intake.start_draft(BIRTH, "station")
    intake.set_applicant_typed(uuid, name, phone)
    papers = [paper_key(p) for p in intake.procedure(BIRTH).papers if p.required]
    for number in range(pages):
        data = f"{uuid} trang {number}".encode() * 400
        meta = PageMeta(services.blobs.put(data), "text", 100, 140, len(data))
        intake.repo.add_page(uuid, papers[0], meta, datetime.now(UTC))
    for paper in papers[1 if pages else 0 :]:
        intake.mark_bring_original(uuid, paper)
    return Filed(uuid, intake.submit(uuid, consent=True, actor="volunteer:lan").receipt_code)


def outbox(services: Services) -> list[tuple[str, str, str, int]]:
    with services.sessions() as session:
        rows = session.scalars(select(OutboxItem).order_by(OutboxItem.id))
        return [(row.kind, row.key, row.state, row.attempts) for row in rows]


def test_a_new_dossier_is_refused_below_the_threshold(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = Intake(services)
    threshold = services.settings.intake.min_free_mb * MB
    pretend_free(monkeypatch, threshold - 1)
    with pytest.raises(StorageFullError) as caught:
        intake.start_draft(BIRTH, "station")
    assert str(caught.value) == STORAGE_FULL
    assert str(caught.value).startswith("Bộ nhớ của hộp đã đầy; hồ sơ mới tạm dừng.")
    assert "/ The box's storage is full" in str(caught.value)
    assert caught.value.code == "storage_full"
    assert isinstance(caught.value, DossierError) and isinstance(caught.value, HamletBoxError)
    assert intake.list_drafts("station") == []
    pretend_free(monkeypatch, threshold)
    assert intake.start_draft(BIRTH, "station")


def test_new_pages_are_refused_but_saved_work_goes_on(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = Intake(services)
    already = queued(services, "Trần Thị Bình")
    uuid = intake.start_draft(BIRTH, "station")
    intake.set_applicant_typed(uuid, "Lê Văn Cường", "0987654321")
    before = outbox(services)
    pretend_free(monkeypatch, 0)
    papers = [paper_key(p) for p in intake.procedure(BIRTH).papers if p.required]
    with pytest.raises(StorageFullError):
        intake.add_photo(uuid, papers[0], b"any photo: refused before it is read")
    assert intake.get(uuid).pages == ()
    assert outbox(services) == before  # the queue is as it was
    assert intake.get(already.uuid).status == "queued"
    for paper in papers:  # a draft whose papers come as originals still goes through
        intake.mark_bring_original(uuid, paper)
    assert intake.submit(uuid, consent=True).receipt_code
    assert outbox(services)[: len(before)] == before


def test_no_threshold_means_no_refusal(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    intake_settings = dataclasses.replace(services.settings.intake, min_free_mb=0)
    services.settings = dataclasses.replace(services.settings, intake=intake_settings)
    pretend_free(monkeypatch, 0)
    assert Intake(services).start_draft(BIRTH, "station")


def test_other_write_errors_are_not_called_a_full_disk(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr("appliance.files.os.fsync", broken)
    with pytest.raises(OSError) as caught:
        services.blobs.put(b"a new page")
    assert not isinstance(caught.value, StorageFullError) and caught.value.errno == errno.EIO


def test_sqlite_running_out_of_space_says_the_same() -> None:
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL
    with pytest.raises(StorageFullError), full_is_refused():
        raise OperationalError("INSERT INTO dossiers …", {}, full)
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = sqlite3.SQLITE_BUSY
    with pytest.raises(OperationalError), full_is_refused():
        raise OperationalError("INSERT INTO dossiers …", {}, locked)


def test_the_command_line_says_it_in_one_line(
    settings_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pretend_free(monkeypatch, 0)
    args = ["--name", "Lan", "--phone", "0912345678", "--consent"]
    code = main(["--config", str(settings_file), "dossier", "create", "--procedure", BIRTH, *args])
    assert code != 0
    err = capsys.readouterr().err
    assert err.strip() == f"hamletbox: {STORAGE_FULL}"


@pytest.fixture
def small_card(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs: a card that really fills up (root only; the monkeypatched tests above cover
    the logic elsewhere)."""
    with small_tmpfs(tmp_path / "card", 16) as card:
        yield card


def test_a_really_full_card_refuses_new_work_and_keeps_the_queue(small_card: Path) -> None:
    path = write_settings(small_card, "\n[intake]\nmin_free_mb = 4\n")
    services = build(config.load(path, environ={}), devices=False)
    try:
        intake = Intake(services)
        filed = queued(services)
        saved = [(p.sha256, services.blobs.read(p.sha256)) for p in intake.get(filed.uuid).pages]
        before = outbox(services)
        filler = fill(small_card, 2 * MB)
        with pytest.raises(StorageFullError):
            intake.start_draft(BIRTH, "station")
        fill(small_card, 0)
        with pytest.raises(StorageFullError):
            services.blobs.put(os.urandom(64 * 1024))
        assert not list(services.settings.blob_dir.rglob(".tmp-*"))
        assert outbox(services) == before
        assert all(services.blobs.read(sha) == data for sha, data in saved)
        filler.unlink()
        assert intake.start_draft(BIRTH, "station")
    finally:
        services.close()
