"""Shared fixtures: a settings file in a temporary folder, and services built from it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance import config
from appliance.config import Settings
from appliance.services import Services, build

SAMPLE_SETTINGS = """\
data_dir = "{data}"
runtime_dir = "{run}"

[box]
name = "Hamlet Box"
hamlet = "Thôn Xà Bang 1"
commune = "Xã Xà Bang"
province = "Tỉnh Đồng Nai"
station_place = "Nhà văn hóa thôn Xà Bang 1"
office = "Bộ phận một cửa, UBND xã Xà Bang"
office_address = "Ấp 3, xã Xà Bang"

[hotspot]
ssid = "HamletBox-XaBang1"
password = "mat-khau-thon-1"
address = "10.42.0.1"

[web]
secret_key = "test-secret-key"

[help]
hours = ["thu 08:00-11:00", "daily 19:00-21:00"]
"""


def write_settings(folder: Path, extra: str = "") -> Path:
    path = folder / "hamletbox.toml"
    text = SAMPLE_SETTINGS.format(data=folder / "data", run=folder / "run") + extra
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return write_settings(tmp_path)


@pytest.fixture
def settings(settings_file: Path) -> Settings:
    return config.load(settings_file, environ={})


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build(settings)
    yield built
    built.close()
