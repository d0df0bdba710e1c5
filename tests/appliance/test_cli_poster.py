"""`hamletbox poster …`: the technician prints posters from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import main


def test_hotspot_poster_is_written(settings_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "wifi.pdf"
    assert main(["--config", str(settings_file), "poster", "hotspot", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_procedure_poster_is_written(settings_file: Path, tmp_path: Path, lang: str) -> None:
    out = tmp_path / "khai-sinh.pdf"
    args = ["--config", str(settings_file), "poster", "procedure", "1.001193", "-o", str(out)]
    assert main([*args, "--lang", lang]) == 0
    assert out.read_bytes().startswith(b"%PDF-")


def test_unknown_procedure_exits_2_and_writes_nothing(
    settings_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nothing.pdf"
    args = ["--config", str(settings_file), "poster", "procedure", "9.999999", "-o", str(out)]
    assert main(args) == 2
    assert list(tmp_path.glob("*.pdf")) == []
    assert list(tmp_path.glob(".*.tmp")) == []
    assert "9.999999" in capsys.readouterr().err
