"""Benchmark of the resident UI under `hamletbox web` (waitress), against a static baseline.

Starts the real `hamletbox web`, drives the home page, a procedure page and a search with 20 and
then 50 concurrent clients (wrk) for a fixed time, and prints req/s, p50 and p99 latency and the
server's peak RSS. The baseline is a static copy of the home page (the same gzip bytes) served by
the same server software with the same thread count. Also prints each page's transfer size
(HTML + CSS, gzip).

Run with `make bench` (installs wrk) or `.venv/bin/python bench/web.py [--seconds N]`.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"home": "/", "procedure": "/p/1.001193", "search": "/search?q=khai+sinh"}
SIZE_PAGES = {
    **PAGES,
    "search (typo)": "/search?q=ket+hn",
    "portal welcome": "/portal",
    "not found": "/p/9.999999",
}
CLIENTS = (20, 50)


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server did not answer at {url} within {timeout:.0f} s")


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read(), {k.lower(): v for k, v in response.headers.items()}


def css_urls(html: bytes) -> list[str]:
    return re.findall(r'<link[^>]+href="([^"]+\.css[^"]*)"', html.decode("utf-8"))


def transfer_sizes(base: str) -> dict[str, tuple[int, int]]:
    """Compressed bytes on the wire of each page's HTML and its stylesheets."""
    sizes = {}
    for name, path in SIZE_PAGES.items():
        try:
            body, headers = fetch(base + path)
        except urllib.error.HTTPError as err:  # the 404 page is a page too
            body, headers = err.read(), {k.lower(): v for k, v in err.headers.items()}
        html = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
        css = sum(len(fetch(base + href)[0]) for href in css_urls(html))
        sizes[name] = (len(body), css)
    return sizes


def run_wrk(url: str, clients: int, seconds: int) -> Figures:
    cmd = ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--latency"]
    cmd += ["-H", "Accept-Encoding: gzip", url]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    return Figures(rps, latency(out, "50%"), latency(out, "99%"), errors)


def latency(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def start(cmd: list[str], url: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a server with its output in a file (an unread pipe fills up and stalls the server)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    wait_until_up(url, proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def write_settings(folder: Path, port: int) -> Path:
    """The demo's settings and simulated devices: the box as `make demo` runs it."""
    from appliance.demo import write_camera_samples, write_demo_settings

    write_camera_samples(folder / "camera")
    return write_demo_settings(folder, port)


def bench_box(seconds: int, folder: Path) -> tuple[dict[str, dict[int, Figures]], float, bytes]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = write_settings(folder, port)
    hamletbox = str(Path(sys.executable).with_name("hamletbox"))
    cmd = [hamletbox, "--config", str(settings), "web", "--host", "127.0.0.1", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAMLETBOX_")}
    proc = start(cmd, base + "/", env, folder / "web.log")
    try:
        home_gzip, _ = fetch(base + "/")
        sizes = transfer_sizes(base)
        print("Transfer size per page (gzip, bytes): HTML + CSS = total (limit 30720)")
        for name, (html, css) in sizes.items():
            print(f"  {name:16} {html:6} + {css:5} = {html + css:6}")
        results: dict[str, dict[int, Figures]] = {}
        for name, path in PAGES.items():
            results[name] = {c: run_wrk(base + path, c, seconds) for c in CLIENTS}
        rss = peak_rss_mb(proc.pid)
    finally:
        stop(proc)
    return results, rss, home_gzip


def bench_baseline(
    seconds: int, home_gzip: bytes, folder: Path
) -> tuple[dict[int, Figures], float]:
    port = free_port()
    page = folder / "home.html.gz"
    page.write_bytes(home_gzip)
    script = Path(__file__).with_name("static_server.py")
    cmd = [sys.executable, str(script), str(page), str(port)]
    proc = start(cmd, f"http://127.0.0.1:{port}/", dict(os.environ), folder / "baseline.log")
    try:
        figures = {c: run_wrk(f"http://127.0.0.1:{port}/", c, seconds) for c in CLIENTS}
        rss = peak_rss_mb(proc.pid)
    finally:
        stop(proc)
    return figures, rss


def report(
    results: dict[str, dict[int, Figures]], rss: float, base: dict[int, Figures], base_rss: float
) -> None:
    print("\npage        clients   req/s    p50 ms   p99 ms  errors | vs baseline: req/s  p99")
    for name, by_clients in [("baseline", base), *results.items()]:
        for clients, f in by_clients.items():
            b = base[clients]
            print(
                f"{name:11} {clients:7} {f.rps:8.0f} {f.p50_ms:8.1f} {f.p99_ms:8.1f} {f.errors:7}"
                f" |             {f.rps / b.rps:5.2f}x {f.p99_ms / b.p99_ms:5.2f}x"
            )
    print(
        f"\npeak RSS: hamletbox web {rss:.1f} MB (target < 80), baseline server {base_rss:.1f} MB"
    )
    home = results["home"]
    for clients in CLIENTS:
        ok_rps = home[clients].rps >= 0.5 * base[clients].rps
        ok_p99 = home[clients].p99_ms <= 4 * base[clients].p99_ms
        print(
            f"targets at {clients} clients:"
            f" home req/s >= 0.5x baseline: {'yes' if ok_rps else 'NO'};"
            f" home p99 <= 4x baseline: {'yes' if ok_p99 else 'NO'}"
        )
    print(f"target RSS < 80 MB: {'yes' if rss < 80 else 'NO'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="duration of each run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print(
            "bench: wrk is missing — `make bench` installs it (Debian package wrk)", file=sys.stderr
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="hamletbox-bench-") as tmp:
        results, rss, home_gzip = bench_box(args.seconds, Path(tmp))
        base, base_rss = bench_baseline(args.seconds, home_gzip, Path(tmp))
    report(results, rss, base, base_rss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
