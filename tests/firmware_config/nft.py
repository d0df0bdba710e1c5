"""The nftables ruleset in tests: its defines, and the ruleset as nft itself reads it back."""

from __future__ import annotations

import json
import os
import re
from typing import Any

from tests.systemd.tools import FIRMWARE_DIR, missing, run, tool

RULESET = FIRMWARE_DIR / "hamletbox.nft"


def define(name: str) -> str:
    """The value of `define NAME = VALUE` (quotes removed)."""
    found = re.search(rf"^define {name} = (.+)$", RULESET.read_text(), re.MULTILINE)
    assert found, f"{RULESET}: no define {name}"
    return found.group(1).strip().strip('"')


def web_port() -> int:
    return int(define("web_port"))


def unshare_argv() -> list[str]:
    """A private network namespace: root needs none of its own user namespace, others do."""
    unshare = tool("unshare", "util-linux")
    return [unshare, "-n"] if os.geteuid() == 0 else [unshare, "-rn"]


def loaded(path: str, times: int = 1) -> list[dict[str, Any]]:
    """Load a ruleset for real (`times` times over) in a throw-away network namespace, and list
    what the kernel then holds as nft's JSON objects."""
    nft = tool("nft", "nftables")
    script = f'"{nft}" -f "$1" && ' * times + f'"{nft}" -j list ruleset'
    result = run([*unshare_argv(), "sh", "-c", script, "sh", path])
    if result.returncode != 0 and "Operation not permitted" in result.stderr:
        missing("no network namespace allowed here", "util-linux")
    assert result.returncode == 0, result.stderr
    objects: list[dict[str, Any]] = json.loads(result.stdout)["nftables"]
    return objects


def chains(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["chain"]["name"]: o["chain"] for o in objects if "chain" in o}


def rules(objects: list[dict[str, Any]], chain: str) -> list[list[dict[str, Any]]]:
    """Each rule of a chain as its list of expressions, in order."""
    return [o["rule"]["expr"] for o in objects if "rule" in o and o["rule"]["chain"] == chain]
