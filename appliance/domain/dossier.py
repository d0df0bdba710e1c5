"""Dossiers: the status lifecycle, receipt codes, the applicant's name, and the papers checklist.

Pure logic shared by the box and the upstream: no I/O, no SQL. Labels shown to people live with
the UI strings, not here.
"""

from __future__ import annotations

import itertools
import random
import re
import typing
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from appliance.domain.catalog import Paper, Procedure

Status = Literal[
    "draft",
    "queued",
    "sent",
    "received",
    "processing",
    "needs_more",
    "done",
    "returned",
    "rejected",
    "withdrawn",
]
STATUSES: tuple[Status, ...] = typing.get_args(Status)
# The moves the national one-stop rules allow: the box queues and sends; the commune receives,
# asks for more papers (back to received once supplemented), refuses, or finishes; the volunteer
# hands the result over. A resident may withdraw until the commune has finished.
_STOPPABLE = ("withdrawn", "rejected")
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "draft": frozenset({"queued"}),
    "queued": frozenset({"sent", "withdrawn"}),
    "sent": frozenset({"received", *_STOPPABLE}),
    "received": frozenset({"processing", "needs_more", "done", *_STOPPABLE}),
    "processing": frozenset({"needs_more", "done", *_STOPPABLE}),
    "needs_more": frozenset({"received", *_STOPPABLE}),
    "done": frozenset({"returned"}),
    "returned": frozenset(),
    "rejected": frozenset(),
    "withdrawn": frozenset(),
}

# Receipt codes: no 0/O, 1/I/L, U (U/V), and no S (S/5), leaving 29 symbols: a prime, so one
# weighted check symbol catches every single wrong symbol and every swap of two symbols.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRTVWXYZ"
CODE_RANDOM = 5  # 29**5 ≈ 20 million codes per hamlet prefix, plus one check symbol
CODE_BODY = CODE_RANDOM + 1
_VALUE = {symbol: i for i, symbol in enumerate(CODE_ALPHABET)}
# What a resident may type for a symbol that is never printed; the check symbol picks the one
# meant, and a code that stays ambiguous is refused rather than guessed.
CONFUSABLE = {"O": "DQ", "0": "DQ", "I": "J7", "1": "7J", "L": "", "S": "5", "U": "V"}
_SEPARATORS = re.compile(r"[\s\-–—_.·/]+")
_PREFIX = re.compile(r"[A-Z0-9]{1,4}")
NAME_MAX = 100


class DossierError(ValueError):
    """A dossier action that cannot be done; the message is "Vietnamese / English"."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class IncompleteError(DossierError):
    """Required papers have neither pages nor a promise to bring the original."""

    def __init__(self, missing: tuple[Paper, ...]) -> None:
        names = "; ".join(paper.name.vi for paper in missing)
        super().__init__(
            "incomplete",
            f"Còn thiếu giấy tờ: {names} / Papers still missing: "
            + "; ".join(paper.name.get("en") for paper in missing),
        )
        self.missing = missing


class ReceiptCodeError(ValueError):
    """Text that cannot be a receipt code; the message is "Vietnamese / English"."""


def can_transition(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def transition(current: str, new: str) -> str:
    """`new` if the lifecycle allows the move, else a DossierError naming both statuses."""
    if not can_transition(current, new):
        raise DossierError(
            "transition",
            f"Không thể chuyển hồ sơ từ “{current}” sang “{new}” / "
            f"A dossier cannot move from {current} to {new}",
        )
    return new


def is_final(status: str) -> bool:
    return not TRANSITIONS.get(status)


def new_receipt_code(prefix: str, rng: random.Random) -> str:
    """A fresh code such as "XB1-K7M4QD": the hamlet's prefix, five random symbols, a check."""
    body = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_RANDOM))
    return f"{prefix}-{body}{_check_symbol(body)}"


def _weighted(body: str) -> int:
    """Σ weight × value with distinct non-zero weights, the last symbol weighing 1 (mod 29)."""
    return sum((len(body) - i) * _VALUE[c] for i, c in enumerate(body)) % len(CODE_ALPHABET)


