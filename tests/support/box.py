"""A box for the fault tests and the relay bench: settings, enrolment, queued dossiers, and the
check that the upstream holds exactly what the box accepted.

Dossiers are filed through the real Intake service, each with three colour pages of about 50 KB
made from synthetic photos of forms; every page's photo is varied by its own seed, so no two
dossiers share a blob. Run as `python -m tests.support.box file SETTINGS --count N --seed S` to
file dossiers from another process (the kill -9 test keeps one busy while the relay is killed).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from appliance import config
from appliance.config import Settings
from appliance.intake import Intake
from appliance.intake_cli import assign_pages
from appliance.relay.enroll import enroll_command
from appliance.samples.documents import make_photo
from appliance.services import Services, build
from appliance.store.tables import Dossier, OutboxItem, Page
from tests.conftest import write_settings
from tests.support.processes import clean_env, hamletbox_command
from upstream import tables as up
from upstream.db import open_store

ROOT = Path(__file__).resolve().parents[2]
PROCEDURE = "1.001193"  # birth registration: two required papers, the third page goes with one
PAGES = 3
FRAME = (800, 600)  # a photo this size makes a colour page of about 50 KB
APPLICANT, PHONE = "Nguyễn Thị Hoa", "0912 345 678"
# Quick retries, so a test on a faulty link takes seconds (the shipped base is 5 s, cap 15 min).
RELAY = {
    "timeout_seconds": 5,
    "backoff_base_seconds": 1,
    "backoff_cap_seconds": 2,
    "poll_seconds": 5,
}


@dataclass(frozen=True)
class Box:
    folder: Path
    settings_file: Path
    settings: Settings

    @contextmanager
    def services(self) -> Iterator[Services]:
        built = build(self.settings, devices=False)
        try:
            yield built
        finally:
            built.close()


def make_box(
    folder: Path, upstream_url: str = "", extra: str = "", relay: Mapping[str, int] | None = None
) -> Box:
    """A box in `folder` whose relay talks to `upstream_url` (a fault proxy, say); `relay`
    overrides the RELAY settings, `extra` is more TOML (other tables)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f'upstream_url = "{upstream_url}"', f'device_file = "{folder / "device.json"}"']
    lines += [f"{key} = {value}" for key, value in {**RELAY, **(relay or {})}.items()]
    path = write_settings(folder, "\n[relay]\n" + "\n".join(lines) + "\n" + extra)
    box = Box(folder, path, config.load(path, environ={}))
    with box.services():
        pass  # the data dir and the schema, before anything else opens them
    return box


def clone_box(
    box: Box, folder: Path, upstream_url: str, relay: Mapping[str, int] | None = None
) -> Box:
    """A copy of the box's data (dossiers, queue, blobs) for another upstream; not enrolled."""
    shutil.copytree(box.settings.data_dir, folder / "data")
    return make_box(folder, upstream_url, relay=relay)


def enroll(box: Box, upstream_url: str, token: str) -> None:
    """Enrol the box directly with the upstream (not through the proxy), as a technician does."""
    if enroll_command(box.settings, upstream_url, token) != 0:
        raise RuntimeError(f"enrolment of {box.folder} failed")


@functools.cache
def _photo(variant: int) -> NDArray[np.uint8]:
    return make_photo(variant, seal=True, frame=FRAME).image


def page_image(seed: int, number: int, page: int) -> NDArray[np.uint8]:
    """Page `page` of dossier `number` of a run seeded `seed`: a form photo with its own noise."""
    rng = np.random.default_rng([seed, number, page])
    return _photo(page) ^ rng.integers(0, 2, size=_photo(page).shape, dtype=np.uint8)


def file_dossiers(services: Services, count: int, seed: int, first: int = 0) -> list[str]:
    """`count` queued dossiers as the station files them, numbered from `first` (their pages
    differ from those of any other number or seed); their UUIDs in order."""
    intake = Intake(services)
    procedure = intake.procedure(PROCEDURE)
    papers, originals = assign_pages(procedure, PAGES)
    uuids = []
    for number in range(first, first + count):
        uuid = intake.start_draft(procedure.code, "station")
        intake.set_applicant_typed(uuid, APPLICANT, PHONE)
        for page, paper in enumerate(papers):
            intake.add_image(uuid, paper, page_image(seed, number, page), mode="color")
        for paper in originals:
            intake.mark_bring_original(uuid, paper)
        intake.submit(uuid, consent=True, actor="cli")
        uuids.append(uuid)
    return uuids


def start_filing(box: Box, count: int, seed: int) -> subprocess.Popen[bytes]:
    """Another process filing `count` dossiers into the box (see `main`)."""
    command = [sys.executable, "-m", "tests.support.box", "file", str(box.settings_file)]
    command += ["--count", str(count), "--seed", str(seed)]
    return subprocess.Popen(command, cwd=ROOT, env=clean_env(), stdout=subprocess.DEVNULL)


