"""The procedure catalog: which procedures a resident can file here, what to bring, fees, deadlines.

Pure data and logic: the file is read in appliance/catalog_source.py and handed in as dicts.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from appliance.domain.textsearch import Doc, Index

Bring = Literal["original", "photo"]
ICONS = frozenset({"family", "stamp", "link", "house", "doc", "heart"})  # drawn by the web UI


_Coded = TypeVar("_Coded", "Field", "Procedure")


class CatalogError(ValueError):
    """A catalog that cannot be used; the message names the file, the procedure and the field."""


@dataclass(frozen=True)
class Text:
    """A text in Vietnamese and English; Vietnamese is the fallback."""

    vi: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.vi


@dataclass(frozen=True)
class Paper:
    name: Text
    required: bool
    bring: Bring  # "original": bring it to the station; "photo": a photo of it is enough
    note: Text | None = None


@dataclass(frozen=True)
class Field:
    code: str  # "ho-tich"
    name: Text
    icon: str  # id of a symbol in web/templates/_icons.html


@dataclass(frozen=True)
class Procedure:
    code: str  # national procedure database code, e.g. "1.001193"
    field: str  # Field.code
    name: Text
    summary: Text
    papers: tuple[Paper, ...]
    steps: tuple[Text, ...]
    time_limit: Text
    fee: Text
    legal_basis: tuple[str, ...]
    portal_url: str
    keywords: tuple[str, ...] = ()  # extra words people search with ("lam giay khai sinh")


@dataclass(frozen=True)
class Catalog:
    """Fields and procedures in file order; immutable, so lookups and the index are built once."""

    fields: tuple[Field, ...]
    procedures: tuple[Procedure, ...]
    _by_code: dict[str, Procedure] = dataclasses.field(init=False, repr=False, compare=False)
    _fields: dict[str, Field] = dataclasses.field(init=False, repr=False, compare=False)
    _index: Index = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", _by_code(self.procedures, "procedure"))
        object.__setattr__(self, "_fields", _by_code(self.fields, "field"))
        object.__setattr__(self, "_index", Index([_search_doc(p) for p in self.procedures]))

    def get(self, code: str) -> Procedure | None:
        return self._by_code.get(code)

    def field(self, code: str) -> Field | None:
        return self._fields.get(code)

    def grouped(self) -> list[tuple[Field, list[Procedure]]]:
        """Procedures under their fields, for the browse page; empty fields are left out."""
        groups = [(f, [p for p in self.procedures if p.field == f.code]) for f in self.fields]
        return [(f, procs) for f, procs in groups if procs]

    def search(self, query: str) -> list[Procedure]:
        """Procedures matching what a resident typed, best first; accents and typos are forgiven."""
        return [self.procedures[i] for i in self._index.rank(query)]

    def merged(self, override: Catalog) -> Catalog:
        """This catalog with a commune's entries replacing same-code ones and new ones added."""
        return Catalog(
            fields=_merge(self.fields, override.fields),
            procedures=_merge(self.procedures, override.procedures),
        )


def _by_code(items: tuple[_Coded, ...], kind: str) -> dict[str, _Coded]:
    found: dict[str, _Coded] = {}
    for item in items:
        if item.code in found:
            raise CatalogError(f"{kind} {item.code}: 'code' is used by two entries")
        found[item.code] = item
    return found


def _merge(base: tuple[_Coded, ...], override: tuple[_Coded, ...]) -> tuple[_Coded, ...]:
    replacing = {item.code: item for item in override}
    kept = tuple(replacing.pop(item.code, item) for item in base)
    return kept + tuple(item for item in override if item.code in replacing)


def _search_doc(p: Procedure) -> Doc:
    papers = [t for paper in p.papers for t in (paper.name.vi, paper.name.en)]
    return Doc.build(
        names=(p.name.vi, p.name.en),
        code=p.code,
        middle=(*p.keywords, p.summary.vi, p.summary.en),
        low=papers,
    )


def read_catalog(raw: bytes, source: str, *, base: Catalog | None = None) -> Catalog:
    """A catalog file's bytes as a catalog; with `base`, the file is applied over it (a commune's
    override). CatalogError names `source` for bytes that are not UTF-8 TOML."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CatalogError(f"{source}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: is not valid TOML: {exc}") from None
    if base is None:
        return parse_catalog(data, source)
    return base.merged(parse_catalog(data, source, base=base))


def parse_catalog(data: Mapping[str, Any], source: str, *, base: Catalog | None = None) -> Catalog:
    """Check a catalog file's contents and build it; with `base`, it is a commune's override of it.

    An override may leave out `fields`, refer to the base's fields, and omit English texts (the
    Vietnamese is shown instead). Every error names the source, the procedure or field, and the key.
    """
    from appliance.domain.catalog_schema import parse  # it builds on the types above

    return parse(data, source, base)
