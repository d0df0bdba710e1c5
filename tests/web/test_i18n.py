"""Translations: the committed .mo is the compiled .po, and every UI message has its English."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from web.i18n import safe_next

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
PO = WEB / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
POT = WEB / "translations" / "messages.pot"


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale="en")


def messages(catalog: Catalog) -> dict[object, object]:
    return {m.id: m.string for m in catalog if m.id}


def extracted_ids() -> set[str]:
    """Every msgid in web/ today, found the way `make translations` finds them (web/babel.cfg)."""
    with (WEB / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    # The patterns are written relative to the repository root; extract from web/ itself.
    method_map = [(pattern.removeprefix("web/"), method) for pattern, method in method_map]
    options_map = {pattern.removeprefix("web/"): opts for pattern, opts in options_map.items()}
    ids: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        WEB, method_map, options_map
    ):
        ids.update([message] if isinstance(message, str) else [m for m in message if m])
    return ids


def test_compiled_mo_matches_po() -> None:
    po = read_catalog(PO)
    assert not po.fuzzy, "a fuzzy catalog is skipped by pybabel compile"
    compiled = BytesIO()
    write_mo(compiled, po)
    compiled.seek(0)
    with MO.open("rb") as handle:
        committed = read_mo(handle)
    assert messages(committed) == messages(read_mo(compiled)), "run `make translations`"


def test_every_ui_message_has_english() -> None:
    po = read_catalog(PO)
    found = extracted_ids()
    assert "Thủ tục hành chính" in found and "Tiếp tục" in found
    translated = {m.id for m in po if m.id and m.string and not m.fuzzy}
    assert found - translated == set(), "add the English to messages.po, then `make translations`"


def test_template_is_current() -> None:
    with POT.open("rb") as handle:
        pot = {m.id for m in read_po(handle) if m.id}
    assert pot == extracted_ids(), "run `make translations`"


def test_placeholders_survive_translation() -> None:
    for message in read_catalog(PO):
        if message.id and "%(" in str(message.id):
            for name in ("place", "phone", "hamlet", "commune", "hours", "query"):
                token = f"%({name})s"
                assert (token in str(message.id)) == (token in str(message.string)), message.id


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/p/1.001193", "/p/1.001193"),
        ("/search?q=khai+sinh", "/search?q=khai+sinh"),
        (None, "/"),
        ("", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/\r\n/evil.example", "/"),
        ("http://evil.example/", "/"),
        ("evil", "/"),
        ("/\x7f", "/"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
