"""`hamletbox doctor`'s checks on the box's own state, each healthy and failing, with the real
fakes: runtime files written as the daemons write them, the folder camera, the FakeModem over a
pty, a command runner standing in for vcgencmd, a temporary leases file."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from appliance.capture.camera import Camera, FolderCamera, open_camera
from appliance.config import Settings
from appliance.doctor import Check, Probes, run_checks
from appliance.doctor.checks import (
    check_camera,
    check_disk,
    check_hotspot,
    check_modem,
    check_queue,
    check_services,
    check_version,
)
from appliance.doctor.run import NAMES
from appliance.doctor.thermal import check_temperature, decode_throttled
from appliance.hardware.fakes import FakeModem
from appliance.hardware.modem import open_modem
from appliance.hardware.modem_api import ModemStatus
from appliance.liveness import write_beat
from appliance.relay.modem_status import write_status
from appliance.relay.transport import software_version
from appliance.services import Services
from appliance.store.outbox_repo import OutboxStats


@pytest.fixture
def now() -> datetime:
    """This test's moment: the runtime files it writes are fresh against it."""
    return datetime.now(UTC)


def changed(settings: Settings, section: str, **values: Any) -> Settings:
    part = dataclasses.replace(getattr(settings, section), **values)
    return dataclasses.replace(settings, **{section: part})


def beat(settings: Settings, name: str, document: dict[str, Any], now: datetime) -> None:
    write_beat(settings.runtime_dir / name, document, now)


def relay_beat(settings: Settings, now: datetime, **fields: Any) -> None:
    document = {"uplink": "online", "last_ok_at": now.isoformat(), "clock_offset": 0.0}
    beat(settings, "relay.json", {**document, **fields}, now)


def all_beats(settings: Settings, now: datetime, camera: str = "off") -> None:
    beat(settings, "web.json", {"camera": camera}, now)
    relay_beat(settings, now)
    leds = {"green": "slow", "blue": "on", "amber": "off", "red": "off"}
    beat(settings, "panel.json", {"leds": leds, "reasons": []}, now)