def _check_symbol(random_part: str) -> str:
    # Chosen so that the weighted sum of the whole body, check included, is 0.
    return CODE_ALPHABET[-_weighted(random_part + CODE_ALPHABET[0]) % len(CODE_ALPHABET)]


def is_valid_body(body: str) -> bool:
    return len(body) == CODE_BODY and all(c in _VALUE for c in body) and _weighted(body) == 0


def normalize_receipt_code(text: str) -> str:
    """The canonical "PREFIX-BODY" of what a resident typed, or ReceiptCodeError.

    Case, spaces, dashes and full-width characters do not matter; a never-printed look-alike
    (O for D, S for 5…) is read as the symbol whose check symbol agrees.
    """
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    prefix, typed = compact[:-CODE_BODY], compact[-CODE_BODY:]
    if len(typed) < CODE_BODY or not _PREFIX.fullmatch(prefix):
        raise ReceiptCodeError(
            "Mã biên nhận có dạng XB1-K7M4QD (ghi trên giấy biên nhận) / "
            "A receipt code looks like XB1-K7M4QD (it is on your receipt)"
        )
    options = [c if c in _VALUE else CONFUSABLE.get(c, "") for c in typed]
    readings = [
        "".join(symbols)
        for symbols in itertools.product(*options)
        if is_valid_body("".join(symbols))
    ]
    if len(readings) != 1:
        raise ReceiptCodeError(
            "Mã biên nhận không đúng, xin kiểm tra lại từng chữ / "
            "That receipt code is not right; check each character"
        )
    return f"{prefix}-{readings[0]}"


def clean_name(text: str) -> str:
    """A typed full name as stored: NFC, no control characters, single spaces, 1–100 characters.

    Markup is not refused: "<b>" in a name is kept as text and escaped wherever it is shown.
    """
    name = unicodedata.normalize("NFC", text)
    name = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in name)
    name = "".join(c for c in name if unicodedata.category(c) != "Cf")
    name = " ".join(name.split())
    if not name:
        raise DossierError("name_empty", "Cần nhập họ và tên / The full name is needed")
    if len(name) > NAME_MAX:
        raise DossierError(
            "name_long",
            f"Họ và tên dài quá {NAME_MAX} ký tự / The name is longer than {NAME_MAX} characters",
        )
    return name


@dataclass(frozen=True)
class Applicant:
    """Who files the dossier: decoded from the ID card's QR, or just a typed name."""

    full_name: str
    id_number: str | None = None
    date_of_birth: date | None = None
    gender: Literal["male", "female"] | None = None
    address: str | None = None


@dataclass(frozen=True)
class PageMeta:
    """A processed page whose bytes are already a blob on disk, under `sha256`."""

    sha256: str
    mode: Literal["text", "color"]
    width: int
    height: int
    bytes: int


@dataclass(frozen=True)
class PaperState:
    """One line of the checklist: a paper, how many pages it has, whether the original comes."""

    paper: Paper
    pages: int
    bring_original: bool

    @property
    def satisfied(self) -> bool:
        return self.pages > 0 or self.bring_original or not self.paper.required


def paper_key(paper: Paper) -> str:
    """How a dossier refers to one of its procedure's papers: the Vietnamese name."""
    return paper.name.vi


def checklist(
    procedure: Procedure, pages: Mapping[str, int], originals: Collection[str]
) -> list[PaperState]:
    """The procedure's papers in catalog order with the dossier's state of each."""
    return [
        PaperState(p, pages.get(paper_key(p), 0), paper_key(p) in originals)
        for p in procedure.papers
    ]


def missing_papers(
    procedure: Procedure, pages: Mapping[str, int], originals: Collection[str]
) -> tuple[Paper, ...]:
    """Required papers with neither a page nor "bring the original": what blocks submitting."""
    return tuple(s.paper for s in checklist(procedure, pages, originals) if not s.satisfied)
