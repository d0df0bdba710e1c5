"""The catalog: a clerk's mistakes, a commune's override, and residents searching it."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from appliance.catalog_source import load_builtin
from appliance.domain.catalog import Catalog, CatalogError, Field, Procedure, Text, parse_catalog

SOURCE = "/etc/hamletbox/catalog.toml"
Data = dict[str, Any]


def _procedure(
    code: str = "1.001193", field: str = "ho-tich", vi: str = "Đăng ký khai sinh"
) -> Data:
    return {
        "code": code,
        "field": field,
        "name": {"vi": vi, "en": "Birth registration"},
        "summary": {"vi": "Cấp Giấy khai sinh cho trẻ.", "en": "Get a birth certificate."},
        "time_limit": {"vi": "Trong ngày.", "en": "The same day."},
        "fee": {"vi": "Miễn phí.", "en": "Free."},
        "legal_basis": ["Luật Hộ tịch 2014"],
        "portal_url": f"https://dichvucong.gov.vn/p/home/x.html?ma_thu_tuc={code}",
        "keywords": ["lam giay khai sinh"],
        "steps": [{"vi": "Đến nhà văn hóa thôn.", "en": "Go to the cultural house."}],
        "papers": [
            {"name": {"vi": "Tờ khai", "en": "Form"}, "required": True, "bring": "original"},
        ],
    }


def _data() -> Data:
    return {
        "version": 1,
        "fields": [
            {"code": "ho-tich", "name": {"vi": "Hộ tịch", "en": "Civil status"}, "icon": "family"}
        ],
        "procedures": [_procedure()],
    }


def _proc(data: Data) -> Data:
    procedure: Data = data["procedures"][0]
    return procedure


def _paper(data: Data) -> Data:
    paper: Data = _proc(data)["papers"][0]
    return paper


def test_a_valid_file_parses_into_a_catalog() -> None:
    catalog = parse_catalog(_data(), SOURCE)
    procedure = catalog.get("1.001193")
    assert procedure is not None
    assert procedure.name == Text("Đăng ký khai sinh", "Birth registration")
    assert procedure.papers[0].bring == "original"
    assert catalog.field("ho-tich") == Field("ho-tich", Text("Hộ tịch", "Civil status"), "family")
    assert catalog.get("9.999999") is None
    assert catalog.field("nope") is None


Mutation = Callable[[Data], object]

# (what the clerk did, words the error must contain besides the file name)
ERRORS: list[tuple[Mutation, tuple[str, ...]]] = [
    (
        lambda d: _proc(d).update(fee="free"),
        ("procedure 1.001193", "'fee' must be a table with vi and en"),
    ),
    (lambda d: _proc(d).update(fee={"vi": "Miễn phí."}), ("procedure 1.001193", "'fee'")),
    (lambda d: _proc(d).update(fee={"vi": " ", "en": "Free"}), ("procedure 1.001193", "'fee'")),
    (lambda d: _proc(d).update(fee={"vi": "x", "en": "y", "fr": "z"}), ("1.001193", "'fee'")),
    (lambda d: _proc(d).pop("summary"), ("procedure 1.001193", "'summary' is missing")),
    (lambda d: _proc(d).update(feee="x"), ("procedure 1.001193", "'feee'", "did you mean 'fee'")),
    (lambda d: _proc(d).update(code="1001193"), ("procedure 1001193", "'code'")),
    (
        lambda d: _proc(d).update(code=1.001193),
        ("procedures[1]", "'code' must be a non-empty text"),
    ),
    (lambda d: _proc(d).update(field="ho-tch"), ("procedure 1.001193", "'field'", "ho-tch")),
    (lambda d: _proc(d).update(portal_url="http://x.vn/"), ("1.001193", "'portal_url'", "https")),
    (lambda d: _proc(d).update(portal_url="https://"), ("1.001193", "'portal_url'")),
    (lambda d: _proc(d).update(portal_url="https://[::1/x"), ("1.001193", "'portal_url'")),
    (lambda d: _proc(d).update(portal_url="https://a b.vn/"), ("1.001193", "'portal_url'")),
    (lambda d: _proc(d).update(papers=[]), ("procedure 1.001193", "'papers'", "at least one")),
    (lambda d: _proc(d).update(steps=[]), ("procedure 1.001193", "'steps'", "at least one")),
    (lambda d: _proc(d).update(steps=["Đến xã"]), ("procedure 1.001193", "'steps[1]'")),
    (lambda d: _proc(d).update(legal_basis="Luật"), ("1.001193", "'legal_basis' must be a list")),
    (lambda d: _proc(d).update(keywords=[1]), ("1.001193", "'keywords' must be a list")),
    (lambda d: _paper(d).update(bring="copy"), ("1.001193", "'papers[1].bring'", '"photo"')),
    (lambda d: _paper(d).update(required="yes"), ("1.001193", "'papers[1].required'")),
    (lambda d: _paper(d).update(note="x"), ("1.001193", "'papers[1].note'")),
    (lambda d: _paper(d).update(brnig="photo"), ("1.001193", "'papers[1].brnig'")),
    (lambda d: d["procedures"].append(_procedure()), ("procedure 1.001193", "used by two")),
    (lambda d: d["fields"][0].update(icon="tree"), ("field ho-tich", "'icon'", "family")),
    (lambda d: d["fields"][0].update(code="Hộ tịch"), ("field Hộ tịch", "'code'")),
    (lambda d: d["fields"].append(dict(d["fields"][0])), ("field ho-tich", "used by two")),
    (lambda d: d.update(version=2), ("'version' must be 1",)),
    (lambda d: d.update(version=True), ("'version' must be 1",)),
    (lambda d: d.update(version=1.0), ("'version' must be 1",)),
    (lambda d: d.pop("version"), ("'version' is missing",)),
    (lambda d: d.update(procedure=[]), ("'procedure' is not a known key", "did you mean")),
    (lambda d: d.update(procedures=[]), ("'procedures' must list at least one",)),
    (lambda d: d.update(procedures=[1]), ("'procedures' must be a list of tables",)),
]


@pytest.mark.parametrize(("mutate", "expected"), ERRORS)
def test_errors_name_the_file_the_entry_and_the_key(
    mutate: Mutation, expected: tuple[str, ...]
) -> None:
    data = _data()
    mutate(data)
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data, SOURCE)
    message = str(caught.value)
    assert message.startswith(SOURCE + ": ")
    for words in expected:
        assert words in message


def test_texts_are_normalised_to_nfc() -> None:
    data = _data()
    _proc(data)["name"]["vi"] = unicodedata.normalize("NFD", "  Đăng ký khai sinh ")
    procedure = parse_catalog(data, SOURCE).procedures[0]
    assert procedure.name.vi == "Đăng ký khai sinh"
    assert unicodedata.is_normalized("NFC", procedure.name.vi)


def test_the_built_in_catalog_needs_english_but_an_override_falls_back_to_vietnamese() -> None:
    data = _data()
    del _proc(data)["fee"]["en"]
    with pytest.raises(CatalogError, match="'fee'"):
        parse_catalog(data, SOURCE)
    base = parse_catalog(_data(), "built-in")
    override = {"version": 1, "procedures": [_proc(data)]}
    fee = parse_catalog(override, SOURCE, base=base).procedures[0].fee
    assert fee == Text("Miễn phí.", "Miễn phí.")


def test_an_override_uses_the_base_fields_but_not_unknown_ones() -> None:
    base = parse_catalog(_data(), "built-in")
    good = {"version": 1, "procedures": [_procedure("1.000656")]}
    assert parse_catalog(good, SOURCE, base=base).procedures[0].field == "ho-tich"
    bad = {"version": 1, "procedures": [_procedure("1.000656", field="dat-dai")]}
    with pytest.raises(CatalogError, match=r"procedure 1\.000656: 'field'"):
        parse_catalog(bad, SOURCE, base=base)


def test_merged_replaces_same_codes_in_place_and_appends_new_ones() -> None:
    data = _data()
    data["procedures"].append(_procedure("1.000656", vi="Đăng ký khai tử"))
    base = parse_catalog(data, "built-in")
    override = parse_catalog(
        {
            "version": 1,
            "fields": [{"code": "dat-dai", "name": {"vi": "Đất đai"}, "icon": "house"}],
            "procedures": [
                _procedure("1.001193", vi="Khai sinh (xã Xà Bang)"),
                _procedure("1.999999", field="dat-dai", vi="Thủ tục mới"),
            ],
        },
        SOURCE,
        base=base,
    )
    merged = base.merged(override)
    assert [p.code for p in merged.procedures] == ["1.001193", "1.000656", "1.999999"]
    assert merged.procedures[0].name.vi == "Khai sinh (xã Xà Bang)"
    assert [f.code for f in merged.fields] == ["ho-tich", "dat-dai"]
    assert merged.search("xa bang")[0].code == "1.001193"
    assert base.get("1.001193") is not None and base.get("1.999999") is None


def test_grouped_keeps_file_order_and_leaves_out_empty_fields() -> None:
    data = _data()
    data["fields"].insert(0, {"code": "dat-dai", "name": {"vi": "a", "en": "a"}, "icon": "house"})
    data["fields"].append({"code": "chung-thuc", "name": {"vi": "b", "en": "b"}, "icon": "stamp"})
    data["procedures"].append(_procedure("2.000815", field="chung-thuc", vi="Chứng thực"))
    data["procedures"].append(_procedure("1.000656", vi="Đăng ký khai tử"))
    grouped = parse_catalog(data, SOURCE).grouped()
    assert [(f.code, [p.code for p in ps]) for f, ps in grouped] == [
        ("ho-tich", ["1.001193", "1.000656"]),
        ("chung-thuc", ["2.000815"]),
    ]


def test_a_catalog_refuses_duplicate_codes() -> None:
    procedure = parse_catalog(_data(), SOURCE).procedures[0]
    with pytest.raises(CatalogError, match=r"^procedure 1\.001193: 'code' is used by two"):
        Catalog(fields=(), procedures=(procedure, procedure))


def test_changing_a_search_result_does_not_change_the_next_one(builtin: Catalog) -> None:
    builtin.search("khai sinh").clear()
    assert builtin.search("khai sinh")[0].code == "1.001193"


@pytest.fixture(scope="module")
def builtin() -> Catalog:
    return load_builtin()


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("khai sinh", "1.001193"),
        ("Khai Sinh", "1.001193"),
        ("đăng ký khai sinh", "1.001193"),
        ("ket hon", "1.000894"),
        ("xac nhan tinh trang hon nhan", "1.004873"),
        ("giay doc than", "1.004873"),
        ("khai snh", "1.001193"),
        ("kahi sinh", "1.001193"),
        ("birth", "1.001193"),
        ("1.001193", "1.001193"),
        ("lam giay khai sinh", "1.001193"),
        ("dang ki khai sinh", "1.001193"),
        ("khai tu", "1.000656"),
        ("sao y", "2.000815"),
        ("chung thuc chu ky", "2.000884"),
        ("trich luc", "2.000635"),
        ("bao hiem y te", "3.000722"),
        ("khai si", "1.001193"),
    ],
)
def test_search_puts_the_expected_procedure_first(builtin: Catalog, query: str, first: str) -> None:
    assert [p.code for p in builtin.search(query)][:1] == [first]


def test_chung_thuc_finds_both_certification_procedures_first(builtin: Catalog) -> None:
    assert {p.code for p in builtin.search("chung thuc")[:2]} == {"2.000815", "2.000884"}


def test_a_phrase_in_the_name_beats_words_elsewhere(builtin: Catalog) -> None:
    found = [p.code for p in builtin.search("ket hon")]
    assert found.index("1.000894") < found.index("1.004873")


def test_words_found_nowhere_give_nothing(builtin: Catalog) -> None:
    assert builtin.search("xyzzy plugh") == []


BAD_INPUT = [
    "",
    "   ",
    "\x00\x01\x02\x7f",
    "khai" * 10_000,
    " ".join(["khai sinh"] * 500),
    "k\u200bhai\u200d sinh\u2060",
    "\u202ekhai sinh\u202c\u200f",
    "ｋｈａｉ ｓｉｎｈ",
    "🎉👶 khai sinh 👨‍👩‍👧",
    "\ud800\udfff lone surrogates",
    "ﷺ" * 300,
    "a\u0301\u0301\u0301\u0301" * 100,
    "%s%n{0}<script>' OR 1=1 --",
    "1.",
    ".....",
    "1" * 5000,
]


@pytest.mark.parametrize("query", BAD_INPUT)
def test_odd_input_gives_a_plain_list(builtin: Catalog, query: str) -> None:
    found = builtin.search(query)
    assert isinstance(found, list)
    assert all(isinstance(p, Procedure) for p in found)


def test_blank_queries_find_nothing(builtin: Catalog) -> None:
    assert builtin.search("") == [] and builtin.search(" \t\n") == []


def test_invisible_and_wide_characters_are_ignored(builtin: Catalog) -> None:
    assert builtin.search("k\u200bhai sinh\u200f")[0].code == "1.001193"
    assert builtin.search("ｋｈａｉ ｓｉｎｈ")[0].code == "1.001193"


def test_search_never_raises_on_random_text(builtin: Catalog) -> None:
    rng = random.Random(20250701)
    alphabet = [*"khai snđươ .-1", "\u0301", "\u200b", "\x00", "\ud800", "🎉", "ﷺ", "\u202e"]
    for _ in range(2000):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        if rng.random() < 0.2:
            query += "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(1, 10)))
        assert isinstance(builtin.search(query), list)


def test_catalogs_with_the_same_content_are_equal_and_hash_alike() -> None:
    one, two = parse_catalog(_data(), SOURCE), parse_catalog(_data(), "elsewhere")
    assert one == two and hash(one) == hash(two)
