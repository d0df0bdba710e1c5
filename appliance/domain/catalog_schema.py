"""Checks a catalog file's contents (TOML already parsed to dicts) and builds the Catalog from them.

A commune clerk edits these files by hand, so every error says where — the file, the procedure or
field, and the key — and unknown keys are refused so that a typo cannot pass silently.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from appliance.domain.catalog import (
    ICONS,
    Bring,
    Catalog,
    CatalogError,
    Field,
    Paper,
    Procedure,
    Text,
)

VERSION = 1
_PROCEDURE_CODE = re.compile(r"[0-9]+\.[0-9]+")
_FIELD_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_BRING: dict[str, Bring] = {"original": "original", "photo": "photo"}
# Each table's keys; True where the key is required.
_FIELD_KEYS = {"code": True, "name": True, "icon": True}
_PAPER_KEYS = {"name": True, "required": True, "bring": True, "note": False}
_PROCEDURE_KEYS = {
    **{k: True for k in ("code", "field", "name", "summary", "papers", "steps", "time_limit")},
    **{k: True for k in ("fee", "legal_basis", "portal_url")},
    "keywords": False,
}


class _Table:
    """One table of the file and where it sits, so that every error can say where."""

    def __init__(self, data: Any, source: str, label: str, path: str, lenient: bool) -> None:
        self.data: Mapping[str, Any] = data
        self.source = source
        self.label = label  # "procedure 1.001193", "field ho-tich", or "" at the top
        self.path = path  # key prefix inside the entry: "papers[2]."
        self.lenient = lenient  # an override: English texts may be left out

    def error(self, key: str, problem: str) -> CatalogError:
        where = f"{self.source}: {self.label}" if self.label else self.source
        return CatalogError(f"{where}: '{self.path}{key}' {problem}")

    def labelled(self, kind: str, pattern: re.Pattern[str]) -> _Table:
        """This entry named by its code, which must be present and well formed."""
        code = self.data.get("code")
        label = f"{kind} {code}" if isinstance(code, str) and code.strip() else self.label
        entry = _Table(self.data, self.source, label, self.path, self.lenient)
        if not pattern.fullmatch(entry.string("code")):
            raise entry.error("code", f"is not a {kind} code like {_EXAMPLES[kind]}")
        return entry

    def check_keys(self, keys: Mapping[str, bool]) -> None:
        for key in self.data:
            if key not in keys:
                hint = difflib.get_close_matches(str(key), list(keys), n=1)
                guess = f"; did you mean '{hint[0]}'?" if hint else ""
                raise self.error(str(key), f"is not a known key{guess}")
        for key, required in keys.items():
            if required and key not in self.data:
                raise self.error(key, "is missing")

    def string(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty text")
        return _clean(value)

    def boolean(self, key: str) -> bool:
        value = self.data.get(key)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(key, 'must be a list of texts, like ["…", "…"]')
        return tuple(_clean(v) for v in value)

    def text(self, key: str) -> Text:
        return _text(self.data.get(key), self.lenient, partial(self.error, key))

    def texts(self, key: str) -> tuple[Text, ...]:
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            raise self.error(key, "must be a list of at least one { vi = …, en = … }")
        return tuple(
            _text(item, self.lenient, partial(self.error, f"{key}[{i}]"))
            for i, item in enumerate(value, 1)
        )

    def tables(self, key: str) -> list[_Table]:
        """The entries of an array of tables ([[key]]), numbered from 1 as a clerk counts."""
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.error(key, f"must be a list of tables, written [[{key}]]")
        if self.label:
            return [
                _Table(v, self.source, self.label, f"{self.path}{key}[{i}].", self.lenient)
                for i, v in enumerate(value, 1)
            ]
        return [
            _Table(v, self.source, f"{key}[{i}]", "", self.lenient) for i, v in enumerate(value, 1)
        ]


_EXAMPLES = {"procedure": "1.001193", "field": "ho-tich"}


def _clean(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _text(value: Any, lenient: bool, error: Callable[[str], CatalogError]) -> Text:
    """A { vi = …, en = … } table; in an override a missing English falls back to the Vietnamese."""
    if not isinstance(value, Mapping) or set(value) - {"vi", "en"}:
        raise error("must be a table with vi and en")
    vi = value.get("vi")
    en = value.get("en", vi if lenient else None)
    if not (isinstance(vi, str) and vi.strip() and isinstance(en, str) and en.strip()):
        raise error("must be a table with vi and en")
    return Text(vi=_clean(vi), en=_clean(en))


def parse(data: Mapping[str, Any], source: str, base: Catalog | None) -> Catalog:
    """See `catalog.parse_catalog`."""
    override = base is not None
    top = _Table(data, source, "", "", lenient=override)
    top.check_keys({"version": True, "fields": not override, "procedures": not override})
    version = data["version"]
    if type(version) is not int or version != VERSION:
        raise top.error("version", f"must be {VERSION}")
    fields = tuple(_field(t) for t in top.tables("fields"))
    known = {f.code for f in (*fields, *(base.fields if base is not None else ()))}
    procedures = tuple(_procedure(t, known) for t in top.tables("procedures"))
    if not override and not procedures:
        raise top.error("procedures", "must list at least one procedure")
    try:
        return Catalog(fields=fields, procedures=procedures)
    except CatalogError as exc:  # a code used twice
        raise CatalogError(f"{source}: {exc}") from None


def _field(raw: _Table) -> Field:
    table = raw.labelled("field", _FIELD_CODE)
    table.check_keys(_FIELD_KEYS)
    icon = table.string("icon")
    if icon not in ICONS:
        raise table.error("icon", "must be one of " + ", ".join(sorted(ICONS)))
    return Field(code=table.string("code"), name=table.text("name"), icon=icon)


def _procedure(raw: _Table, known_fields: set[str]) -> Procedure:
    t = raw.labelled("procedure", _PROCEDURE_CODE)
    t.check_keys(_PROCEDURE_KEYS)
    field = t.string("field")
    if field not in known_fields:
        raise t.error("field", f"names no known field ('{field}')")
    url = t.string("portal_url")
    if not _is_https(url):
        raise t.error("portal_url", "must be an https:// address")
    papers = tuple(_paper(p) for p in t.tables("papers"))
    if not papers:
        raise t.error("papers", "must list at least one paper, written [[procedures.papers]]")
    return Procedure(
        code=t.string("code"),
        field=field,
        name=t.text("name"),
        summary=t.text("summary"),
        papers=papers,
        steps=t.texts("steps"),
        time_limit=t.text("time_limit"),
        fee=t.text("fee"),
        legal_basis=t.strings("legal_basis"),
        portal_url=url,
        keywords=t.strings("keywords"),
    )


def _is_https(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a broken [IPv6] host
        return False
    return parts.scheme == "https" and bool(parts.hostname) and not any(c.isspace() for c in url)


def _paper(table: _Table) -> Paper:
    table.check_keys(_PAPER_KEYS)
    bring = _BRING.get(table.string("bring"))
    if bring is None:
        raise table.error("bring", 'must be "original" or "photo"')
    note = table.text("note") if "note" in table.data else None
    return Paper(table.text("name"), table.boolean("required"), bring, note)
