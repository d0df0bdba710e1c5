"""Vietnamese mobile numbers, as residents write them, checked and brought to one form.

The number is where the box texts the result, so a typo must be caught at the desk, not found
later as an SMS that never arrived.
"""

from __future__ import annotations

import re
import unicodedata

# Mobile prefixes in use since the 2018 move to 10 digits (Viettel 032–039, 086, 096–098;
# VinaPhone 081–085, 088, 091, 094; MobiFone 070, 076–079, 089, 090, 093; Vietnamobile 052, 056,
# 058, 092; Reddi 055; Gmobile 059, 099; Itel 087). 095 (the former S-Fone) is not in use. Data,
# not logic: add a prefix here when the ministry assigns one.
MOBILE_PREFIXES = frozenset(
    [f"03{d}" for d in "23456789"]
    + ["052", "055", "056", "058", "059"]
    + ["070", "076", "077", "078", "079"]
    + [f"08{d}" for d in "123456789"]
    + [f"09{d}" for d in "012346789"]
)
_SEPARATORS = re.compile(r"[\s.\-()/]+")
LENGTH = 10


class PhoneError(ValueError):
    """Not a Vietnamese mobile number; the message is "Vietnamese / English" and says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def normalize_vn_mobile(text: str) -> str:
    """The number as "0xxxxxxxxx": spaces, dots, dashes and a +84 / 84 / 0084 start accepted."""
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if not compact:
        raise PhoneError("empty", "Cần nhập số điện thoại di động / A mobile number is needed")
    digits = compact[1:] if compact.startswith("+") else compact
    if not digits.isascii() or not digits.isdigit():
        raise PhoneError("letters", "Số điện thoại chỉ gồm chữ số / A phone number has digits only")
    return _check(_national(digits))


def _national(digits: str) -> str:
    """The number with the country code replaced by the leading 0 used inside Viet Nam."""
    for country in ("0084", "84"):
        rest = digits[len(country) :]
        if digits.startswith(country) and len(rest) in (LENGTH - 1, LENGTH):
            return rest if rest.startswith("0") else "0" + rest
    return digits


def _check(number: str) -> str:
    if number.startswith("02") and len(number) == LENGTH + 1:
        raise PhoneError(
            "landline",
            "Đây là số máy bàn; cần số di động để nhận tin nhắn / "
            "This is a landline; a mobile number is needed to get text messages",
        )
    if number.startswith("01") and len(number) == LENGTH + 1:
        raise PhoneError(
            "old_prefix",
            "Số di động 11 số đầu 01 đã đổi sang 10 số từ năm 2018, xin nhập số mới / "
            "11-digit mobile numbers starting 01 changed to 10 digits in 2018; enter the new one",
        )
    if len(number) != LENGTH or not number.startswith("0"):
        raise PhoneError(
            "length",
            "Số di động có 10 chữ số, ví dụ 0912 345 678 / "
            "A mobile number has 10 digits, e.g. 0912 345 678",
        )
    if number[:3] not in MOBILE_PREFIXES:
        raise PhoneError(
            "prefix",
            f"Đầu số {number[:3]} không phải số di động Việt Nam / "
            f"{number[:3]} is not a Vietnamese mobile prefix",
        )
    return number


def last4(phone: str) -> str:
    """The last four digits, which a resident gives with the receipt code to see the status."""
    return normalize_vn_mobile(phone)[-4:]


def display(phone: str) -> str:
    """The number grouped as people read it aloud: "0912 345 678"."""
    number = normalize_vn_mobile(phone)
    return f"{number[:4]} {number[4:7]} {number[7:]}"
