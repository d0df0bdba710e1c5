"""The built-in catalog, a commune's override of it, and a box that keeps serving when it breaks."""

from __future__ import annotations

import logging
import os
import unicodedata
from pathlib import Path

import pytest

from appliance.catalog_source import CatalogSource, load_builtin, load_override
from appliance.domain.catalog import Catalog, CatalogError, Text

CODES = (
    "1.001193",
    "1.000656",
    "1.000894",
    "1.004873",
    "2.000815",
    "2.000884",
    "2.000635",
    "3.000722",
)

PROCEDURE = """
[[procedures]]
code = "{code}"
field = "ho-tich"
name = {{ vi = "{name}" }}
summary = {{ vi = "Một câu." }}
time_limit = {{ vi = "Trong ngày." }}
fee = {{ vi = "Miễn phí." }}
legal_basis = []
portal_url = "https://dichvucong.gov.vn/p/home/x.html?ma_thu_tuc={code}"
steps = [{{ vi = "Đến nhà văn hóa thôn." }}]

[[procedures.papers]]
name = {{ vi = "Căn cước" }}
required = true
bring = "{bring}"
"""


def _procedure(
    code: str = "1.999001", name: str = "Thủ tục của xã", bring: str = "original"
) -> str:
    """A commune's procedure, written the short way: Vietnamese only, the base's field."""
    return PROCEDURE.format(code=code, name=name, bring=bring)


def _override(code: str = "1.999001", name: str = "Thủ tục của xã", bring: str = "original") -> str:
    return "version = 1\n" + _procedure(code, name, bring)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


_mtime = iter(range(1_700_000_000, 1_800_000_000, 10))


def _write(path: Path, text: str) -> None:
    """Write and give the file a new modification time, as a later save by the clerk would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    stamp = next(_mtime)
    os.utime(path, (stamp, stamp))


@pytest.fixture(scope="module")
def builtin() -> Catalog:
    return load_builtin()


def test_the_built_in_catalog_has_the_common_procedures(builtin: Catalog) -> None:
    assert len(builtin.procedures) >= 8
    assert set(CODES) <= {p.code for p in builtin.procedures}
    assert all(builtin.field(p.field) is not None for p in builtin.procedures)


def test_the_built_in_texts_are_complete_and_plain(builtin: Catalog) -> None:
    for p in builtin.procedures:
        texts: list[Text] = [p.name, p.summary, p.time_limit, p.fee, *p.steps]
        texts += [t for paper in p.papers for t in (paper.name, paper.note) if t is not None]
        for text in texts:
            assert text.vi and text.en, p.code
            assert unicodedata.is_normalized("NFC", text.vi), p.code
        assert 3 <= len(p.steps) <= 6, p.code
        assert p.portal_url.endswith(f"ma_thu_tuc={p.code}")
        assert p.legal_basis and p.keywords, p.code
        assert all(k.isascii() and k == k.lower() for k in p.keywords), f"{p.code}: unaccented"


def test_an_override_adds_and_replaces_procedures(tmp_path: Path, builtin: Catalog) -> None:
    path = tmp_path / "catalog.toml"
    _write(path, _override() + _procedure("1.001193", "Khai sinh tại xã Xà Bang"))
    catalog = load_override(path, builtin)
    assert len(catalog.procedures) == len(builtin.procedures) + 1
    added = catalog.get("1.999001")
    assert added is not None and added.name == Text("Thủ tục của xã", "Thủ tục của xã")
    replaced = catalog.get("1.001193")
    assert replaced is not None and replaced.name.vi == "Khai sinh tại xã Xà Bang"
    assert catalog.procedures.index(replaced) == builtin.procedures.index(builtin.get("1.001193"))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_override(bring="copy"), "procedure 1.999001: 'papers[1].bring'"),
        (_override().replace("fee =", "fees ="), "procedure 1.999001: 'fees' is not a known key"),
        ("version = 1\n[[procedures]\n", "is not valid TOML"),
        (b"version = 1\n# \xff\xfe\n", "is not UTF-8"),
    ],
)
def test_load_override_names_the_file_in_every_error(
    tmp_path: Path, builtin: Catalog, content: str | bytes, expected: str
) -> None:
    path = tmp_path / "catalog.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_override(path, builtin)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_a_broken_override_is_refused_and_the_built_in_catalog_serves(
    tmp_path: Path, builtin: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "catalog.toml"
    _write(path, _override(bring="copy"))
    with caplog.at_level(logging.WARNING):
        source = CatalogSource(path, builtin=builtin)
    assert source.current() is builtin
    assert source.problem is not None
    assert source.problem.startswith(f"{path}: procedure 1.999001: 'papers[1].bring'")
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert source.problem in caplog.text


def test_a_fixed_file_is_picked_up_after_the_interval(tmp_path: Path, builtin: Catalog) -> None:
    path, clock = tmp_path / "catalog.toml", Clock()
    _write(path, _override(bring="copy"))
    source = CatalogSource(path, now=clock, builtin=builtin)
    _write(path, _override())
    clock.t += 29
    assert source.current().get("1.999001") is None, "not re-checked before the interval"
    clock.t += 1
    assert source.current().get("1.999001") is not None
    assert source.problem is None


def test_a_file_that_turns_bad_keeps_the_last_good_catalog(
    tmp_path: Path, builtin: Catalog
) -> None:
    path, clock = tmp_path / "catalog.toml", Clock()
    _write(path, _override(name="Bản tốt"))
    source = CatalogSource(path, now=clock, builtin=builtin)
    good = source.current()
    assert source.problem is None and good.get("1.999001") is not None
    _write(path, _override(name="Bản hỏng", bring="scan"))
    clock.t += 30
    assert source.current() is good
    assert source.problem is not None and "'papers[1].bring'" in source.problem


def test_a_missing_file_is_a_problem_until_it_appears(
    tmp_path: Path, builtin: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    path, clock = tmp_path / "catalog.toml", Clock()
    with caplog.at_level(logging.WARNING):
        source = CatalogSource(path, now=clock, builtin=builtin)
        clock.t += 30
        assert source.current() is builtin
    assert source.problem == f"{path}: file not found"
    assert len(caplog.records) == 1, "the same problem is logged once, not every 30 seconds"
    _write(path, _override())
    clock.t += 30
    assert source.current().get("1.999001") is not None
    assert source.problem is None


def test_an_unchanged_file_is_not_read_again(tmp_path: Path, builtin: Catalog) -> None:
    path, clock = tmp_path / "catalog.toml", Clock()
    _write(path, _override())
    source = CatalogSource(path, now=clock, builtin=builtin)
    first = source.current()
    clock.t += 300
    assert source.current() is first


def test_without_an_override_the_built_in_catalog_serves() -> None:
    source = CatalogSource(None)
    assert source.problem is None
    assert source.current().get("1.001193") is not None
