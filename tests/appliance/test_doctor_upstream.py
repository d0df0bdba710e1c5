"""The upstream and clock checks against a real upstream on loopback, and `hamletbox doctor`
itself: its table, its JSON and its exit status."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from appliance.box_state import CLOCK_FLOOR
from appliance.config import Settings
from appliance.doctor import Probes, run_command
from appliance.doctor.upstream import check_clock, check_upstream
from appliance.relay.enroll import enroll_command
from tests.appliance.test_doctor import all_beats, changed, relay_beat, vcgencmd
from tests.support.processes import clean_env, hamletbox_command
from tests.support.upstream_server import make_token, running_upstream
from upstream.db import open_store
from upstream.settings import UpstreamSettings
from upstream.tables import Device


@pytest.fixture
def now() -> datetime:
    """This test's moment: the runtime files it writes are fresh against it."""
    return datetime.now(UTC)


@pytest.fixture
def box(settings: Settings, tmp_path: Path) -> Settings:
    """The sample box with its own credentials file (never /etc's) and no hotspot leases."""
    box = changed(settings, "relay", device_file=tmp_path / "device.json")
    return changed(box, "hotspot", leases_file=tmp_path / "no-leases")


@pytest.fixture
def upstream(tmp_path: Path) -> UpstreamSettings:
    return UpstreamSettings(db_url=f"sqlite:///{tmp_path / 'upstream.sqlite3'}")


@pytest.fixture
def enrolled(box: Settings, upstream: UpstreamSettings) -> Iterator[str]:
    """The box enrolled with a real upstream serving on loopback: its URL."""
    with running_upstream(upstream) as url:
        assert enroll_command(box, url, make_token(upstream)) == 0
        yield url


def test_not_enrolled_says_how_to_enroll(now: datetime, box: Settings) -> None:
    result = check_upstream(box, now, 0, environ={})
    assert not result.check.ok and "hamletbox enroll --upstream" in result.check.detail
    assert result.clock_offset is None


def test_broken_credentials_are_told(now: datetime, box: Settings) -> None:
    box.relay.device_file.write_text("{not json")
    result = check_upstream(box, now, 0, environ={})
    assert not result.check.ok and "cần đăng ký lại" in result.check.detail


def test_an_enrolled_box_reaches_its_upstream(now: datetime, box: Settings, enrolled: str) -> None:
    relay_beat(box, now, last_ok_at=(now - timedelta(minutes=5)).isoformat())
    result = check_upstream(box, now, 2, environ={})
    assert result.check.ok, result.check.detail
    assert "HTTP 200" in result.check.detail and "5 phút trước" in result.check.detail
    assert result.clock_offset is not None and abs(result.clock_offset) < 60


def test_no_delivery_for_an_hour_while_dossiers_wait_fails(
    now: datetime, box: Settings, enrolled: str
) -> None:
    relay_beat(box, now, last_ok_at=(now - timedelta(hours=2)).isoformat())
    assert check_upstream(box, now, 0, environ={}).check.ok
    result = check_upstream(box, now, 3, environ={})
    assert not result.check.ok and "3 hồ sơ đang chờ" in result.check.detail


def test_an_upstream_that_is_down_fails(
    now: datetime, box: Settings, upstream: UpstreamSettings
) -> None:
    with running_upstream(upstream) as url:
        assert enroll_command(box, url, make_token(upstream)) == 0
    result = check_upstream(box, now, 0, environ={})
    assert not result.check.ok and "cannot be reached" in result.check.detail


def test_a_revoked_box_is_refused(
    now: datetime, box: Settings, upstream: UpstreamSettings, enrolled: str
) -> None:
    engine, sessions = open_store(upstream.db_url)
    try:
        with sessions.begin() as session:
            session.execute(update(Device).values(revoked_at=now))
    finally:
        engine.dispose()
    result = check_upstream(box, now, 0, environ={})
    assert not result.check.ok
    assert "HTTP 403" in result.check.detail and "revoked" in result.check.detail


def test_the_clock_is_compared_with_the_upstreams(
    now: datetime, box: Settings, upstream: UpstreamSettings
) -> None:
    with running_upstream(upstream, clock=lambda: time.time() + 1000) as url:
        assert enroll_command(box, url, make_token(upstream, now=time.time() + 1000)) == 0
        now = datetime.now(UTC)
        result = check_upstream(box, now, 0, environ={})
    assert result.check.ok, result.check.detail
    assert result.clock_offset is not None and 990 < result.clock_offset < 1010
    check = check_clock(box, now, result.clock_offset)
    assert not check.ok and "The box's clock is" in check.detail
    assert check_clock(box, now, 2.0).ok


def test_a_clock_never_set_fails(box: Settings) -> None:
    check = check_clock(box, CLOCK_FLOOR - timedelta(days=400), None)
    assert not check.ok and "not set" in check.detail


def test_without_an_upstream_answer_the_relays_offset_is_used(now: datetime, box: Settings) -> None:
    check = check_clock(box, now, None)
    assert check.ok and "not compared" in check.detail
    relay_beat(box, now, clock_offset=-900.0)
    check = check_clock(box, now, None)
    assert not check.ok and "900" in check.detail


# the command


def test_doctor_exits_0_when_everything_passes(
    now: datetime, box: Settings, enrolled: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    all_beats(box, now)
    probes = Probes(run=vcgencmd("temp=45.0'C", "throttled=0x0"), environ={})
    assert run_command(box, as_json=False, probes=probes) == 1  # no store yet: the queue fails
    from appliance.services import build

    build(box, devices=False).close()
    capsys.readouterr()
    assert run_command(box, as_json=True, probes=probes) == 0
    document = json.loads(capsys.readouterr().out)
    assert [check["ok"] for check in document["checks"]] == [True] * 10
    assert run_command(box, as_json=False, probes=probes) == 0
    table = capsys.readouterr().out
    assert "✓ upstream" in table and "All checks passed" in table and "✗" not in table


def test_hamletbox_doctor_json_names_the_failures(settings_file: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [*hamletbox_command(settings_file), "doctor", "--json"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert set(checks) >= {"services", "camera", "modem", "upstream", "queue", "disk"}
    assert not checks["services"]["ok"] and "web, relay, panel" in checks["services"]["detail"]
    assert checks["version"]["ok"] and all(
        set(c) == {"name", "ok", "detail"} for c in checks.values()
    )