def dead_pid() -> int:
    """The pid of a process that has ended: its files must read as a stopped daemon."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def photos(folder: Path, count: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        pixels = np.full((120, 160, 3), 40 * n, dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"page-{n}.png")
    return folder


# services


def test_services_pass_while_every_daemon_beats(now: datetime, settings: Settings) -> None:
    all_beats(settings, now)
    check = check_services(settings, now)
    assert check.ok and check.name == "services"


def test_services_name_what_is_down(now: datetime, settings: Settings) -> None:
    all_beats(settings, now)
    (settings.runtime_dir / "panel.json").unlink()
    check = check_services(settings, now)
    assert not check.ok and "panel" in check.detail and "web" not in check.detail


def test_a_stale_beat_or_one_left_by_a_dead_process_is_down(
    now: datetime, settings: Settings
) -> None:
    all_beats(settings, now)
    beat(settings, "web.json", {"camera": "ok"}, now - timedelta(minutes=5))
    relay = {"uplink": "online", "pid": dead_pid(), "updated_at": now.isoformat()}
    (settings.runtime_dir / "relay.json").write_text(json.dumps(relay))
    check = check_services(settings, now)
    assert not check.ok and "web, relay" in check.detail and "panel" not in check.detail


# camera


def no_opening(settings: Settings) -> Camera | None:
    raise AssertionError("the camera must not be opened while the web holds it")


@pytest.mark.parametrize(("said", "ok"), [("ok", True), ("off", True), ("missing", False)])
def test_the_camera_is_what_the_running_web_says(
    now: datetime, settings: Settings, said: str, ok: bool
) -> None:
    beat(settings, "web.json", {"camera": said}, now)
    check = check_camera(settings, now, opener=no_opening)
    assert check.ok is ok


def test_without_the_web_and_without_a_camera_there_is_nothing_to_fix(
    now: datetime, settings: Settings
) -> None:
    check = check_camera(settings, now, opener=open_camera)
    assert check.ok and "no camera configured" in check.detail


def test_without_the_web_the_folder_camera_takes_a_test_capture(
    now: datetime, settings: Settings, tmp_path: Path
) -> None:
    folder = photos(tmp_path / "camera")
    box = changed(settings, "camera", backend="folder", folder=folder)
    check = check_camera(box, now, opener=open_camera)
    assert check.ok and "160×120" in check.detail


def test_a_configured_camera_that_does_not_open_fails(
    now: datetime, settings: Settings, tmp_path: Path
) -> None:
    box = changed(settings, "camera", backend="folder", folder=tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    check = check_camera(box, now, opener=open_camera)
    assert not check.ok and "did not open" in check.detail


def test_the_camera_this_process_holds_takes_the_test_capture(
    now: datetime, settings: Settings, tmp_path: Path
) -> None:
    beat(settings, "web.json", {"camera": "missing"}, now)
    held = FolderCamera(photos(tmp_path / "camera"))
    check = check_camera(settings, now, held=held, opener=no_opening)
    assert check.ok and "test capture 160×120" in check.detail


# modem


def test_no_modem_configured_is_not_fitted(now: datetime, settings: Settings) -> None:
    check = check_modem(settings, now, opener=open_modem)
    assert check.ok and "not fitted" in check.detail


def test_without_the_relay_the_modem_is_asked_directly(
    now: datetime, settings: Settings, fake: FakeModem
) -> None:
    box = changed(settings, "modem", url=fake.path, timeout_seconds=2)
    check = check_modem(box, now, opener=open_modem)
    assert check.ok, check.detail
    assert "SIM: ready" in check.detail and "home" in check.detail and "dBm" in check.detail
    assert any(command.startswith("AT+CSQ") for command in fake.commands)


def test_a_modem_without_a_sim_fails(now: datetime, settings: Settings) -> None:
    with FakeModem(sim="absent") as fake:
        box = changed(settings, "modem", url=fake.path, timeout_seconds=2)
        check = check_modem(box, now, opener=open_modem)
    assert not check.ok and "SIM: absent" in check.detail


def test_a_modem_port_that_is_not_there_fails_in_plain_words(
    now: datetime, settings: Settings, tmp_path: Path
) -> None:
    box = changed(settings, "modem", url=str(tmp_path / "ttyUSB9"))
    check = check_modem(box, now, opener=open_modem)
    assert not check.ok and "Cannot open the modem port" in check.detail


def test_while_the_relay_runs_its_modem_report_is_read(now: datetime, settings: Settings) -> None:
    box = changed(settings, "modem", url="/dev/ttyHAMLETMODEM")
    relay_beat(box, now)
    write_status(box.runtime_dir, ModemStatus("ready", "home", -71, "Viettel"), now, None)
    check = check_modem(box, now, opener=lambda s: pytest.fail("the relay holds the modem"))
    assert check.ok and "Viettel" in check.detail and "-71 dBm" in check.detail
    write_status(box.runtime_dir, None, now, "Chưa lắp SIM / No SIM")
    check = check_modem(box, now, opener=open_modem)
    assert not check.ok and check.detail == "Chưa lắp SIM / No SIM"
    old = now - timedelta(hours=1)
    write_status(box.runtime_dir, ModemStatus("ready", "home", -71), old, None)
    check = check_modem(box, now, opener=open_modem)
    assert not check.ok and "no modem report for" in check.detail


# queue, disk, hotspot, version


def test_a_queue_that_moves_passes() -> None:
    check = check_queue(OutboxStats(2, 3600, 0, 0, None))
    assert check.ok and "2 hồ sơ chờ gửi" in check.detail and "1 giờ / h" in check.detail


@pytest.mark.parametrize(
    "stats",
    [OutboxStats(1, 25 * 3600, 0, 0, None), OutboxStats(0, None, 1, 0, None)],
    ids=["waits-over-a-day", "refused"],
)
def test_a_stuck_or_refused_queue_fails(stats: OutboxStats) -> None:
    assert not check_queue(stats).ok


def test_the_disk_is_measured_against_the_intake_floor(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    assert check_disk(changed(settings, "intake", min_free_mb=0)).ok
    check = check_disk(changed(settings, "intake", min_free_mb=10**9))
    assert not check.ok and "nearly full" in check.detail


def leases(path: Path, now: datetime, live: int, expired: int = 0) -> Path:
    future, past = int(now.timestamp()) + 3600, int(now.timestamp()) - 3600
    lines = [f"{future} aa:bb:cc:00:00:{n:02x} 10.42.0.{10 + n} phone{n} *" for n in range(live)]
    lines += [f"{past} aa:bb:cc:00:01:{n:02x} 10.42.0.{90 + n} old{n} *" for n in range(expired)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_hotspot_clients_under_the_limit_pass(
    now: datetime, settings: Settings, tmp_path: Path
) -> None:
    box = changed(settings, "hotspot", leases_file=leases(tmp_path / "l", now, 3, expired=6))
    check = check_hotspot(box, now)
    assert check.ok and "3/8" in check.detail


def test_hotspot_at_the_limit_advises_an_external_access_point(
    now: datetime, settings: Settings, tmp_path: Path
) -> None:
    box = changed(settings, "hotspot", leases_file=leases(tmp_path / "l", now, 8))
    check = check_hotspot(box, now)
    assert not check.ok and "8/8" in check.detail and "external access point" in check.detail


def test_no_leases_file_is_no_hotspot_here(
    now: datetime, settings: Settings, tmp_path: Path
) -> None:
    check = check_hotspot(changed(settings, "hotspot", leases_file=tmp_path / "none"), now)
    assert check.ok and "no hotspot leases here" in check.detail


def test_the_version_is_the_installed_one() -> None:
    assert check_version() == Check("version", True, software_version())


# temperature and throttling


def vcgencmd(temp: str | None, throttled: str | None) -> Any:
    said = {"measure_temp": temp, "get_throttled": throttled}

    def run(argv: Sequence[str]) -> str | None:
        assert argv[0] == "vcgencmd"
        return said[argv[1]]

    return run


def test_a_cool_pi_that_never_throttled_passes(tmp_path: Path) -> None:
    check = check_temperature(vcgencmd("temp=48.3'C\n", "throttled=0x0\n"), tmp_path / "zone")
    assert check.ok and "48.3 °C" in check.detail and "normal" in check.detail


def test_under_voltage_now_fails_and_since_boot_is_told(tmp_path: Path) -> None:
    check = check_temperature(vcgencmd("temp=51.0'C", "throttled=0x50005"), tmp_path / "zone")
    assert not check.ok
    now, since = check.detail.split("since boot")
    assert "under-voltage" in now and "throttled" in now and "under-voltage" in since


def test_throttling_only_in_the_past_passes(tmp_path: Path) -> None:
    check = check_temperature(vcgencmd("temp=51.0'C", "throttled=0x50000"), tmp_path / "zone")
    assert check.ok and "since boot" in check.detail


def test_over_eighty_degrees_fails(tmp_path: Path) -> None:
    check = check_temperature(vcgencmd("temp=81.2'C", "throttled=0x0"), tmp_path / "zone")
    assert not check.ok and "too hot" in check.detail


def test_without_vcgencmd_the_thermal_zone_is_read(tmp_path: Path) -> None:
    zone = tmp_path / "temp"
    zone.write_text("51234\n")
    assert check_temperature(vcgencmd(None, None), zone).ok
    zone.write_text("85000\n")
    check = check_temperature(vcgencmd(None, None), zone)
    assert not check.ok and "85.0 °C" in check.detail


def test_nothing_to_measure_is_said_and_passes(tmp_path: Path) -> None:
    check = check_temperature(vcgencmd(None, None), tmp_path / "none")
    assert check.ok and "not measurable here" in check.detail


def test_the_throttled_bits_decode() -> None:
    now, since, bad = decode_throttled(0x80008)
    assert now == ["chạm ngưỡng nhiệt mềm / soft temperature limit"] and bad
    assert since == ["chạm ngưỡng nhiệt mềm / soft temperature limit"]
    assert decode_throttled(0x2) == (["giảm xung nhịp / frequency capped"], [], False)


# all together


def test_run_checks_runs_each_check_once_in_order(
    now: datetime, settings: Settings, services: Services, tmp_path: Path
) -> None:
    all_beats(settings, now)
    probes = Probes(run=vcgencmd(None, None), thermal_zone=tmp_path / "none", environ={})
    box = changed(settings, "hotspot", leases_file=tmp_path / "x")
    box = changed(box, "relay", device_file=tmp_path / "device.json")
    found = run_checks(box, services.sessions, probes)
    assert [check.name for check in found] == list(NAMES)
    by_name = {check.name: check for check in found}
    assert by_name["services"].ok and by_name["queue"].ok and by_name["disk"].ok
    assert not by_name["upstream"].ok and "hamletbox enroll" in by_name["upstream"].detail


def test_an_exception_in_a_check_fails_only_that_check(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    def broken(settings: Settings) -> Camera | None:
        raise RuntimeError("ribbon cable loose")

    box = changed(settings, "camera", backend="folder", folder=tmp_path)
    probes = Probes(run=vcgencmd(None, None), open_camera=broken, environ={})
    found = {check.name: check for check in run_checks(box, services.sessions, probes)}
    assert not found["camera"].ok and "ribbon cable loose" in found["camera"].detail
    assert found["version"].ok and found["temperature"].ok and len(found) == len(NAMES)


def test_a_check_that_hangs_is_cut_off_and_the_others_report(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    release = threading.Event()

    def hangs(settings: Settings) -> Camera | None:
        release.wait(60)
        return None

    box = changed(settings, "camera", backend="folder", folder=tmp_path)
    probes = Probes(run=vcgencmd(None, None), open_camera=hangs, environ={}, timeout=2)
    try:
        found = {check.name: check for check in run_checks(box, services.sessions, probes)}
    finally:
        release.set()
    assert not found["camera"].ok and "did not finish" in found["camera"].detail
    assert found["version"].ok and found["queue"].ok


def test_without_a_store_the_queue_check_says_so(settings: Settings, tmp_path: Path) -> None:
    probes = Probes(run=vcgencmd(None, None), environ={})
    found = {check.name: check for check in run_checks(settings, None, probes)}
    assert not found["queue"].ok and "no store at" in found["queue"].detail
