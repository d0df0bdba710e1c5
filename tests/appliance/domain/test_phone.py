"""Vietnamese mobile numbers as residents write them: accepted in one form, or refused clearly."""

from __future__ import annotations

import pytest

from appliance.domain.phone import (
    MOBILE_PREFIXES,
    PhoneError,
    display,
    last4,
    normalize_vn_mobile,
)


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("(091) 234 5678", "0912345678"),
        ("+84 912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("+84 0912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084 912 345 678", "0912345678"),
        ("０９１２３４５６７８", "0912345678"),  # full-width digits from some keyboards
        (" 0326 111 222 ", "0326111222"),
        ("0559 000 111", "0559000111"),
        ("0868 123 456", "0868123456"),
        ("0708123456", "0708123456"),
    ],
)
def test_good_numbers_are_normalised(typed: str, number: str) -> None:
    assert normalize_vn_mobile(typed) == number


@pytest.mark.parametrize(
    ("typed", "code", "vietnamese"),
    [
        ("09l2 345 678", "letters", "Số điện thoại chỉ gồm chữ số"),
        ("không có", "letters", "Số điện thoại chỉ gồm chữ số"),
        ("0912+345678", "letters", "Số điện thoại chỉ gồm chữ số"),
        ("٠٩١٢٣٤٥٦٧٨", "letters", "Số điện thoại chỉ gồm chữ số"),  # digits, but not 0-9
        ("", "empty", "Cần nhập số điện thoại"),
        (" - ", "empty", "Cần nhập số điện thoại"),
        ("024 3825 1234", "landline", "số máy bàn"),
        ("0251 382 1234", "landline", "số máy bàn"),
        ("0168 123 4567", "old_prefix", "đã đổi sang 10 số"),
        ("091234567", "length", "có 10 chữ số"),
        ("09123456789", "length", "có 10 chữ số"),
        ("912345678", "length", "có 10 chữ số"),
        ("0112345678", "prefix", "Đầu số 011"),
        ("0952345678", "prefix", "Đầu số 095"),
        ("0412345678", "prefix", "Đầu số 041"),
    ],
)
def test_bad_numbers_say_why_in_vietnamese_then_english(
    typed: str, code: str, vietnamese: str
) -> None:
    with pytest.raises(PhoneError) as caught:
        normalize_vn_mobile(typed)
    assert caught.value.code == code
    vi, en = str(caught.value).split(" / ")
    assert vietnamese in vi
    assert en.isascii()


def test_letters_get_the_agreed_message() -> None:
    with pytest.raises(PhoneError, match=r"^Số điện thoại chỉ gồm chữ số / A phone number has"):
        normalize_vn_mobile("0912abc678")


def test_the_prefix_list_is_the_post_2018_one() -> None:
    assert len(MOBILE_PREFIXES) == 8 + 5 + 5 + 9 + 9
    assert {"032", "039", "052", "059", "070", "076", "079", "081", "089", "090", "099"} <= (
        MOBILE_PREFIXES
    )
    assert not {"031", "050", "071", "080", "095"} & MOBILE_PREFIXES
    assert all(len(p) == 3 and p.startswith("0") for p in MOBILE_PREFIXES)


def test_last4_and_display() -> None:
    assert last4("+84 912 345 678") == "5678"
    assert display("84912345678") == "0912 345 678"
