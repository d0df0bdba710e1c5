"""Settings: TOML + HAMLETBOX_* environment, validated at load, secrets never printed."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from appliance import config
from appliance.cli import main
from appliance.config import SettingsError
from tests.conftest import write_settings


def test_loads_file_and_defaults(settings_file: Path, tmp_path: Path) -> None:
    settings = config.load(settings_file, environ={})
    assert settings.box.hamlet == "Thôn Xà Bang 1"
    assert settings.data_dir == tmp_path / "data"
    assert settings.web.port == 8080  # default kept where the file is silent
    assert settings.box_url == "http://10.42.0.1/"
    assert [h.label("vi") for h in settings.help_hours] == [
        "Thứ Năm: 08:00–11:00",
        "Hằng ngày: 19:00–21:00",
    ]


def test_settings_are_frozen(settings: config.Settings) -> None:
    with pytest.raises(AttributeError):
        settings.web.port = 1  # type: ignore[misc]


def test_environment_overrides(settings_file: Path, tmp_path: Path) -> None:
    env = {
        "HAMLETBOX_DATA": str(tmp_path / "elsewhere"),
        "HAMLETBOX_WEB__PORT": "9000",
        "HAMLETBOX_BOX__HAMLET": "Thôn 2",
        "HAMLETBOX_HELP__HOURS": '["mon-fri 18:00-20:00"]',
        "HAMLETBOX_CONFIG": str(settings_file),
    }
    settings = config.load(None, environ=env)
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.web.port == 9000
    assert settings.box.hamlet == "Thôn 2"
    assert settings.help_hours[0].label("en") == "Monday – Friday: 18:00–20:00"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ("[catalog]\noverrid = 'x'\n", "'catalog.overrid'"),
        ("[palette]\ncolour = 'red'\n", "'palette'"),
        ("[portal]\nclient_hours = 'twelve'\n", "'portal.client_hours' must be a whole number"),
        ("[portal]\nclient_hours = true\n", "'portal.client_hours' must be a whole number"),
        ("[catalog]\noverride = 3\n", "'catalog.override' must be a path"),
        ("[portal]\nclient_hours = 0\n", "'portal.client_hours'"),
        ("[relay]\nupstream_url = 'ftp://x'\n", "'relay.upstream_url'"),
        ("[relay]\nwindow = '22h-6h'\n", "'relay.window'"),
        ("[relay]\nwindow = '22:00-22:00'\n", "'relay.window'"),
        ("[relay]\npoll_seconds = 0\n", "'relay.poll_seconds'"),
        ("[relay]\nbackoff_base_seconds = 50\nbackoff_cap_seconds = 10\n", "'relay.backoff"),
        ("[relay]\nmax_kbps = -1\n", "'relay.max_kbps'"),
        ("[intake]\nmin_free_mb = -5\n", "'intake.min_free_mb'"),
    ],
)
def test_bad_file_names_key_and_file(tmp_path: Path, extra: str, needle: str) -> None:
    path = write_settings(tmp_path, extra)
    with pytest.raises(SettingsError) as err:
        config.load(path, environ={})
    assert needle in str(err.value)
    assert str(path) in str(err.value)


def test_section_that_is_not_a_table(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("box = 'x'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="'box' must be a table"):
        config.load(path, environ={})


def test_duplicate_table_is_a_toml_error(tmp_path: Path) -> None:
    path = write_settings(tmp_path, "\n[web]\nport = 1\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        config.load(path, environ={})


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("HAMLETBOX_WEB__PROT", "1", "HAMLETBOX_WEB__PROT"),
        ("HAMLETBOX_WEB__PORT", "eighty", "HAMLETBOX_WEB__PORT"),
        ("HAMLETBOX_WEB", "1", "HAMLETBOX_WEB"),
        ("HAMLETBOX_WEB__PORT", "70000", "'web.port'"),
        ("HAMLETBOX_HOTSPOT__PASSWORD", "short", "'hotspot.password'"),
        ("HAMLETBOX_HELP__HOURS", '["someday 8-9"]', "'help.hours'"),
    ],
)
def test_bad_environment_is_named(settings_file: Path, var: str, value: str, needle: str) -> None:
    with pytest.raises(SettingsError) as err:
        config.load(settings_file, environ={var: value})
    assert needle in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        config.load(tmp_path / "nope.toml", environ={})


def test_config_check_masks_secrets(
    settings_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "check", str(settings_file)]) == 0
    out = capsys.readouterr().out
    assert "mat-khau-thon-1" not in out and "test-secret-key" not in out
    effective = json.loads(out.split("\n", 1)[1])
    assert effective["hotspot"]["password"] == config.MASK
    assert effective["box"]["hamlet"] == "Thôn Xà Bang 1"


def test_config_check_exits_2_naming_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_settings(tmp_path, "[portal]\nclient_hourz = 3\n")
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "portal.client_hourz" in err and str(path) in err


def test_config_check_missing_file_exits_2(tmp_path: Path) -> None:
    assert main(["config", "check", str(tmp_path / "missing.toml")]) == 2


def test_data_dir_is_private(settings: config.Settings) -> None:
    settings.data_dir.mkdir(mode=0o755)
    config.prepare_data_dir(settings)
    assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700


def test_web_on_a_taken_port_says_so(
    settings_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["--config", str(settings_file), "web", "--port", str(port)])
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_upstream_variables_are_not_box_settings(settings_file: Path) -> None:
    """The upstream server's HAMLETBOX_UPSTREAM_* variables may share an environment with a box."""
    env = {"HAMLETBOX_UPSTREAM_DB": "sqlite:///x.sqlite3", "HAMLETBOX_RELAY__WINDOW": "22:00-06:00"}
    settings = config.load(settings_file, environ=env)
    window = settings.sending_window
    assert window is not None and window.start.hour == 22 and window.end.hour == 6
