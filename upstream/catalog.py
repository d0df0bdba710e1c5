"""The procedure catalog the upstream serves to its boxes, read and checked once at start.

The commune's file (settings.catalog) has the box's override format: it may refer to the built-in
fields and replace or add procedures. Without one, the built-in catalog itself is served. A broken
file stops the server at start with the checker's message, rather than reaching every box.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from flask import current_app
from flask.sansio.app import App

from appliance.domain.catalog import Catalog, CatalogError, read_catalog

EXTENSION = "upstream.catalog"


@dataclass(frozen=True)
class ServedCatalog:
    """The bytes served, their strong ETag, and the catalog they make on a box (for names)."""

    data: bytes
    etag: str  # the bytes' SHA-256 in hex, unquoted
    catalog: Catalog


def load_catalog(path: Path | None) -> ServedCatalog:
    """The commune's file if given, else the built-in one; CatalogError says what is wrong."""
    builtin_data = resources.files("appliance").joinpath("data/catalog.toml").read_bytes()
    builtin = read_catalog(builtin_data, "built-in catalog.toml")
    if path is None:
        return _served(builtin_data, builtin)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return _served(data, read_catalog(data, str(path), base=builtin))


def install(app: App, path: Path | None) -> None:
    app.extensions[EXTENSION] = load_catalog(path)


def served_catalog() -> ServedCatalog:
    """The current app's catalog (inside a request or app context)."""
    found: ServedCatalog = current_app.extensions[EXTENSION]
    return found


def _served(data: bytes, catalog: Catalog) -> ServedCatalog:
    return ServedCatalog(data, hashlib.sha256(data).hexdigest(), catalog)
