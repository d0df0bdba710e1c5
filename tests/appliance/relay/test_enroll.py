"""`hamletbox enroll` end to end: a real upstream, the command in a subprocess, the real file."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from appliance import config
from appliance.relay.client import UpstreamClient, enroll
from appliance.relay.credentials import load_credentials
from tests.conftest import write_settings
from tests.support.upstream_server import UpstreamServer, make_token

HAMLET = "Thôn Xà Bang 1"


@pytest.fixture
def device_file(tmp_path: Path) -> Path:
    return tmp_path / "etc" / "hamletbox" / "device.json"


@pytest.fixture
def box_settings(tmp_path: Path, device_file: Path) -> Path:
    return write_settings(tmp_path, f'\n[relay]\ndevice_file = "{device_file}"\n')


def hamletbox(
    settings_file: Path, *args: str, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("hamletbox")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "appliance.cli"]
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("HAMLETBOX_")
        and name not in ("CREDENTIALS_DIRECTORY", "NOTIFY_SOCKET")
    }
    return subprocess.run(
        [*prefix, *command, "--config", str(settings_file), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def enroll_box(
    settings_file: Path, url: str, token: str, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    # --token=T: a token may start with "-", which argparse would take for an option
    return hamletbox(settings_file, "enroll", "--upstream", url, f"--token={token}", prefix=prefix)


def token_still_works(upstream: UpstreamServer, token: str) -> bool:
    reply = enroll(upstream.url, token, hostname="probe", software_version="0", timeout=5)
    return reply.status == 201


def test_enrolment_writes_a_private_file_and_the_box_can_talk(
    upstream: UpstreamServer, box_settings: Path, device_file: Path
) -> None:
    done = enroll_box(box_settings, upstream.url, make_token(upstream.settings, HAMLET))
    assert done.returncode == 0, done.stderr
    saved = json.loads(device_file.read_text(encoding="utf-8"))
    assert done.stdout.splitlines()[0] == (
        f"đã đăng ký thiết bị {saved['device_id']} cho {HAMLET}"
        f" / enrolled device {saved['device_id']} for {HAMLET}"
    )
    assert saved["secret"] not in done.stdout + done.stderr
    assert stat.S_IMODE(device_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(device_file.parent.stat().st_mode) == 0o700
    assert device_file.stat().st_uid == os.geteuid()
    assert saved["upstream_url"] == upstream.url and saved["hamlet"] == HAMLET
    assert sorted(saved) == ["device_id", "enrolled_at", "hamlet", "secret", "upstream_url"]

    creds = load_credentials(config.load(box_settings, environ={}), environ={})
    assert creds is not None and creds.device_id == saved["device_id"]
    client = UpstreamClient(creds.upstream_url, creds.device_id, creds.secret, timeout=10)
    assert client.heartbeat({"software_version": "0.1.0", "queue_depth": 0}).status == 200
    client.close()


def test_a_second_enrolment_is_refused_and_spends_nothing(
    upstream: UpstreamServer, box_settings: Path, device_file: Path
) -> None:
    assert enroll_box(box_settings, upstream.url, make_token(upstream.settings)).returncode == 0
    before = device_file.read_bytes()
    token = make_token(upstream.settings)
    again = enroll_box(box_settings, upstream.url, token)
    assert again.returncode == 1
    assert "đã đăng ký rồi" in again.stderr and "already enrolled" in again.stderr
    assert str(device_file) in again.stderr
    assert device_file.read_bytes() == before
    assert token_still_works(upstream, token)


def test_a_bad_token_exits_2_and_writes_nothing(
    upstream: UpstreamServer, box_settings: Path, device_file: Path
) -> None:
    done = enroll_box(box_settings, upstream.url, "not-a-token-of-this-upstream")
    assert done.returncode == 2
    assert "mã đăng ký không đúng" in done.stderr and "token is wrong" in done.stderr
    assert "Traceback" not in done.stderr
    assert not device_file.exists()


def test_an_unreachable_upstream_exits_1(box_settings: Path, device_file: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    done = enroll_box(box_settings, url, "t" * 32)
    assert done.returncode == 1
    assert (
        "không kết nối được" in done.stderr and f"cannot reach the upstream at {url}" in done.stderr
    )
    assert "Traceback" not in done.stderr
    assert not device_file.exists()


def test_a_bad_url_exits_2(box_settings: Path) -> None:
    done = enroll_box(box_settings, "motcua.example.vn", "t" * 32)
    assert done.returncode == 2
    assert "https://host[:port][/path]" in done.stderr


def test_a_folder_it_cannot_write_is_named_before_the_token_is_spent(
    upstream: UpstreamServer, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    device_file = locked / "device.json"
    settings_file = write_settings(tmp_path, f'\n[relay]\ndevice_file = "{device_file}"\n')
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:  # root writes anywhere: drop the powers that let it
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("setpriv (util-linux) is needed to test as root")
        prefix = (setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--")
    token = make_token(upstream.settings)
    done = enroll_box(settings_file, upstream.url, token, prefix=prefix)
    assert done.returncode == 1
    assert str(device_file) in done.stderr and "run as root" in done.stderr
    assert not device_file.exists()
    assert token_still_works(upstream, token)


def test_a_token_file_enrolls_without_the_token_on_the_command_line(
    upstream: UpstreamServer, box_settings: Path, device_file: Path, tmp_path: Path
) -> None:
    token = make_token(upstream.settings, HAMLET)
    token_file = tmp_path / "enroll-token"
    token_file.write_text(f"  {token}\n", encoding="utf-8")  # as an editor or the card leaves it
    done = hamletbox(
        box_settings, "enroll", "--upstream", upstream.url, "--token-file", str(token_file)
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(device_file.read_text(encoding="utf-8"))["hamlet"] == HAMLET
    assert not token_still_works(upstream, token)


@pytest.mark.parametrize(
    ("content", "message"),
    [("\n \n", "tệp mã đăng ký trống / the token file is empty"), (None, "token file not found")],
)
def test_an_empty_or_missing_token_file_exits_2_and_spends_nothing(
    upstream: UpstreamServer,
    box_settings: Path,
    device_file: Path,
    tmp_path: Path,
    content: str | None,
    message: str,
) -> None:
    token_file = tmp_path / "enroll-token"
    if content is not None:
        token_file.write_text(content, encoding="utf-8")
    done = hamletbox(
        box_settings, "enroll", "--upstream", upstream.url, "--token-file", str(token_file)
    )
    assert done.returncode == 2
    assert message in done.stderr and str(token_file) in done.stderr
    assert "Traceback" not in done.stderr
    assert not device_file.exists()


def test_token_and_token_file_together_are_refused(box_settings: Path, tmp_path: Path) -> None:
    token_file = tmp_path / "enroll-token"
    token_file.write_text("t" * 32, encoding="utf-8")
    done = hamletbox(
        box_settings,
        "enroll",
        "--upstream",
        "https://motcua.example.vn",
        "--token=" + "t" * 32,
        "--token-file",
        str(token_file),
    )
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr
