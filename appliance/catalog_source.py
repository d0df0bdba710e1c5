"""Where the catalog comes from: the built-in file, the catalog the relay syncs from the commune's
upstream, and a commune's local override file; the last two may change while the box runs.

A clerk edits the override by hand while the box runs, so a broken file must never take the
catalog down: it is refused and reported, and the last good catalog keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.domain.catalog import Catalog, CatalogError, read_catalog

if TYPE_CHECKING:
    from appliance.config import Settings

log = logging.getLogger(__name__)
RECHECK_SECONDS = 30.0


def load_builtin() -> Catalog:
    """The catalog that ships with the box (appliance/data/catalog.toml)."""
    source = resources.files("appliance").joinpath("data/catalog.toml")
    return read_catalog(source.read_bytes(), "built-in catalog.toml")


def for_settings(settings: Settings) -> CatalogSource:
    """The box's catalog: built-in, then the commune's synced file, then the local override."""
    return CatalogSource(settings.catalog.override, synced=synced_path(settings.data_dir))


def synced_path(data_dir: Path) -> Path:
    """Where the relay keeps the catalog it fetched from the commune's upstream."""
    return data_dir / "catalog" / "upstream.toml"


def load_override(path: Path, base: Catalog) -> Catalog:
    """`base` with a commune's file applied; CatalogError names the file, procedure and key."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read ({exc.strerror})") from None
    return read_catalog(raw, str(path), base=base)


class _Layer:
    """One watched file applied over the catalog below it; keeps its last good result while the
    file is bad. `required`: a missing file is a problem (the override a technician set), not
    merely "nothing yet" (the synced file before the first sync)."""

    def __init__(self, path: Path, label: str, *, required: bool) -> None:
        self.path = path
        self.label = label
        self.required = required
        self.problem: str | None = None
        self._seen: tuple[int, int] | None = None  # (mtime_ns, size) of the file last read
        self._base: Catalog | None = None
        self._good: Catalog | None = None

    def apply(self, base: Catalog) -> Catalog:
        try:
            stat = self.path.stat()
        except OSError as exc:
            self._seen = None
            missing = isinstance(exc, FileNotFoundError)
            if missing and not self.required:
                self._good, self.problem = None, None
                return base
            reason = "file not found" if missing else f"cannot be read ({exc.strerror})"
            self._refuse(CatalogError(f"{self.path}: {reason}"))
            return self._last_good(base)
        signature = (stat.st_mtime_ns, stat.st_size)
        if signature == self._seen and base is self._base:
            return self._last_good(base)
        self._seen, self._base = signature, base
        try:
            self._good = load_override(self.path, base)
        except CatalogError as exc:
            self._refuse(exc)
            return self._last_good(base)
        if self.problem is not None:
            log.info("%s %s is good again", self.label, self.path)
        self.problem = None
        return self._good

    def _last_good(self, base: Catalog) -> Catalog:
        return self._good if self._good is not None else base

    def _refuse(self, error: CatalogError) -> None:
        message = str(error)
        if message != self.problem:  # say it once, not every 30 seconds
            log.warning("%s refused, keeping the last good catalog: %s", self.label, message)
        self.problem = message


class CatalogSource:
    """The catalog to serve now: the built-in one, then the catalog synced from the commune's
    upstream, then the commune's local override (highest), each applied while it is good.

    `current()` runs on every request, so it only looks at the files every `interval` seconds,
    and only re-reads a file when its modification time or size changed.
    """

    def __init__(
        self,
        override: Path | None,
        *,
        synced: Path | None = None,
        now: Callable[[], float] = time.monotonic,
        interval: float = RECHECK_SECONDS,
        builtin: Catalog | None = None,
    ) -> None:
        self._layers: list[_Layer] = []
        if synced is not None:
            self._layers.append(_Layer(synced, "synced catalog", required=False))
        if override is not None:
            self._layers.append(_Layer(override, "catalog override", required=True))
        self._now = now
        self._interval = interval
        self._builtin = builtin if builtin is not None else load_builtin()
        self._catalog = self._builtin
        self._lock = threading.Lock()
        self._checked_at = now()
        self._check()

    @property
    def problem(self) -> str | None:
        """What is wrong with a watched file, for the technician page; None when all is well."""
        problems = [layer.problem for layer in self._layers if layer.problem is not None]
        return "; ".join(problems) if problems else None

    def current(self) -> Catalog:
        due = bool(self._layers) and self._now() - self._checked_at >= self._interval
        if due and self._lock.acquire(blocking=False):  # one request re-checks; the others go on
            try:
                self._checked_at = self._now()
                self._check()
            finally:
                self._lock.release()
        return self._catalog

    def _check(self) -> None:
        catalog = self._builtin
        for layer in self._layers:
            catalog = layer.apply(catalog)
        self._catalog = catalog
