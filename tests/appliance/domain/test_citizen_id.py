"""The CCCD QR parser: what a card gives, what it refuses, what the volunteer must check."""

from __future__ import annotations

import contextlib
import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.domain.citizen_id import (
    ERRORS,
    PROVINCES,
    WARNINGS,
    IdCardError,
    century_sex_digit,
    parse_citizen_qr,
    province_name,
    warning_text,
)

TODAY = date(2026, 3, 1)
NAME = "Nguyễn Văn An"
ADDRESS = "Thôn Xà Bang 1, Xã Xà Bang, Huyện Châu Đức, Bà Rịa - Vũng Tàu"
GOOD = f"077089012345||{NAME}|01021989|Nam|{ADDRESS}|15062021"
FIELDS = ("id", "old", "name", "born", "gender", "address", "issued")


def card(**changes: str) -> str:
    """The good card's QR text with some fields replaced."""
    values = dict(zip(FIELDS, GOOD.split("|"), strict=True))
    values.update(changes)
    return "|".join(values[name] for name in FIELDS)


def parse(text: str) -> object:
    return parse_citizen_qr(text, today=TODAY)


def test_a_real_card_gives_every_field_and_no_warning() -> None:
    got = parse_citizen_qr(GOOD, today=TODAY)
    assert got.id_number == "077089012345"
    assert got.old_id == ""
    assert got.full_name == NAME
    assert got.date_of_birth == date(1989, 2, 1)
    assert got.gender == "male" and got.gender_vi == "Nam"
    assert got.address == ADDRESS
    assert got.issue_date == date(2021, 6, 15)
    assert got.warnings == ()
    assert got.birth_province == "Bà Rịa - Vũng Tàu"


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        (card(old="123456789"), "old_id", "123456789"),
        (card(old="001089012345"), "old_id", "001089012345"),
        (card(old=" 123456789 "), "old_id", "123456789"),
        (card(born="01/02/1989"), "date_of_birth", date(1989, 2, 1)),
        (card(issued="15/06/2021"), "issue_date", date(2021, 6, 15)),
        (card(issued=""), "issue_date", None),
        (GOOD.rsplit("|", 1)[0], "issue_date", None),  # six fields: no issue date
        (GOOD + "|extra one|2", "extra", ("extra one", "2")),
        (card(name="  Nguyễn   Văn\u00a0An "), "full_name", NAME),
        (unicodedata.normalize("NFD", GOOD), "full_name", NAME),
        (unicodedata.normalize("NFD", GOOD), "address", ADDRESS),
        ("\ufeff" + GOOD + "\r\n\x00", "id_number", "077089012345"),
        (card(name="<b>Nguyễn</b> Văn An"), "full_name", "<b>Nguyễn</b> Văn An"),
    ],
)
def test_variants_seen_on_real_cards_are_read(text: str, field: str, expected: object) -> None:
    assert getattr(parse(text), field) == expected


@pytest.mark.parametrize("word", ["Nữ", "NỮ", "nữ", unicodedata.normalize("NFD", "Nữ")])
def test_female_in_any_case_or_unicode_form(word: str) -> None:
    got = parse_citizen_qr(card(id="077189012345", gender=word), today=TODAY)
    assert got.gender == "female" and got.gender_vi == "Nữ"
    assert got.warnings == ()


@pytest.mark.parametrize("word", ["Nam", "NAM", "nam", " Nam "])
def test_male_in_any_case(word: str) -> None:
    assert parse_citizen_qr(card(gender=word), today=TODAY).gender == "male"


def test_born_in_the_2000s_uses_century_digits_2_and_3() -> None:
    got = parse_citizen_qr(card(id="079301234567", born="05112001", gender="Nữ"), today=TODAY)
    assert got.warnings == ()


def test_born_in_the_2100s_uses_digits_4_and_5() -> None:
    text = card(id="001405000001", born="01012105", gender="Nam", issued="01012125")
    assert parse_citizen_qr(text, today=date(2130, 1, 1)).warnings == ()


