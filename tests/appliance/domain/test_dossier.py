"""The dossier lifecycle, receipt codes a resident can mistype safely, names, and the checklist."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.domain.catalog import Paper, Procedure, Text
from appliance.domain.dossier import (
    CODE_ALPHABET,
    CODE_BODY,
    STATUSES,
    DossierError,
    IncompleteError,
    ReceiptCodeError,
    can_transition,
    checklist,
    clean_name,
    is_final,
    is_valid_body,
    missing_papers,
    new_receipt_code,
    normalize_receipt_code,
    paper_key,
    transition,
)
from appliance.store.tables import DOSSIER_STATUSES

ALLOWED = {
    ("draft", "queued"),
    ("queued", "sent"),
    ("queued", "withdrawn"),
    ("sent", "received"),
    ("sent", "rejected"),
    ("sent", "withdrawn"),
    ("received", "processing"),
    ("received", "needs_more"),
    ("received", "done"),
    ("received", "rejected"),
    ("received", "withdrawn"),
    ("processing", "needs_more"),
    ("processing", "done"),
    ("processing", "rejected"),
    ("processing", "withdrawn"),
    ("needs_more", "received"),
    ("needs_more", "rejected"),
    ("needs_more", "withdrawn"),
    ("done", "returned"),
}


def test_the_store_accepts_exactly_the_domain_statuses() -> None:
    assert DOSSIER_STATUSES == STATUSES


@pytest.mark.parametrize(("current", "new"), list(itertools.product(STATUSES, repeat=2)))
def test_transitions_table(current: str, new: str) -> None:
    allowed = (current, new) in ALLOWED
    assert can_transition(current, new) is allowed
    if allowed:
        assert transition(current, new) == new
    else:
        with pytest.raises(DossierError, match=f"{current}.*{new}") as caught:
            transition(current, new)
        assert caught.value.code == "transition"


def test_returned_rejected_and_withdrawn_are_final() -> None:
    assert [s for s in STATUSES if is_final(s)] == ["returned", "rejected", "withdrawn"]


def test_unknown_statuses_move_nowhere() -> None:
    assert not can_transition("lost", "queued")
    assert not can_transition("draft", "lost")


def test_the_alphabet_has_no_look_alikes_and_a_prime_size() -> None:
    assert not set("0O1ILUS") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 29


def test_receipt_code_format() -> None:
    rng = random.Random(7)
    codes = {new_receipt_code("XB1", rng) for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        prefix, body = code.split("-")
        assert prefix == "XB1"
        assert len(body) == CODE_BODY == 6
        assert set(body) <= set(CODE_ALPHABET)
        assert is_valid_body(body)
        assert normalize_receipt_code(code) == code


def _bodies(count: int) -> list[str]:
    rng = random.Random(11)
    return [new_receipt_code("HB", rng).split("-")[1] for _ in range(count)]


def test_the_check_symbol_catches_every_single_wrong_symbol() -> None:
    for body in _bodies(60):
        for i, other in itertools.product(range(len(body)), CODE_ALPHABET):
            if other != body[i]:
                assert not is_valid_body(body[:i] + other + body[i + 1 :]), (body, i, other)


def test_the_check_symbol_catches_every_swap_of_neighbours() -> None:
    for body in _bodies(300):
        for i in range(len(body) - 1):
            swapped = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
            if swapped != body:
                assert not is_valid_body(swapped), (body, i)


@given(st.integers(min_value=0, max_value=2**32))
def test_normalising_forgives_case_spaces_and_dashes(seed: int) -> None:
    code = new_receipt_code("XB1", random.Random(seed))
    body = code.split("-")[1]
    for typed in (
        code.lower(),
        f" xb1 {body[:3]} {body[3:]} ",
        f"XB1{body}",
        f"xb1–{body.lower()}",
        f"ＸＢ１-{body}",  # full-width, as some phone keyboards type
    ):
        assert normalize_receipt_code(typed) == code


def test_a_never_printed_look_alike_is_read_as_the_symbol_the_check_agrees_with() -> None:
    for body in _bodies(200):
        for printed, typed in (("D", "O"), ("D", "0"), ("Q", "0"), ("5", "S"), ("V", "U")):
            if printed in body:
                assert normalize_receipt_code("HB-" + body.replace(printed, typed, 1)) == (
                    "HB-" + body
                )


def _mistyped() -> str:
    """A real code with its last symbol changed: the check must refuse it."""
    code = new_receipt_code("HB", random.Random(3))
    last = CODE_ALPHABET[(CODE_ALPHABET.index(code[-1]) + 1) % len(CODE_ALPHABET)]
    return code[:-1] + last


@pytest.mark.parametrize(
    "typed", ["", "HB", "HB-K7M", "HB-K7M4Q!", "TOOLONG-K7M4QD", "HB-LLLLLL", _mistyped()]
)
def test_what_cannot_be_a_code_is_refused_in_both_languages(typed: str) -> None:
    with pytest.raises(ReceiptCodeError, match=r"Mã biên nhận .* / .*receipt code"):
        normalize_receipt_code(typed)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Nguyễn   Thị\tLan ", "Nguyễn Thị Lan"),
        ("Nguye\u0302\u0303n Va\u0306n A", "Nguyễn Văn A"),  # decomposed -> NFC
        ("Lê\u200b Văn\x00 B\u202e", "Lê Văn B"),  # zero-width, NUL, bidi override
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("Trần\nVăn C", "Trần Văn C"),
    ],
)
def test_names_are_cleaned_and_markup_stays_text(typed: str, stored: str) -> None:
    assert clean_name(typed) == stored


@pytest.mark.parametrize(
    ("typed", "code", "vi"),
    [(" \t\u200b", "name_empty", "Cần nhập họ và tên"), ("A" * 101, "name_long", "dài quá 100")],
)
def test_bad_names_are_refused_in_vietnamese_first(typed: str, code: str, vi: str) -> None:
    with pytest.raises(DossierError) as caught:
        clean_name(typed)
    assert caught.value.code == code
    vietnamese, english = str(caught.value).split(" / ")
    assert vi in vietnamese
    assert "name" in english


def test_a_name_of_exactly_100_characters_is_kept() -> None:
    assert clean_name("Ă" * 100) == "Ă" * 100


def paper(vi: str, required: bool = True, bring: str = "original") -> Paper:
    return Paper(Text(vi, vi + " (en)"), required, "original" if bring == "original" else "photo")


PROCEDURE = Procedure(
    code="1.001193",
    field="ho-tich",
    name=Text("Đăng ký khai sinh", "Birth registration"),
    summary=Text("", ""),
    papers=(
        paper("Tờ khai"),
        paper("Giấy chứng sinh"),
        paper("Căn cước của cha hoặc mẹ"),
        paper("Giấy chứng nhận kết hôn", required=False, bring="photo"),
    ),
    steps=(),
    time_limit=Text("Trong ngày", "Same day"),
    fee=Text("Miễn phí", "Free"),
    legal_basis=(),
    portal_url="https://dichvucong.gov.vn/",
)


def test_missing_papers_are_required_ones_with_neither_pages_nor_an_original() -> None:
    pages = {"Tờ khai": 2}
    originals = {"Căn cước của cha hoặc mẹ"}
    assert [paper_key(p) for p in missing_papers(PROCEDURE, pages, originals)] == [
        "Giấy chứng sinh"
    ]
    assert missing_papers(PROCEDURE, {**pages, "Giấy chứng sinh": 1}, originals) == ()
    assert len(missing_papers(PROCEDURE, {}, set())) == 3


def test_checklist_shows_every_paper_in_catalog_order() -> None:
    rows = checklist(PROCEDURE, {"Giấy chứng nhận kết hôn": 1}, {"Tờ khai"})
    assert [(paper_key(r.paper), r.pages, r.bring_original, r.satisfied) for r in rows] == [
        ("Tờ khai", 0, True, True),
        ("Giấy chứng sinh", 0, False, False),
        ("Căn cước của cha hoặc mẹ", 0, False, False),
        ("Giấy chứng nhận kết hôn", 1, False, True),
    ]


def test_the_incomplete_error_lists_the_missing_papers_in_both_languages() -> None:
    error = IncompleteError(missing_papers(PROCEDURE, {}, set()))
    vi, en = str(error).split(" / ")
    assert vi == "Còn thiếu giấy tờ: Tờ khai; Giấy chứng sinh; Căn cước của cha hoặc mẹ"
    assert en.startswith("Papers still missing: Tờ khai (en)")
    assert error.code == "incomplete"
