"""A full data dir on the box: new dossiers are refused plainly, the queue stays and drains."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.store.blobs import STORAGE_FULL, StorageFullError
from tests.faults.conftest import assert_exactly_once, drain, enrolled_box
from tests.support.box import PHONE, PROCEDURE, accepted, file_dossiers, outbox_states
from tests.support.disk import fill, small_tmpfs
from tests.support.processes import clean_env, hamletbox_command
from tests.support.upstream_server import UpstreamServer

MB = 1024 * 1024
DISK_MB = 40  # the box's whole data dir
MIN_FREE_MB = 12  # intake.min_free_mb: below this, no new dossier


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of DISK_MB mounted where the box's data dir goes; unmounted afterwards."""
    with small_tmpfs(tmp_path / "box" / "data", DISK_MB) as data:
        yield data


def test_a_full_disk_refuses_new_dossiers_plainly_and_the_queue_still_drains(
    tmp_path: Path, small_disk: Path, upstream: UpstreamServer, upstream_db: str
) -> None:
    extra = f"\n[intake]\nmin_free_mb = {MIN_FREE_MB}\n"
    box = enrolled_box(tmp_path / "box", upstream, upstream.url, extra)
    with box.services() as services:
        file_dossiers(services, 3, seed=1)
        before, queued = accepted(services), outbox_states(services)
        filler = fill(small_disk, (MIN_FREE_MB - 4) * MB)
        with pytest.raises(StorageFullError, match=f"^{re.escape(STORAGE_FULL)}$"):
            file_dossiers(services, 1, seed=1, first=3)
        assert (accepted(services), outbox_states(services)) == (before, queued)
        for pages in before.values():
            for sha in pages:
                services.blobs.read(sha)  # each page still whole (read checks its hash)
    refused = subprocess.run(
        [*hamletbox_command(box.settings_file), "dossier", "create", "--procedure", PROCEDURE,
         "--name", "Trần Văn Bình", "--phone", PHONE, "--consent"],
        env=clean_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert refused.stderr == f"hamletbox: {STORAGE_FULL}\n"
    drain(box)
    assert_exactly_once(box, upstream_db)
    filler.unlink()
    with box.services() as services:
        file_dossiers(services, 1, seed=1, first=3)
    drain(box)
    assert_exactly_once(box, upstream_db)
