"""Content-addressed files under the data dir: page PDFs and photos, named by their SHA-256.

A blob is on the card for good before any row refers to it: written to a temporary file in its
final directory, fsynced, renamed into place, and the directory fsynced, so a power cut leaves
either the whole blob or nothing under its name. The name is the hash of the content, so no
client-supplied name ever reaches a path, and storing the same content twice stores it once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from appliance.errors import HamletBoxError

SHA256 = re.compile(r"^[0-9a-f]{64}$")
DIR_MODE = 0o700
TEMP_PREFIX = ".tmp-"


class BlobError(HamletBoxError):
    """A blob that cannot be read back as it was stored."""


class BlobMissingError(BlobError):
    """No blob is stored under this hash."""


class BlobCorruptError(BlobError):
    """The stored file no longer has the content its name promises (a failing SD card)."""


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
        folder = self._folder(target.parent)
        fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        _fsync_dir(folder)
        return sha

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
                _fsync_dir(path.parent)
        return folder


def _intact(path: Path, sha: str) -> bool:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False
    return hashlib.sha256(data).hexdigest() == sha


def _fsync_dir(path: Path) -> None:
    """Make renames and new entries in a directory survive a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
