"""SMS text arithmetic: which alphabet a text needs, what it costs, and how it is cut into parts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.domain import sms


@pytest.mark.parametrize(
    ("text", "gsm7"),
    [
        ("", True),
        ("Ho so cua ban da co ket qua", True),
        ("Café é è ù ì ò à Ä Ö Ñ Ü ß £ ¥ §", True),
        ("Gia {100} [€] ~ | ^ \\", True),
        ("Giá", False),
        ("ă", False),
        ("ơ", False),
        ("ư", False),
        ("đ", False),
        ("ế", False),
        ("Hồ sơ", False),
        ("`", False),
        ("😀", False),
    ],
)
def test_is_gsm7(text: str, gsm7: bool) -> None:
    assert sms.is_gsm7(text) is gsm7
    assert sms.encoding_of(text) == ("gsm7" if gsm7 else "ucs2")


@pytest.mark.parametrize(
    ("text", "encoding", "parts", "units", "per_part", "remaining"),
    [
        ("", "gsm7", 1, 0, 160, 160),
        ("a" * 160, "gsm7", 1, 160, 160, 0),
        ("a" * 161, "gsm7", 2, 161, 153, 145),
        ("a" * 306, "gsm7", 2, 306, 153, 0),
        ("a" * 307, "gsm7", 3, 307, 153, 152),
        ("€" * 80, "gsm7", 1, 160, 160, 0),
        ("€" * 81, "gsm7", 2, 162, 153, 143),  # 76 pairs fit a part: 152 of 153 septets
        ("ă" * 70, "ucs2", 1, 70, 70, 0),
        ("ă" * 71, "ucs2", 2, 71, 67, 63),
        ("ă" * 134, "ucs2", 2, 134, 67, 0),
        ("😀" * 35, "ucs2", 1, 70, 70, 0),
    ],
)
def test_segment(
    text: str, encoding: str, parts: int, units: int, per_part: int, remaining: int
) -> None:
    assert sms.segment(text) == sms.Segmentation(encoding, parts, units, per_part, remaining)  # type: ignore[arg-type]


def test_an_escape_pair_is_never_cut() -> None:
    text = "a" * 152 + "€" + "b" * 10
    parts = sms.split(text)
    assert parts == ["a" * 152, "€" + "b" * 10]


def test_a_surrogate_pair_is_never_cut() -> None:
    text = "ă" * 66 + "😀" + "ơ" * 5
    assert sms.split(text) == ["ă" * 66, "😀" + "ơ" * 5]


def test_one_vietnamese_letter_makes_the_whole_text_ucs2() -> None:
    text = "Ho so cua ban da co ket qua, moi ong ba den nha van hoa thon nhan. " * 2 + "đ"
    assert sms.segment(text[:-1]).encoding == "gsm7"
    assert sms.segment(text[:-1]).parts == 1
    assert sms.segment(text).encoding == "ucs2"
    assert sms.segment(text).parts == 3


@given(st.text(alphabet=sms.GSM7_BASIC.replace("\x1b", "") + "".join(sms.GSM7_EXTENSION)))
def test_gsm7_parts_join_back_and_fit(text: str) -> None:
    parts = sms.split(text)
    assert "".join(parts) == text
    limit = sms.SINGLE["gsm7"] if len(parts) == 1 else sms.PART["gsm7"]
    assert all(sms.units(part, "gsm7") <= limit for part in parts)
    assert sms.from_septets(sms.to_septets(text)) == text


@given(st.text(min_size=1).filter(lambda t: not sms.is_gsm7(t)))
def test_ucs2_parts_join_back_and_fit(text: str) -> None:
    parts = sms.split(text)
    assert "".join(parts) == text
    limit = sms.SINGLE["ucs2"] if len(parts) == 1 else sms.PART["ucs2"]
    assert all(len(part.encode("utf-16-le")) // 2 <= limit for part in parts)


def test_septets_of_extension_characters_carry_the_escape() -> None:
    assert sms.to_septets("@A€") == [0x00, 0x41, 0x1B, 0x65]
    with pytest.raises(ValueError, match="GSM-7"):
        sms.to_septets("đ")
