"""The upstream stops in the middle of a drain and comes back on the same port and database."""

from __future__ import annotations

from pathlib import Path

from tests.faults.conftest import (
    assert_exactly_once,
    blobs_at,
    enrolled_box,
    reaped,
    relay_status,
    wait_until,
)
from tests.support.box import file_dossiers, relay_process, waiting
from tests.support.fault_proxy import DELAY, FaultProxy
from tests.support.upstream_server import UpstreamServer


def test_an_upstream_restart_mid_drain_loses_and_duplicates_nothing(
    tmp_path: Path, upstream: UpstreamServer, upstream_db: str
) -> None:
    # A slow link (every request held 50-150 ms), so the drain is still going at the restart.
    with FaultProxy(upstream.port, rate=1.0, mix={DELAY: 1.0}, delay=(0.05, 0.15)) as proxy:
        box = enrolled_box(tmp_path / "box", upstream, proxy.url)
        with box.services() as services:
            file_dossiers(services, 4, seed=1)
        with reaped(relay_process(box)) as relay:
            wait_until(lambda: blobs_at(upstream_db) >= 2, 30, "the first pages to arrive")
            upstream.stop()
            assert waiting(box) > 0, "the drain ended before the upstream stopped"
            wait_until(
                lambda: relay_status(box).get("uplink") == "offline", 30, "the relay to notice"
            )
            upstream.start()
            wait_until(lambda: waiting(box) == 0, 60, "the queue to drain after the restart")
            relay.terminate()
            code = relay.wait(timeout=30)
    assert code == 0
    assert_exactly_once(box, upstream_db)
