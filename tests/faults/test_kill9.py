"""kill -9 of the relay at random moments, round after round, while dossiers keep being filed."""

from __future__ import annotations

import random
import time
from pathlib import Path

from tests.faults.conftest import (
    assert_exactly_once,
    drain,
    enrolled_box,
    reaped,
    wait_for_start,
)
from tests.support.box import file_dossiers, relay_process, start_filing
from tests.support.upstream_server import UpstreamServer

ROUNDS = 15
FILED_MEANWHILE = 5


def test_kill_9_at_random_moments_loses_and_duplicates_nothing(
    tmp_path: Path, upstream: UpstreamServer, upstream_db: str
) -> None:
    rng = random.Random(9)
    box = enrolled_box(tmp_path / "box", upstream, upstream.url)
    with box.services() as services:
        file_dossiers(services, 2, seed=1)
    with reaped(start_filing(box, FILED_MEANWHILE, seed=2)) as filer:
        for _ in range(ROUNDS):
            with reaped(relay_process(box)) as relay:
                wait_for_start(box, relay)
                time.sleep(rng.uniform(0.0, 0.6))  # the random moment of the power cut
                relay.kill()
        assert filer.wait(timeout=60) == 0
    drain(box)  # a restart: rows a killed relay left in flight go back to pending first
    assert_exactly_once(box, upstream_db)
