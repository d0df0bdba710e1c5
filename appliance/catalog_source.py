"""Where the catalog comes from: the built-in file, plus a commune's override file that may change.

A clerk edits the override by hand while the box runs, so a broken file must never take the
catalog down: it is refused and reported, and the last good catalog keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from appliance.domain.catalog import Catalog, CatalogError, parse_catalog

log = logging.getLogger(__name__)
RECHECK_SECONDS = 30.0


def load_builtin() -> Catalog:
    """The catalog that ships with the box (appliance/data/catalog.toml)."""
    source = resources.files("appliance").joinpath("data/catalog.toml")
    return parse_catalog(tomllib.loads(source.read_text(encoding="utf-8")), "built-in catalog.toml")


def load_override(path: Path, base: Catalog) -> Catalog:
    """`base` with a commune's file applied; CatalogError names the file, procedure and key."""
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: is not valid TOML: {exc}") from None
    return base.merged(parse_catalog(data, str(path), base=base))


class CatalogSource:
    """The catalog to serve now: the built-in one, with the override applied while it is good.

    `current()` runs on every request, so it only looks at the file every `interval` seconds, and
    only re-reads it when its modification time or size changed.
    """

    def __init__(
        self,
        override: Path | None,
        *,
        now: Callable[[], float] = time.monotonic,
        interval: float = RECHECK_SECONDS,
        builtin: Catalog | None = None,
    ) -> None:
        self._override = override
        self._now = now
        self._interval = interval
        self._builtin = builtin if builtin is not None else load_builtin()
        self._catalog = self._builtin
        self._seen: tuple[int, int] | None = None  # (mtime_ns, size) of the file last read
        self._lock = threading.Lock()
        self.problem: str | None = None
        self._checked_at = now()
        self._check()

    def current(self) -> Catalog:
        due = self._override is not None and self._now() - self._checked_at >= self._interval
        if due and self._lock.acquire(blocking=False):  # one request re-checks; the others go on
            try:
                self._checked_at = self._now()
                self._check()
            finally:
                self._lock.release()
        return self._catalog

    def _check(self) -> None:
        """Re-read the override if it changed; keep the last good catalog if it is bad."""
        if self._override is None:
            return
        try:
            stat = self._override.stat()
        except FileNotFoundError:
            self._seen = None
            self._refuse(CatalogError(f"{self._override}: file not found"))
            return
        except OSError as exc:
            self._seen = None
            self._refuse(CatalogError(f"{self._override}: cannot be read ({exc.strerror})"))
            return
        signature = (stat.st_mtime_ns, stat.st_size)
        if signature == self._seen:
            return
        self._seen = signature
        try:
            catalog = load_override(self._override, self._builtin)
        except CatalogError as exc:
            self._refuse(exc)
            return
        self._catalog = catalog
        if self.problem is not None:
            log.info("catalog override %s is good again", self._override)
        self.problem = None

    def _refuse(self, error: CatalogError) -> None:
        message = str(error)
        if message != self.problem:  # say it once, not every 30 seconds
            log.warning("catalog override refused, keeping the last good catalog: %s", message)
        self.problem = message