def accepted(services: Services) -> dict[str, list[str]]:
    """What the box accepted (queued or later): UUID -> page hashes in page order."""
    with services.sessions() as session:
        rows = session.execute(
            select(Dossier.uuid, Page.blob_sha256)
            .join(Page, Page.dossier_id == Dossier.id)
            .where(Dossier.status != "draft")
            .order_by(Dossier.id, Page.position)
        )
        found: dict[str, list[str]] = {}
        for uuid, sha in rows:
            found.setdefault(uuid, []).append(sha)
        return found


def outbox_states(services: Services) -> Counter[str]:
    """How many upstream outbox rows are in each state (the residents' SMS, which wait for a
    modem, are not the upstream's)."""
    with services.sessions() as session:
        return Counter(session.scalars(select(OutboxItem.state).where(OutboxItem.kind != "sms")))


def queue(box: Box) -> Counter[str]:
    with box.services() as services:
        return outbox_states(services)


def waiting(box: Box) -> int:
    """Outbox rows still to deliver: pending, or in flight (a relay is sending, or was killed)."""
    states = queue(box)
    return states["pending"] + states["in_flight"]


def relay_process(box: Box, *args: str) -> subprocess.Popen[bytes]:
    """`hamletbox relay [args]` for this box, its output added to the box's relay.log."""
    with (box.folder / "relay.log").open("ab") as log:
        return subprocess.Popen(
            [*hamletbox_command(box.settings_file), "relay", *args],
            env=clean_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def drain_queue(box: Box, max_runs: int, timeout: float = 120.0) -> int:
    """`hamletbox relay --once` until the queue is empty: the runs it took, 0 if it never was.
    A run on a bad link may give up early (three fruitless rounds in a row), or exit 1 when the
    heartbeat after the queue failed; the next run goes on where it stopped."""
    for run in range(1, max_runs + 1):
        relay_process(box, "--once").wait(timeout=timeout)
        if not waiting(box):
            return run
    return 0


@dataclass(frozen=True)
class Delivery:
    """The upstream's holdings against what the box accepted; all empty when exactly once."""

    lost: frozenset[str]  # accepted by the box, not at the upstream
    strays: frozenset[str]  # at the upstream, never accepted by the box
    duplicates: int  # upstream dossiers beyond one per receipt code
    bad_pages: tuple[str, ...]  # "uuid page n: why"

    @property
    def exact(self) -> bool:
        return not (self.lost or self.strays or self.duplicates or self.bad_pages)


def delivery(box_dossiers: dict[str, list[str]], upstream_db: str) -> Delivery:
    """Compare; every page's blob at the upstream is read back and hashed."""
    engine, sessions = open_store(upstream_db)
    try:
        with sessions() as session:
            held = {d.uuid: d.receipt_code for d in session.scalars(select(up.Dossier))}
            pages = session.execute(
                select(up.DossierPage.dossier_uuid, up.DossierPage.sha256, up.Blob.data)
                .outerjoin(up.Blob, up.Blob.sha256 == up.DossierPage.sha256)
                .order_by(up.DossierPage.dossier_uuid, up.DossierPage.position)
            ).all()
    finally:
        engine.dispose()
    by_uuid: dict[str, list[tuple[str, bytes | None]]] = {}
    for uuid, sha, data in pages:
        by_uuid.setdefault(uuid, []).append((sha, data))
    bad = [
        problem
        for uuid in set(held) & set(box_dossiers)
        for problem in _page_problems(uuid, box_dossiers[uuid], by_uuid.get(uuid, []))
    ]
    return Delivery(
        lost=frozenset(box_dossiers) - set(held),
        strays=frozenset(held) - set(box_dossiers),
        duplicates=len(held) - len(set(held.values())),
        bad_pages=tuple(sorted(bad)),
    )


def _page_problems(
    uuid: str, expected: Sequence[str], found: Sequence[tuple[str, bytes | None]]
) -> list[str]:
    if [sha for sha, _ in found] != list(expected):
        shown = [sha[:8] for sha, _ in found]
        return [f"{uuid}: upstream pages {shown} differ from the box's {[s[:8] for s in expected]}"]
    return [
        f"{uuid} page {n}: {'missing' if data is None else 'hash mismatch'}"
        for n, (sha, data) in enumerate(found, 1)
        if data is None or hashlib.sha256(data).hexdigest() != sha
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.box")
    actions = parser.add_subparsers(dest="action", required=True)
    filing = actions.add_parser("file", help="file queued dossiers, one UUID per line as each is")
    filing.add_argument("settings", type=Path)
    filing.add_argument("--count", type=int, required=True)
    filing.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    settings = config.load(args.settings, environ={})
    services = build(settings, devices=False)
    try:
        for number in range(args.count):
            (uuid,) = file_dossiers(services, 1, args.seed, first=number)
            print(uuid, flush=True)
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
