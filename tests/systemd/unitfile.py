"""Reading systemd unit files in tests: keys may repeat, so each key maps to all its values."""

from __future__ import annotations

from pathlib import Path

Unit = dict[str, dict[str, list[str]]]


def parse(path: Path) -> Unit:
    """Sections -> key -> values in file order (comments and blank lines dropped)."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        if section is None or not sep:
            raise ValueError(f"{path}:{number}: not a key=value line in a section: {raw!r}")
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def one(unit: Unit, section: str, key: str) -> str:
    """The single value of a key that must appear exactly once."""
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"[{section}] {key}= appears {len(values)} times: {values}"
    return values[0]


def words(unit: Unit, section: str, key: str) -> list[str]:
    """Every space-separated word of every occurrence of a list-valued key."""
    return [word for value in unit.get(section, {}).get(key, []) for word in value.split()]
