"""The captive DNS drop-in: dnsmasq accepts it with NetworkManager's shared-mode options, and a
dnsmasq started on loopback with it answers every name with the box's hotspot address."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.systemd.tools import FIRMWARE_DIR, run, tool

CONF = FIRMWARE_DIR / "dnsmasq-shared.conf"
# What NetworkManager passes its shared-mode dnsmasq (src/core/dnsmasq/nm-dnsmasq-manager.c).
NM_SHARED = [
    "--no-hosts",
    "--keep-in-foreground",
    "--bind-interfaces",
    "--except-interface=lo",
    "--clear-on-reload",
    "--strict-order",
    "--dhcp-lease-max=50",
    "--conf-file=/dev/null",
]


def dnsmasq_argv(conf: Path) -> list[str]:
    return [tool("dnsmasq", "dnsmasq-base"), *NM_SHARED, f"--conf-file={conf}"]


def test_dnsmasq_accepts_it_as_networkmanager_runs_it(tmp_path: Path) -> None:
    argv = [
        *dnsmasq_argv(CONF),
        "--listen-address=10.42.0.1",
        "--dhcp-range=10.42.0.10,10.42.0.254,60m",
        "--test",
    ]
    result = run(argv)
    assert result.returncode == 0, result.stderr
    broken = tmp_path / "broken.conf"
    broken.write_text(CONF.read_text().replace("dhcp-option=", "dhcp-optoin=", 1))
    assert run([*dnsmasq_argv(broken), "--test"]).returncode != 0


def ask(port: int, name: str) -> tuple[int, list[bytes]]:
    """One A query over UDP: (rcode, answer addresses)."""
    query = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    query += struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        for _ in range(50):  # dnsmasq may not be listening yet
            sock.sendto(query, ("127.0.0.1", port))
            try:
                reply = sock.recv(512)
                break
            except (TimeoutError, ConnectionRefusedError):
                continue
        else:
            pytest.fail("dnsmasq never answered")
    rcode, count = reply[3] & 0x0F, struct.unpack(">H", reply[6:8])[0]
    answers, offset = [], len(query)
    for _ in range(count):
        # name pointer (2), type, class, ttl, length, then the address
        length = struct.unpack(">H", reply[offset + 10 : offset + 12])[0]
        answers.append(reply[offset + 12 : offset + 12 + length])
        offset += 12 + length
    return rcode, answers


@pytest.fixture
def captive_dns() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [
        *dnsmasq_argv(CONF),
        "--listen-address=127.0.0.1",
        f"--port={port}",
        "--pid-file",
        "--log-facility=-",
    ]
    if os.geteuid() == 0:
        argv.append("--user=nobody")
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_every_name_is_the_box(captive_dns: int) -> None:
    for name in ("connectivitycheck.gstatic.com", "captive.apple.com", "dichvucong.gov.vn"):
        assert ask(captive_dns, name) == (0, [socket.inet_aton("10.42.0.1")])


def test_the_captive_portal_option_is_advertised() -> None:
    lines = CONF.read_text().splitlines()
    assert 'dhcp-option=114,"http://10.42.0.1/portal"' in lines
    assert "no-resolv" in lines
    assert not [line for line in lines if line.startswith("server=")]
