"""The heartbeat: the box's health as the district's fleet page reads it, never a guessed figure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from appliance.config import Settings
from appliance.relay.client import software_version
from appliance.relay.daemon import Relay
from appliance.relay.heartbeat import heartbeat_body, modem_signal, send_heartbeat
from appliance.services import Services
from appliance.store.outbox_repo import OutboxRepo, OutboxStats
from appliance.store.reports_repo import ReportsRepo
from appliance.store.tables import Assistance
from tests.appliance.relay.helpers import FakeClient, at, enrolled_client, queue_dossier
from tests.support.upstream_server import running_upstream
from tests.upstream.test_openapi import DOC_URI, REGISTRY
from upstream.db import open_store
from upstream.settings import UpstreamSettings
from upstream.tables import Device, Heartbeat

NOW = at(1_760_000_000)
STATS = OutboxStats(3, 7200, 1, 2, None)
FIGURES = "#/components/schemas/HeartbeatFigures"


def test_the_body_has_every_figure_of_the_contract(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    settings.runtime_dir.mkdir(parents=True, exist_ok=True)
    (settings.runtime_dir / "modem.json").write_text('{"signal_dbm": -71}')
    uptime = tmp_path / "uptime"
    uptime.write_text("12345.67 54321.00\n")
    figures = ReportsRepo(services.sessions).heartbeat(NOW)
    body = heartbeat_body(settings, STATS, figures=figures, proc_uptime=uptime)
    assert body == {
        "software_version": software_version(),
        "queue_depth": 3,
        "oldest_undelivered_seconds": 7200,
        "disk_free_bytes": body["disk_free_bytes"],
        "modem_signal_dbm": -71,
        "uptime_seconds": 12345,
        "rejected": 1,
        "conflicts": 2,
        "figures": figures,
    }
    assert isinstance(body["disk_free_bytes"], int) and body["disk_free_bytes"] > 0
    assert len(body["software_version"]) <= 32
    assert schema_errors(body, "#/components/schemas/Heartbeat") == []


def test_without_figures_the_body_has_none(settings: Settings) -> None:
    assert "figures" not in heartbeat_body(settings, STATS)


def schema_errors(value: object, pointer: str) -> list[str]:
    """What docs/upstream-api.yaml finds wrong with `value` (the schema at `pointer`)."""
    validator = Draft202012Validator({"$ref": f"{DOC_URI}{pointer}"}, registry=REGISTRY)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


def test_the_schema_check_catches_figures_of_the_wrong_shape() -> None:
    good = {"period_days": 28, "dossiers": 3, "by_status": {"done": 3}, "newer": [1]}
    assert schema_errors(good, FIGURES) == []
    for bad in (
        {"dossiers": -1},
        {"by_status": {"done": "3"}},
        {"satisfaction": 1.5},
        {"median_days_to_result": "2"},
    ):
        assert schema_errors(bad, FIGURES), bad


def test_the_relay_sends_the_stores_figures(settings: Settings, services: Services) -> None:
    with services.sessions.begin() as session:
        for minutes in (5, 50):
            moment = datetime.now(UTC) - timedelta(minutes=minutes)
            session.add(Assistance(kind="vneid", volunteer="lan", created_at=moment))
    client = FakeClient()
    Relay(settings, services, cast(Any, client)).drain()
    ((body,),) = client.called("heartbeat")
    assert body["figures"]["assistance"] == 2
    assert body["figures"]["dossiers"] == 0
    assert schema_errors(body, "#/components/schemas/Heartbeat") == []


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
            figures = ReportsRepo(services.sessions).heartbeat(NOW + timedelta(hours=1))
            send_heartbeat(client, heartbeat_body(settings, stats, figures=figures))
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
    assert beat.body["figures"]["dossiers"] == 1
    assert device.software_version == software_version()[:32]
    assert json.loads(json.dumps(beat.body)) == beat.body
