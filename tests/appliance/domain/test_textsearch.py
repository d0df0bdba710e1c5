"""The search primitives: folding what people type, and how far a typo may be."""

from __future__ import annotations

import pytest

from appliance.domain.textsearch import fold, query_words, within_one_edit, words


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đăng ký khai sinh", "dang ki khai sinh"),
        ("XÁC NHẬN TÌNH TRẠNG HÔN NHÂN", "xac nhan tinh trang hon nhan"),
        ("kĩ thuật", "ki thuat"),
        ("Ｈộ\u200b tịch", "ho tich"),
        ("a\tb\x00c", "a b c"),
    ],
)
def test_fold_gives_the_form_people_type(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_a_procedure_code_stays_one_word() -> None:
    assert words("Mã 1.001193, trang 2.") == ("ma", "1.001193", "trang", "2")


def test_queries_are_capped() -> None:
    found = query_words("khai " * 1000 + "x" * 500)
    assert len(found) == 12
    assert max(len(w) for w in query_words("x" * 500)) == 40


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("sinh", "sinh", True),
        ("snh", "sinh", True),
        ("sinhh", "sinh", True),
        ("sanh", "sinh", True),
        ("kahi", "khai", True),
        ("ihks", "khai", False),
        ("sinh", "tinhs", False),
        ("hon", "nhon", True),
        ("ab", "abcd", False),
        ("", "a", True),
    ],
)
def test_within_one_edit(a: str, b: str, near: bool) -> None:
    assert within_one_edit(a, b) is near
    assert within_one_edit(b, a) is near