LONG = "A" * 101


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "not_id_qr"),
        ("https://dichvucong.gov.vn/p/home/dvc-trang-chu.html", "not_id_qr"),
        ("WIFI:S:HamletBox;T:WPA;P:12345678;;", "not_id_qr"),
        ("077089012345||Nguyễn Văn An|01021989|Nam", "not_id_qr"),
        (GOOD + "|" + "x" * 2000, "not_id_qr"),
        (card(id="07708901234"), "bad_id_number"),
        (card(id="0770890123456"), "bad_id_number"),
        (card(id="07708901234A"), "bad_id_number"),
        (card(id="０７７０８９０１２３４５"), "bad_id_number"),  # full-width digits
        (card(id="٠٧٧٠٨٩٠١٢٣٤٥"), "bad_id_number"),  # Arabic-Indic digits
        (card(id=""), "bad_id_number"),
        (card(old="12345678"), "bad_old_id"),
        (card(old="1234567890"), "bad_old_id"),
        (card(old="12345678X"), "bad_old_id"),
        (card(name=""), "missing_name"),
        (card(name="   "), "missing_name"),
        (card(name=LONG), "name_too_long"),
        (card(address=""), "missing_address"),
        (card(address="B" * 301), "address_too_long"),
        (card(name="Nguyễn\x07 Văn An"), "control_chars"),
        (card(name="Nguyễn\u202eVăn An"), "control_chars"),  # right-to-left override
        (card(name="Nguyễn\nVăn An"), "control_chars"),
        (card(name="Nguyễn\u200bVăn An"), "control_chars"),  # zero-width space
        (card(address="Thôn 1\tXã 2"), "control_chars"),
        (card(address="Thôn 1\u2028Xã 2"), "control_chars"),
        (card(born="31021989"), "bad_birth_date"),
        (card(born="29021989"), "bad_birth_date"),
        (card(born="00011989"), "bad_birth_date"),
        (card(born="01131989"), "bad_birth_date"),
        (card(born="1/2/1989"), "bad_birth_date"),
        (card(born="01/021989"), "bad_birth_date"),
        (card(born="1989-02-01"), "bad_birth_date"),
        (card(born="01021899"), "bad_birth_date"),
        (card(born=""), "bad_birth_date"),
        (card(issued="32012021"), "bad_issue_date"),
        (card(issued="tomorrow"), "bad_issue_date"),
        (card(gender="Male"), "bad_gender"),
        (card(gender="Nu"), "bad_gender"),
        (card(gender=""), "bad_gender"),
        (card(issued="31011989"), "issue_before_birth"),
    ],
)
def test_what_no_real_card_holds_is_refused_with_a_reason(text: str, code: str) -> None:
    with pytest.raises(IdCardError) as caught:
        parse(text)
    assert caught.value.code == code
    vi, en = ERRORS[code]
    assert str(caught.value) == f"{vi} / {en}"


def test_limits_are_inclusive() -> None:
    got = parse(card(name="A" * 100, address="B" * 300))
    assert len(got.full_name) == 100 and len(got.address) == 300


def test_a_leap_day_is_a_real_date() -> None:
    assert parse(card(id="077088012345", born="29021988")).date_of_birth == date(1988, 2, 29)


@pytest.mark.parametrize(
    ("text", "today", "warnings"),
    [
        (card(id="077090012345"), TODAY, ("birth_year_mismatch",)),  # YY 90, born 1989
        (card(id="077289012345"), TODAY, ("birth_year_mismatch",)),  # 2000s digit, born 1989
        (card(id="077189012345"), TODAY, ("gender_mismatch",)),  # female digit, Nam
        (card(id="077390012345"), TODAY, ("birth_year_mismatch", "gender_mismatch")),
        (card(id="003089012345"), TODAY, ("unknown_province",)),
        (card(id="099089012345"), TODAY, ("unknown_province",)),
        (card(issued="01012027"), TODAY, ("future_date",)),
        (card(id="077226012345", born="01012026", issued=""), date(2025, 1, 1), ("future_date",)),
        (
            card(id="077005012345", born="01011905", issued=""),
            date(2040, 1, 1),
            ("implausible_age",),
        ),
        (card(name="Nguyễn Văn An 2"), TODAY, ("unusual_name",)),
        (card(name="<script>alert(1)</script>"), TODAY, ("unusual_name",)),
        (card(name="Nguyễn Văn An"), TODAY, ()),
        (card(name="H'Hen Niê"), TODAY, ()),  # Ê Đê names carry an apostrophe
    ],
)
def test_suspect_cards_are_read_with_warnings(
    text: str, today: date, warnings: tuple[str, ...]
) -> None:
    assert parse_citizen_qr(text, today=today).warnings == warnings


