"""The upstream's settings: a few HAMLETBOX_UPSTREAM_* variables, overridden by command options.

The box's settings file is not read here: the upstream runs at the commune, not on a box.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB = "sqlite:///upstream.sqlite3"


class UpstreamSettingsError(ValueError):
    """A variable that cannot be used; the message names it."""


@dataclass(frozen=True)
class UpstreamSettings:
    db_url: str = DEFAULT_DB  # HAMLETBOX_UPSTREAM_DB: sqlite:///… or postgresql+psycopg://…
    catalog: Path | None = None  # HAMLETBOX_UPSTREAM_CATALOG: the commune's catalog TOML
    max_blob_bytes: int = 20 * 1024 * 1024  # HAMLETBOX_UPSTREAM_MAX_BLOB_MB
    max_json_bytes: int = 1024 * 1024
    skew_seconds: int = 300  # HAMLETBOX_UPSTREAM_SKEW_SECONDS
    token_days: int = 14  # how long an enrolment token stays valid
    secure_cookies: bool = False  # HAMLETBOX_UPSTREAM_SECURE_COOKIES=1 behind TLS


def from_env(environ: Mapping[str, str] | None = None) -> UpstreamSettings:
    env = os.environ if environ is None else environ
    known = {
        "HAMLETBOX_UPSTREAM_DB",
        "HAMLETBOX_UPSTREAM_CATALOG",
        "HAMLETBOX_UPSTREAM_MAX_BLOB_MB",
        "HAMLETBOX_UPSTREAM_SKEW_SECONDS",
        "HAMLETBOX_UPSTREAM_SECURE_COOKIES",
    }
    for var in env:
        if var.startswith("HAMLETBOX_UPSTREAM_") and var not in known:
            raise UpstreamSettingsError(f"environment: unknown variable {var}")
    catalog = env.get("HAMLETBOX_UPSTREAM_CATALOG")
    return UpstreamSettings(
        db_url=env.get("HAMLETBOX_UPSTREAM_DB") or DEFAULT_DB,
        catalog=Path(catalog) if catalog else None,
        max_blob_bytes=_whole(env, "HAMLETBOX_UPSTREAM_MAX_BLOB_MB", 20) * 1024 * 1024,
        skew_seconds=_whole(env, "HAMLETBOX_UPSTREAM_SKEW_SECONDS", 300),
        secure_cookies=env.get("HAMLETBOX_UPSTREAM_SECURE_COOKIES", "0") in ("1", "true", "yes"),
    )


def _whole(env: Mapping[str, str], var: str, default: int) -> int:
    text = env.get(var)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise UpstreamSettingsError(f"environment: {var} must be a whole number") from None
    if value < 1:
        raise UpstreamSettingsError(f"environment: {var} must be at least 1")
    return value
