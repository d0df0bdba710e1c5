"""SMS templates: placeholders, the checks a technician's wording must pass, the text policy."""

from __future__ import annotations

import pytest

from appliance.domain import notify
from appliance.domain.notify import (
    BUILTIN,
    EVENTS,
    LANGS,
    TemplateError,
    apply_policy,
    check_template,
    preview,
    render,
    unaccent,
)

BOX = {"hamlet": "Thôn Xà Bang 1", "box_url": "http://10.42.0.1/"}


def test_every_event_has_a_builtin_text_in_each_language_that_passes_its_own_checks() -> None:
    for event in EVENTS:
        for lang in LANGS:
            assert check_template(event, BUILTIN[(event, lang)]) == [], (event, lang)


@pytest.mark.parametrize(("event", "lang"), list(BUILTIN))
def test_builtin_texts_fit_two_parts_even_with_diacritics(event: str, lang: str) -> None:
    text, parts = preview(event, BUILTIN[(event, lang)], lang, unaccented=False)
    assert parts.parts <= 2, text
    assert "{" not in text and "}" not in text


def test_receipt_text_names_the_code_the_procedure_and_the_box() -> None:
    values = notify.values(
        {"code": "XB-4K7P", "procedure": "1.001193", "date": None},
        "vi",
        procedure_name="Đăng ký khai sinh",
        **BOX,
    )
    text = render("receipt", BUILTIN[("receipt", "vi")], values)
    assert text == (
        "Hộp hỗ trợ Thôn Xà Bang 1: đã nhận hồ sơ Đăng ký khai sinh, mã XB-4K7P. "
        "Tra cứu tại http://10.42.0.1/"
    )


def test_missing_date_and_note_read_as_words_not_empty_gaps() -> None:
    vi = notify.values({"code": "A", "date": None, "note": "  "}, "vi", procedure_name=None, **BOX)
    en = notify.values({"code": "A"}, "en", procedure_name=None, **BOX)
    assert vi["date"] == "sẽ báo sau" and vi["note"] == "xin hỏi tổ công nghệ số"
    assert en["date"] == "to be told"


def test_dates_times_and_the_feedback_link_are_formatted_for_residents() -> None:
    params = {"code": "XB-4K7P", "date": "2026-11-20", "start": "2026-11-26T12:30:00+00:00"}
    vi = notify.values(params, "vi", procedure_name=None, **BOX)
    en = notify.values(params, "en", procedure_name=None, **BOX)
    assert vi["date"] == "20/11/2026"
    assert vi["time"] == "19:30 Thứ Năm 26/11"
    assert en["time"] == "19:30 Thu 26 Nov"
    assert vi["link"] == "http://10.42.0.1/danh-gia/XB-4K7P?tu=sms"


def test_the_procedure_code_stands_in_when_the_catalog_does_not_know_it() -> None:
    found = notify.values({"procedure": "9.999"}, "vi", procedure_name=None, **BOX)
    assert found["procedure"] == "9.999"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Mã {ma_ho_so}", "{ma_ho_so}"),
        ("Mã {code", "ngoặc"),
        ("Mã code}", "ngoặc"),
        ("Mã {code!r}", "{code}"),
        ("Mã {code:>20}", "{code}"),
        ("Mã {code.__class__}", "{code.__class__}"),
        ("   ", "trống"),
        ("Hẹn {time}", "{time}"),  # a booking's placeholder, not a receipt's
    ],
)
def test_a_broken_template_is_named_plainly(text: str, says: str) -> None:
    problems = check_template("receipt", text)
    assert len(problems) == 1
    assert says in problems[0]
    assert " / " in problems[0]  # Vietnamese / English


def test_a_template_longer_than_five_parts_is_refused() -> None:
    long = "Hồ sơ {code} " + "rất dài " * 50
    problems = check_template("receipt", long)
    assert problems and "5" in problems[0]
    assert check_template("receipt", "Hồ sơ {code} " + "dài " * 20) == []


def test_render_refuses_what_check_template_refuses() -> None:
    with pytest.raises(TemplateError):
        render("done", "{unknown}", {})


def test_doubled_braces_are_literal_braces() -> None:
    assert render("receipt", "{{mã}} {code}", {"code": "X"}) == "{mã} X"


def test_unaccent_drops_every_vietnamese_diacritic() -> None:
    assert unaccent("Hồ sơ của bạn đã có kết quả") == "Ho so cua ban da co ket qua"
    assert unaccent("ĐẶNG Thị Ưng Ý, Đường Ấp") == "DANG Thi Ung Y, Duong Ap"
    decomposed = "Nguye\u0302\u0303n"  # NFD input comes out the same
    assert unaccent(decomposed) == "Nguyen"


def test_the_text_policy_collapses_whitespace_and_unaccents_on_request() -> None:
    assert apply_policy("Hồ  sơ\n đã\txong ", unaccented=False) == "Hồ sơ đã xong"
    assert apply_policy("Hồ  sơ\n đã xong", unaccented=True) == "Ho so da xong"


def test_unaccented_preview_is_cheaper() -> None:
    template = BUILTIN[("receipt", "vi")]
    accented = preview("receipt", template, "vi", unaccented=False)[1]
    plain_text, plain = preview("receipt", template, "vi", unaccented=True)
    assert accented.encoding == "ucs2" and accented.parts == 2
    assert plain.encoding == "gsm7" and plain.parts == 1
    assert plain_text.startswith("Hop ho tro Thon Dong")
