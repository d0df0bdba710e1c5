"""The firewall: `nft -c` accepts it, and loaded for real in a private network namespace it lets
phones on the hotspot reach DNS, DHCP and HTTP (redirected to the web) and nothing else."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.firmware_config import nft
from tests.systemd.tools import run, tool


def matches(expr: list[dict[str, Any]]) -> dict[str, Any]:
    """A rule's matches as {field: value}: "tcp dport", "iifname", "ct status", …"""
    found: dict[str, Any] = {}
    for item in expr:
        if "match" not in item:
            continue
        left, right = item["match"]["left"], item["match"]["right"]
        if "payload" in left:
            found[f"{left['payload']['protocol']} {left['payload']['field']}"] = right
        elif "meta" in left:
            found[left["meta"]["key"]] = right
        elif "ct" in left:
            found[f"ct {left['ct']['key']}"] = right
    return found


def verdict(expr: list[dict[str, Any]]) -> str:
    for item in expr:
        for key in ("accept", "drop", "jump", "redirect"):
            if key in item:
                return key
    return ""


@pytest.fixture(scope="module")
def ruleset() -> list[dict[str, Any]]:
    return nft.loaded(str(nft.RULESET))


def test_nft_check(tmp_path: Path) -> None:
    argv = [tool("nft", "nftables"), "-c", "-f", str(nft.RULESET)]
    result = run(argv if os.geteuid() == 0 else [*nft.unshare_argv(), *argv])
    assert result.returncode == 0, result.stderr
    broken = tmp_path / "broken.nft"
    broken.write_text(nft.RULESET.read_text().replace("policy drop;", "policy dorp;", 1))
    argv[-1] = str(broken)
    result = run(argv if os.geteuid() == 0 else [*nft.unshare_argv(), *argv])
    assert result.returncode != 0


def test_phones_reach_only_dns_dhcp_and_the_redirected_web(ruleset: list[dict[str, Any]]) -> None:
    hotspot = nft.rules(ruleset, "hotspot")
    accepted = [matches(rule) for rule in hotspot if verdict(rule) == "accept"]
    assert accepted == [
        {"udp dport": 53},
        {"tcp dport": 53},
        {"udp dport": 67},
        {"tcp dport": nft.web_port(), "ct status": "dnat"},
        {"ct state": ["established", "related"]},
    ]
    assert verdict(hotspot[-1]) == "drop" and matches(hotspot[-1]) == {}


def test_hotspot_port_80_goes_to_the_web(ruleset: list[dict[str, Any]]) -> None:
    (rule,) = nft.rules(ruleset, "prerouting")
    assert matches(rule) == {"iifname": nft.define("hotspot_if"), "tcp dport": 80}
    assert [item["redirect"] for item in rule if "redirect" in item] == [{"port": nft.web_port()}]


def test_hotspot_traffic_is_judged_before_any_uplink_rule(ruleset: list[dict[str, Any]]) -> None:
    """SSH and ICMP are for the uplink: the hotspot jump comes first and its chain ends in drop."""
    chain = nft.chains(ruleset)["input"]
    assert (chain["hook"], chain["policy"]) == ("input", "drop")
    verdicts = [(verdict(rule), matches(rule)) for rule in nft.rules(ruleset, "input")]
    jump = verdicts.index(("jump", {"iifname": nft.define("hotspot_if")}))
    ssh = verdicts.index(("accept", {"tcp dport": 22}))
    assert all(seen == {"iif": "lo"} or v == "drop" for v, seen in verdicts[:jump])
    assert jump < ssh


def test_nothing_is_forwarded(ruleset: list[dict[str, Any]]) -> None:
    chain = nft.chains(ruleset)["forward"]
    assert (chain["hook"], chain["policy"]) == ("forward", "drop")
    assert nft.rules(ruleset, "forward") == []


def test_loading_twice_replaces_the_table() -> None:
    """nftables.service may reload: the file deletes its own table first, never duplicating."""
    once, twice = nft.loaded(str(nft.RULESET)), nft.loaded(str(nft.RULESET), times=2)
    assert [o["table"]["name"] for o in twice if "table" in o] == ["hamletbox"]
    assert len(nft.rules(twice, "hotspot")) == len(nft.rules(once, "hotspot"))
