"""The blob store: content-addressed, private, and on the card before anything refers to it."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from appliance.store.blobs import (
    BlobCorruptError,
    BlobMissingError,
    BlobStore,
    StorageFullError,
)

PAGE = b"%PDF-1.4 a page of a birth certificate\n"


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "data" / "blobs")


def test_put_then_read(store: BlobStore) -> None:
    sha = store.put(PAGE)
    assert sha == hashlib.sha256(PAGE).hexdigest()
    assert store.read(sha) == PAGE
    assert store.exists(sha)
    assert store.path(sha) == store.root / sha[:2] / sha
    assert store.path(sha).read_bytes() == PAGE


def test_put_is_idempotent(store: BlobStore) -> None:
    sha = store.put(PAGE)
    before = store.path(sha).stat()
    assert store.put(PAGE) == sha
    after = store.path(sha).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p.name for p in store.path(sha).parent.iterdir()] == [sha]  # no temp files left


def test_files_and_folders_are_private(store: BlobStore) -> None:
    sha = store.put(PAGE)
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path(sha).parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path(sha).stat().st_mode) == 0o600


def test_corruption_is_detected_and_put_repairs_it(store: BlobStore) -> None:
    sha = store.put(PAGE)
    store.path(sha).write_bytes(PAGE.replace(b"birth", b"death"))
    with pytest.raises(BlobCorruptError, match="đã bị hỏng") as failure:
        store.read(sha)
    assert sha in str(failure.value)
    assert store.put(PAGE) == sha
    assert store.read(sha) == PAGE


def test_missing_blob(store: BlobStore) -> None:
    sha = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(sha)
    with pytest.raises(BlobMissingError, match="Không tìm thấy"):
        store.read(sha)


@pytest.mark.parametrize("name", ["../../etc/passwd", "ABC", "a" * 63, "A" * 64, "g" * 64])
def test_only_hashes_become_paths(store: BlobStore, name: str) -> None:
    with pytest.raises(ValueError, match="not a SHA-256"):
        store.path(name)


def test_file_is_fsynced_before_rename_and_directory_after(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}")
        kind = "dir" if os.path.isdir(target) else "file"
        events.append((f"fsync {kind}", target))
        real_fsync(fd)

    def replace(src: str, dst: str | Path) -> None:
        events.append(("replace", str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    sha = store.put(PAGE)
    folder, target = store.path(sha).parent, store.path(sha)

    last = events[-3:]
    assert last[0][0] == "fsync file" and Path(last[0][1]).parent == folder
    assert Path(last[0][1]).name.startswith(".tmp-")  # written beside its final name
    assert last[1] == ("replace", str(target))
    assert last[2] == ("fsync dir", str(folder))
    # New folders were made durable in their parents before the blob went in.
    assert ("fsync dir", str(store.root)) in events
    assert ("fsync dir", str(store.root.parent)) in events


def test_failed_write_leaves_no_temp_file(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync

    def full(fd: int) -> None:
        if os.path.isdir(os.readlink(f"/proc/self/fd/{fd}")):
            real_fsync(fd)
        else:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageFullError, match="Bộ nhớ của hộp đã đầy"):
        store.put(PAGE)
    sha = hashlib.sha256(PAGE).hexdigest()
    assert list(store.path(sha).parent.iterdir()) == []
    assert not store.exists(sha)
