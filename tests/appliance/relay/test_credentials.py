"""The device's credentials file: written whole and private, read back, or refused plainly."""

from __future__ import annotations

import dataclasses
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from appliance.config import Settings
from appliance.relay.credentials import (
    CredentialsError,
    DeviceCredentials,
    check_writable,
    credentials_path,
    load_credentials,
    save_credentials,
    upstream_url,
)

CREDS = DeviceCredentials(
    upstream_url="https://motcua.example.vn/hop-thu",
    device_id="hb-Zq3kP0aQx9",
    secret="s3cr3t-" + "x" * 40,
    hamlet="Thôn Xà Bang 1",
    enrolled_at="2025-03-01T08:00:00+00:00",
)


def with_relay(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, relay=dataclasses.replace(settings.relay, **changes))


@pytest.fixture
def device_file(tmp_path: Path) -> Path:
    return tmp_path / "etc" / "hamletbox" / "device.json"


@pytest.fixture
def box(settings: Settings, device_file: Path) -> Settings:
    return with_relay(settings, device_file=device_file)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_saved_file_is_private_and_reads_back(box: Settings, device_file: Path) -> None:
    save_credentials(device_file, CREDS)
    assert mode(device_file) == 0o600
    assert mode(device_file.parent) == 0o700
    assert load_credentials(box, environ={}) == CREDS
    assert json.loads(device_file.read_text(encoding="utf-8"))["hamlet"] == "Thôn Xà Bang 1"
    assert [p.name for p in device_file.parent.iterdir()] == ["device.json"]


def test_saving_again_replaces_the_whole_file(box: Settings, device_file: Path) -> None:
    save_credentials(device_file, CREDS)
    moved = dataclasses.replace(CREDS, device_id="hb-another-one", secret="y" * 43)
    save_credentials(device_file, moved)
    assert load_credentials(box, environ={}) == moved
    assert mode(device_file) == 0o600


def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    save_credentials(folder / "device.json", CREDS)
    assert mode(folder) == 0o755
    assert mode(folder / "device.json") == 0o600


def test_not_enrolled_is_none(box: Settings) -> None:
    assert load_credentials(box, environ={}) is None


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        json.dumps({"device_id": "hb-Zq3kP0aQx9", "secret": "x"}),
        json.dumps({**dataclasses.asdict(CREDS), "secret": ""}),
        json.dumps({**dataclasses.asdict(CREDS), "hamlet": 7}),
    ],
)
def test_a_broken_file_is_an_error_naming_it(box: Settings, device_file: Path, text: str) -> None:
    device_file.parent.mkdir(parents=True)
    device_file.write_text(text, encoding="utf-8")
    with pytest.raises(CredentialsError, match="enroll again") as caught:
        load_credentials(box, environ={})
    assert str(device_file) in str(caught.value)
    assert "x" * 10 not in str(caught.value)


def test_an_unreadable_file_is_an_error(box: Settings, device_file: Path) -> None:
    device_file.mkdir(parents=True)  # a folder where the file should be
    with pytest.raises(CredentialsError, match="cannot read the device credentials"):
        load_credentials(box, environ={})


def test_systemd_credential_is_preferred(box: Settings, device_file: Path, tmp_path: Path) -> None:
    save_credentials(device_file, CREDS)
    given = tmp_path / "credentials"
    given.mkdir()
    other = dataclasses.replace(CREDS, device_id="hb-from-systemd")
    (given / "device.json").write_text(json.dumps(dataclasses.asdict(other)), encoding="utf-8")
    environ = {"CREDENTIALS_DIRECTORY": str(given)}
    assert credentials_path(box, environ) == given / "device.json"
    assert load_credentials(box, environ) == other


def test_systemd_credential_from_the_process_environment(
    box: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = tmp_path / "credentials"
    save_credentials(given / "device.json", CREDS)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(given))
    assert load_credentials(box) == CREDS


def test_credentials_directory_without_the_file_falls_back(
    box: Settings, device_file: Path, tmp_path: Path
) -> None:
    save_credentials(device_file, CREDS)
    environ = {"CREDENTIALS_DIRECTORY": str(tmp_path / "empty")}
    assert credentials_path(box, environ) == device_file
    assert load_credentials(box, environ) == CREDS


def test_settings_may_move_the_upstream(box: Settings) -> None:
    assert upstream_url(box, CREDS) == "https://motcua.example.vn/hop-thu"
    moved = with_relay(box, upstream_url="https://10.0.0.5:8443")
    assert upstream_url(moved, CREDS) == "https://10.0.0.5:8443"


def test_check_writable_leaves_nothing_behind(device_file: Path) -> None:
    check_writable(device_file)
    assert mode(device_file.parent) == 0o700
    assert list(device_file.parent.iterdir()) == []


def test_a_folder_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "etc"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    target = blocker / "hamletbox" / "device.json"
    with pytest.raises(CredentialsError, match="cannot write the device credentials") as caught:
        save_credentials(target, CREDS)
    assert str(target) in str(caught.value)
