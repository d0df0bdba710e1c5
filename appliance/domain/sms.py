"""SMS text arithmetic: the GSM 03.38 default alphabet, segments, and splitting for concatenation.

What a message costs depends on its characters: GSM-7 gives 160 septets a message (153 per part
when concatenated), anything outside it forces UCS-2 at 70 UTF-16 units (67 per part). Any
Vietnamese letter with a diacritic other than the few GSM-7 has ("é", "è", "ù", ...) forces UCS-2,
which is why the texts the box sends can be made unaccented (DOMAIN.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["gsm7", "ucs2"]

ESCAPE = 0x1B
# The default alphabet in septet order: the character at index n is septet n. Index 0x1B is the
# escape to the extension table, not a character.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs the escape septet plus this one.
GSM7_EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_BASIC = {char: index for index, char in enumerate(GSM7_BASIC) if index != ESCAPE}
_EXTENDED = {septet: char for char, septet in GSM7_EXTENSION.items()}

SINGLE = {"gsm7": 160, "ucs2": 70}  # units in a message sent alone
PART = {"gsm7": 153, "ucs2": 67}  # units per part once the concatenation header takes its share


@dataclass(frozen=True)
class Segmentation:
    encoding: Encoding
    parts: int
    units: int  # septets (gsm7) or UTF-16 code units (ucs2) of the whole text
    per_part: int  # units a part holds: 160/70 for one part, 153/67 when concatenated
    remaining: int  # units still free in the last part


def is_gsm7(text: str) -> bool:
    return all(char in _BASIC or char in GSM7_EXTENSION for char in text)


def encoding_of(text: str) -> Encoding:
    return "gsm7" if is_gsm7(text) else "ucs2"


def cost(char: str, encoding: Encoding) -> int:
    """Units one character takes: an extension character is two septets, an astral one two
    UTF-16 units (a surrogate pair)."""
    if encoding == "gsm7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def units(text: str, encoding: Encoding | None = None) -> int:
    chosen = encoding or encoding_of(text)
    return sum(cost(char, chosen) for char in text)


def split(text: str) -> list[str]:
    """The parts to send: the text itself when it fits one message, otherwise pieces of at most
    153 septets / 67 units, never cutting an escape pair or a surrogate pair in two."""
    encoding = encoding_of(text)
    if units(text, encoding) <= SINGLE[encoding]:
        return [text]
    limit = PART[encoding]
    parts: list[str] = []
    start = used = 0
    for index, char in enumerate(text):
        size = cost(char, encoding)
        if used + size > limit:
            parts.append(text[start:index])
            start, used = index, 0
        used += size
    parts.append(text[start:])
    return parts


def segment(text: str) -> Segmentation:
    """How many SMS the text costs and how much room is left, for the template editor."""
    encoding = encoding_of(text)
    parts = split(text)
    per_part = SINGLE[encoding] if len(parts) == 1 else PART[encoding]
    return Segmentation(
        encoding=encoding,
        parts=len(parts),
        units=units(text, encoding),
        per_part=per_part,
        remaining=per_part - units(parts[-1], encoding),
    )


def to_septets(text: str) -> list[int]:
    """GSM-7 septet values, the escape included before each extension character."""
    septets: list[int] = []
    for char in text:
        if char in GSM7_EXTENSION:
            septets += [ESCAPE, GSM7_EXTENSION[char]]
        elif char in _BASIC:
            septets.append(_BASIC[char])
        else:
            raise ValueError(f"not in the GSM-7 alphabet: {char!r}")
    return septets


def from_septets(septets: list[int]) -> str:
    """The text of GSM-7 septets; an unknown extension septet reads as its basic character."""
    chars: list[str] = []
    escaped = False
    for septet in septets:
        if escaped:
            chars.append(_EXTENDED.get(septet, GSM7_BASIC[septet]))
            escaped = False
        elif septet == ESCAPE:
            escaped = True
        else:
            chars.append(GSM7_BASIC[septet])
    return "".join(chars)