def test_an_age_of_exactly_the_limit_is_not_suspect() -> None:
    text = card(id="077005012345", born="01011905", issued="")
    assert parse_citizen_qr(text, today=date(2035, 1, 1)).warnings == ()
    assert parse_citizen_qr(text, today=date(2036, 1, 1)).warnings == ("implausible_age",)


def test_province_codes_are_the_63_of_birth_registration() -> None:
    listed = [
        "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020",
        "022", "024", "025", "026", "027", "030", "031", "033", "034", "035", "036", "037", "038",
        "040", "042", "044", "045", "046", "048", "049", "051", "052", "054", "056", "058", "060",
        "062", "064", "066", "067", "068", "070", "072", "074", "075", "077", "079", "080", "082",
        "083", "084", "086", "087", "089", "091", "092", "093", "094", "095", "096",
    ]  # fmt: skip
    assert sorted(PROVINCES) == listed
    assert province_name("001") == "Hà Nội"
    assert province_name("079") == "Hồ Chí Minh"
    assert province_name("096") == "Cà Mau"
    assert province_name("003") is None
    assert all(name == unicodedata.normalize("NFC", name) for name in PROVINCES.values())


@pytest.mark.parametrize(
    ("year", "gender", "digit"),
    [(1900, "male", 0), (1989, "female", 1), (2000, "male", 2), (2001, "female", 3),
     (2100, "male", 4), (2199, "female", 5), (2399, "female", 9)],
)  # fmt: skip
def test_century_and_sex_digit(year: int, gender: str, digit: int) -> None:
    assert century_sex_digit(year, gender) == digit  # type: ignore[arg-type]


@pytest.mark.parametrize("code", sorted(WARNINGS))
def test_every_warning_reads_in_both_languages(code: str) -> None:
    vi, en = warning_text(code, "vi"), warning_text(code, "en")
    assert vi and en and vi != en
    assert warning_text(code, "fr") == vi  # unknown language: Vietnamese


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_refusal_reads_in_both_languages(code: str) -> None:
    error = IdCardError(code)
    assert str(error) == f"{error.text('vi')} / {error.text('en')}"
    assert error.text("vi") != error.text("en")


@given(st.text(max_size=400))
def test_any_text_is_either_a_card_or_an_id_card_error(text: str) -> None:
    with contextlib.suppress(IdCardError):
        parse(text)


DIGITS = st.text(alphabet="0123456789", min_size=0, max_size=13)
FIELD = st.one_of(st.text(max_size=40), DIGITS, st.sampled_from(["Nam", "Nữ", "01021989", ""]))


@given(st.lists(FIELD, min_size=6, max_size=9))
def test_any_pipe_separated_fields_give_a_sound_card_or_a_refusal(fields: list[str]) -> None:
    """Deeper than random text: six or more fields reach every check."""
    try:
        got = parse("|".join(fields))
    except IdCardError as exc:
        assert exc.code in ERRORS
        return
    assert len(got.id_number) == 12 and got.id_number.isascii() and got.id_number.isdigit()
    assert got.full_name == unicodedata.normalize("NFC", got.full_name)
    assert 0 < len(got.full_name) <= 100 and 0 < len(got.address) <= 300
    assert not any(unicodedata.category(ch).startswith("C") for ch in got.full_name + got.address)
    assert got.issue_date is None or got.issue_date >= got.date_of_birth
    assert set(got.warnings) <= set(WARNINGS)
