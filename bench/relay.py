"""Benchmark of the relay: N queued dossiers drained over a clean link and over a faulty one.

Builds a box in a temporary folder and files N dossiers through the real intake (three colour
pages of about 50 KB each; tests/support/box.py), copies the box, and drains each copy with
`hamletbox relay --once` into its own `hamletbox upstream serve` (SQLite), through the fault
proxy of tests/support/fault_proxy.py: clean for one copy, failing R of its requests for the
other. A `--once` run that gives up on a bad link is run again; the drain time is from the first
start to the queue being empty, process starts included.

Prints per link: dossiers/s, payload bytes (page blobs + manifests as sent), bytes on the wire
both ways (counted by the proxy), wire ÷ payload, duplicates and losses (the upstream's dossiers
and blobs, read back and hashed, against what the box accepted), and the faults injected.
Targets: wire ÷ payload ≤ 1.10 on the clean link; faulty drain ≤ 3 × the clean one;
duplicates = losses = 0. Over loopback the clean drain goes as fast as the two disks allow, so
the fixed pauses of delay faults (0.5-2 s) weigh far more than on a real 3G uplink; `--max-kbps`
caps the relay's upload (relay.max_kbps) like one, e.g. 2000.

Run with `.venv/bin/python bench/relay.py [--dossiers N] [--fault-rate R] [--max-kbps K]`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.support, as a script

from appliance.domain.protocol import canonical_json
from appliance.store.tables import OutboxItem
from tests.support.box import (
    Box,
    Delivery,
    accepted,
    clone_box,
    delivery,
    drain_queue,
    enroll,
    make_box,
    start_filing,
)
from tests.support.fault_proxy import FaultProxy, ProxyStats
from tests.support.postgres import free_port
from tests.support.processes import clean_env
from tests.support.upstream_server import make_token
from upstream.settings import UpstreamSettings

WIRE_TARGET, SLOWDOWN_TARGET = 1.10, 3.0
MAX_RUNS = 50  # `relay --once` runs before the bench gives up on a link


@dataclass
class Upstream:
    url: str
    db: str


@dataclass
class Result:
    name: str
    seconds: float
    runs: int  # `relay --once` runs it took
    dossiers: int
    payload: int
    stats: ProxyStats
    found: Delivery


@contextmanager
def upstream_server(folder: Path) -> Iterator[Upstream]:
    """`hamletbox upstream serve` on a free loopback port with its own SQLite database."""
    db, port = f"sqlite:///{folder / 'upstream.sqlite3'}", free_port()
    command = [sys.executable, "-m", "appliance.cli", "upstream", "--db", db, "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--threads", "4"]
    proc = subprocess.Popen(command, env=clean_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        if "serving" not in proc.stdout.readline():
            raise SystemExit(f"the upstream did not start: {command}")
        yield Upstream(f"http://127.0.0.1:{port}", db)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def file_dossiers(box: Box, count: int, workers: int) -> None:
    """File `count` dossiers into the box from `workers` processes at once, as a busy station."""
    share = [count // workers + (n < count % workers) for n in range(workers)]
    procs = [start_filing(box, n, seed) for seed, n in enumerate(share, start=1) if n]
    if any(proc.wait() != 0 for proc in procs):
        raise SystemExit("filing dossiers failed")


def payload_bytes(box: Box) -> int:
    """What the relay must carry: every page blob's bytes and every manifest's JSON."""
    with box.services() as services, services.sessions() as session:
        total = 0
        for kind, payload in session.execute(select(OutboxItem.kind, OutboxItem.payload)):
            total += payload["bytes"] if kind == "blob" else len(canonical_json(payload))
        return total


def drain(name: str, box: Box, proxy: FaultProxy, upstream: Upstream) -> Result:
    """`hamletbox relay --once` until the queue is empty, timed; then the upstream checked."""
    payload = payload_bytes(box)
    proxy.reset_stats()
    started = time.monotonic()
    runs = drain_queue(box, MAX_RUNS, timeout=3600)
    seconds = time.monotonic() - started
    if not runs:
        raise SystemExit(f"{name}: the queue did not drain in {MAX_RUNS} runs")
    with box.services() as services:
        box_dossiers = accepted(services)
    found = delivery(box_dossiers, upstream.db)
    return Result(name, seconds, runs, len(box_dossiers), payload, proxy.stats(), found)


def table(results: list[Result]) -> list[str]:
    rows: list[tuple[str, ...]] = [("", *(r.name for r in results))]

    def row(label: str, values: list[str]) -> None:
        rows.append((label, *values))

    row("drain time, s", [f"{r.seconds:.1f}" for r in results])
    row("relay --once runs", [str(r.runs) for r in results])
    row("dossiers/s", [f"{r.dossiers / r.seconds:.2f}" for r in results])
    row("payload bytes", [f"{r.payload:,}" for r in results])
    row("wire bytes up", [f"{r.stats.bytes_up:,}" for r in results])
    row("wire bytes down", [f"{r.stats.bytes_down:,}" for r in results])
    row("wire ÷ payload", [f"{r.stats.wire_bytes / r.payload:.3f}" for r in results])
    row("requests", [str(r.stats.requests) for r in results])
    row("duplicates", [str(r.found.duplicates) for r in results])
    row("losses", [str(len(r.found.lost)) for r in results])
    row(
        "bad pages / strays", [f"{len(r.found.bad_pages)} / {len(r.found.strays)}" for r in results]
    )
    kinds = sorted({kind for r in results for kind in r.stats.faults})
    for kind in kinds:
        row(f"fault {kind}", [str(r.stats.faults.get(kind, 0)) for r in results])
    widths = [max(len(line[i]) for line in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in rows]


def verdicts(clean: Result, faulty: Result) -> list[str]:
    wire = clean.stats.wire_bytes / clean.payload
    slowdown = faulty.seconds / clean.seconds
    exact = all(r.found.exact for r in (clean, faulty))
    return [
        f"wire ÷ payload, clean link: {wire:.3f} (target ≤ {WIRE_TARGET}) "
        f"{'met' if wire <= WIRE_TARGET else 'MISSED'}",
        f"faulty ÷ clean drain time: {slowdown:.2f} (target ≤ {SLOWDOWN_TARGET}) "
        f"{'met' if slowdown <= SLOWDOWN_TARGET else 'MISSED'}",
        f"duplicates = losses = 0, every page hash verified: {'met' if exact else 'MISSED'}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dossiers", type=int, default=100)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=2026, help="the fault proxy's seed")
    parser.add_argument("--backoff-base", type=int, default=1, help="relay.backoff_base_seconds")
    parser.add_argument("--backoff-cap", type=int, default=2, help="relay.backoff_cap_seconds")
    parser.add_argument(
        "--max-kbps", type=int, default=0, help="relay.max_kbps: a 3G-like uplink (0: loopback)"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes filing dossiers")
    args = parser.parse_args()
    relay = {
        "backoff_base_seconds": args.backoff_base,
        "backoff_cap_seconds": args.backoff_cap,
        "max_kbps": args.max_kbps,
    }
    with tempfile.TemporaryDirectory(prefix="hb-bench-relay-") as tmp:
        folder = Path(tmp)
        (folder / "clean").mkdir()
        (folder / "faulty").mkdir()
        with (
            upstream_server(folder / "clean") as up_clean,
            upstream_server(folder / "faulty") as up_faulty,
        ):
            clean_port, faulty_port = (int(u.url.rsplit(":", 1)[1]) for u in (up_clean, up_faulty))
            with (
                FaultProxy(clean_port) as clean_proxy,
                FaultProxy(faulty_port, rate=args.fault_rate, seed=args.seed) as faulty_proxy,
            ):
                began = time.monotonic()
                box = make_box(folder / "clean" / "box", clean_proxy.url, relay=relay)
                file_dossiers(box, args.dossiers, args.workers)
                twin = clone_box(box, folder / "faulty" / "box", faulty_proxy.url, relay=relay)
                print(f"filed {args.dossiers} dossiers in {time.monotonic() - began:.0f} s")
                for each, up in ((box, up_clean), (twin, up_faulty)):
                    enroll(each, up.url, make_token(UpstreamSettings(db_url=up.db)))
                clean = drain("clean", box, clean_proxy, up_clean)
                faulty = drain(f"faulty ({args.fault_rate:.0%})", twin, faulty_proxy, up_faulty)
    print()
    print(
        f"relay bench: {args.dossiers} dossiers × 3 pages (~50 KB); backoff base "
        f"{args.backoff_base} s, cap {args.backoff_cap} s; upload cap "
        f"{f'{args.max_kbps} kbit/s' if args.max_kbps else 'none'}; fault seed {args.seed}"
    )
    print("\n".join(table([clean, faulty])))
    print()
    print("\n".join(verdicts(clean, faulty)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
