"""Content-addressed files under the data dir: page PDFs and photos, named by their SHA-256.

A blob is on the card for good before any row refers to it: written to a temporary file in its
final directory, fsynced, renamed into place, and the directory fsynced, so a power cut leaves
either the whole blob or nothing under its name. The name is the hash of the content, so no
client-supplied name ever reaches a path, and storing the same content twice stores it once.
A full card refuses the write with StorageFullError and leaves every stored blob as it was.
"""

from __future__ import annotations

import errno
import hashlib
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from appliance.domain.dossier import DossierError
from appliance.errors import HamletBoxError
from appliance.files import fsync_dir, write_atomically

SHA256 = re.compile(r"^[0-9a-f]{64}$")
DIR_MODE = 0o700
TEMP_PREFIX = ".tmp-"
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
STORAGE_FULL = (
    "Bộ nhớ của hộp đã đầy; hồ sơ mới tạm dừng. Hồ sơ đã lưu vẫn an toàn và sẽ được gửi. / "
    "The box's storage is full; new dossiers are paused. Dossiers already saved are safe "
    "and will be sent."
)


class BlobError(HamletBoxError):
    """A blob that cannot be read back as it was stored."""


class BlobMissingError(BlobError):
    """No blob is stored under this hash."""


class BlobCorruptError(BlobError):
    """The stored file no longer has the content its name promises (a failing SD card)."""


class StorageFullError(DossierError, HamletBoxError):
    """No room for new papers: a refusal the pages show like any other (a DossierError), and a
    one-line error for commands (a HamletBoxError)."""

    def __init__(self) -> None:
        super().__init__("storage_full", STORAGE_FULL)


def check_room(path: Path, min_free_bytes: int) -> None:
    """Refuse new work (StorageFullError) while the filesystem holding `path` has less free
    space than `min_free_bytes`: what is left is for the dossiers already saved and the queue."""
    if min_free_bytes > 0 and shutil.disk_usage(path).free < min_free_bytes:
        raise StorageFullError()


@contextmanager
def full_is_refused() -> Iterator[None]:
    """Turn "no space left" from a file write or from SQLite into StorageFullError."""
    try:
        yield
    except Exception as exc:
        if _no_space(exc):
            raise StorageFullError() from exc
        raise


def _no_space(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in FULL_ERRNOS
    orig = getattr(exc, "orig", None)  # the driver's error inside SQLAlchemy's
    return isinstance(orig, sqlite3.Error) and orig.sqlite_errorcode == sqlite3.SQLITE_FULL


class BlobStore:
    """Files at root/<first two hex digits>/<sha256>; the directories are the service user's
    alone (0700), as personal papers must be."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha: str) -> Path:
        """Where the blob with this hash lives; refuses anything that is not a SHA-256 in hex."""
        if not SHA256.match(sha):
            raise ValueError(f"not a SHA-256 hex digest: {sha!r}")
        return self.root / sha[:2] / sha

    def exists(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def put(self, data: bytes) -> str:
        """Store `data` durably and return its SHA-256; content already stored intact is left
        alone, and a damaged copy is replaced by the good one."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if _intact(target, sha):
            return sha
        with full_is_refused():
            self._write(target, data)
        return sha

    def _write(self, target: Path, data: bytes) -> None:
        self._folder(target.parent)
        write_atomically(target, data, temp_prefix=TEMP_PREFIX)

    def read(self, sha: str) -> bytes:
        """The blob's bytes, checked against its hash."""
        path = self.path(sha)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobMissingError(
                f"Không tìm thấy tệp {sha[:12]}… trong kho / blob {sha} is not in the store"
            ) from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise BlobCorruptError(
                f"Tệp {sha[:12]}… trong kho đã bị hỏng (thẻ nhớ có thể đang hỏng) / "
                f"blob {sha} is corrupt: its content no longer matches its hash ({path})"
            )
        return data

    def _folder(self, folder: Path) -> Path:
        """Create root and the two-digit folder (0700) as needed, making each new entry durable."""
        for path in (self.root, folder):
            if not path.is_dir():
                path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
                path.chmod(DIR_MODE)
                fsync_dir(path.parent)
        return folder


def _intact(path: Path, sha: str) -> bool:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False
    return hashlib.sha256(data).hexdigest() == sha
