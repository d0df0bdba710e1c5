"""The procedure catalog: which procedures a resident can file here, what to bring, fees and deadlines.

Pure data and logic: the file is read elsewhere (appliance/catalog_source.py) and handed in as a dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Bring = Literal["original", "photo"]


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
