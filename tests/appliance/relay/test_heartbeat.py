"""The heartbeat: the box's health as the district's fleet page reads it, never a guessed figure."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from appliance.config import Settings
from appliance.relay.client import software_version
from appliance.relay.heartbeat import heartbeat_body, modem_signal, send_heartbeat
from appliance.services import Services
from appliance.store.outbox_repo import OutboxRepo, OutboxStats
from tests.appliance.relay.helpers import at, enrolled_client, queue_dossier
from tests.support.upstream_server import running_upstream
from upstream.db import open_store
from upstream.settings import UpstreamSettings
from upstream.tables import Device, Heartbeat

NOW = at(1_760_000_000)
STATS = OutboxStats(3, 7200, 1, 2, None)


def test_the_body_has_every_figure_of_the_contract(settings: Settings, tmp_path: Path) -> None:
    settings.runtime_dir.mkdir(parents=True)
    (settings.runtime_dir / "modem.json").write_text('{"signal_dbm": -71}')
    settings.data_dir.mkdir(parents=True)
    uptime = tmp_path / "uptime"
    uptime.write_text("12345.67 54321.00\n")
    body = heartbeat_body(settings, STATS, proc_uptime=uptime)
    assert body == {
        "software_version": software_version(),
        "queue_depth": 3,
        "oldest_undelivered_seconds": 7200,
        "disk_free_bytes": body["disk_free_bytes"],
        "modem_signal_dbm": -71,
        "uptime_seconds": 12345,
        "rejected": 1,
        "conflicts": 2,
    }
    assert isinstance(body["disk_free_bytes"], int) and body["disk_free_bytes"] > 0
    assert len(body["software_version"]) <= 32


def test_what_the_box_cannot_know_is_null(settings: Settings, tmp_path: Path) -> None:
    body = heartbeat_body(settings, STATS, proc_uptime=tmp_path / "no-uptime")
    assert (body["modem_signal_dbm"], body["uptime_seconds"], body["disk_free_bytes"]) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"signal_dbm": -89}', -89),
        ('{"signal_dbm": -88.6}', -89),
        ('{"signal_dbm": null}', None),
        ('{"signal_dbm": true}', None),
        ('{"signal_dbm": "-70"}', None),
        ("[1]", None),
        ("{broken", None),
    ],
)
def test_the_modem_file_is_read_only_when_it_makes_sense(
    tmp_path: Path, text: str, expected: int | None
) -> None:
    (tmp_path / "modem.json").write_text(text)
    assert modem_signal(tmp_path) == expected


def test_a_heartbeat_shows_on_the_upstream(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    queue_dossier(services, "a", NOW, pages=1)
    upstream = UpstreamSettings(db_url=f"sqlite:///{tmp_path / 'upstream.sqlite3'}")
    with running_upstream(upstream) as url:
        client = enrolled_client(url, upstream)
        try:
            stats = OutboxRepo(services.sessions, services.blobs).stats(NOW + timedelta(hours=1))
            send_heartbeat(client, heartbeat_body(settings, stats))
        finally:
            client.close()
    engine, sessions = open_store(upstream.db_url)
    try:
        with sessions() as session:
            (beat,) = session.scalars(select(Heartbeat)).all()
            device = session.scalars(select(Device)).one()
    finally:
        engine.dispose()
    assert beat.body["queue_depth"] == 1
    assert beat.body["oldest_undelivered_seconds"] == 3600
    assert device.software_version == software_version()[:32]
    assert json.loads(json.dumps(beat.body)) == beat.body
