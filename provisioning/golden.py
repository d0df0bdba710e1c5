"""`provision golden`: the recipe for the base image every box's card starts from.

The recipe is a folder the technician (or the district's build machine) keeps: the shell script
`build-golden.sh`, the repo's `systemd/` and `firmware_config/` trees as they are (installed, never
rewritten: the pi-gen / CustomPiOS way), the Debian package list, the install map saying where each
of those files goes, our wheel, and a README explaining each step. Writing it needs no root;
`--run` builds the image and does (losetup, mount, chroot).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from provisioning.devices import Refused

REPO = Path(__file__).resolve().parents[1]
RECIPE = Path(__file__).resolve().parent / "golden"
SCRIPT = "build-golden.sh"
TREES = ("systemd", "firmware_config")
PACKAGES = (
    "python3-picamera2",  # the camera: only as the OS package (PLATFORM.md)
    "libzbar0",  # pyzbar's decoder
    "network-manager",  # the hotspot
    "dnsmasq-base",  # NetworkManager's shared mode: DHCP and the captive DNS
    "nftables",  # hotspot clients reach only DNS, DHCP and HTTP on the box
    "cage",  # the kiosk's Wayland compositor
    "python3-gi",  # pywebview's GTK backend under cage
    "gir1.2-webkit2-4.1",
    "cups",  # receipts on the station's printer
    "polkitd",  # lets the panel's user power the box off (systemd/hamletbox-poweroff.rules)
    "python3-venv",
    "fonts-dejavu-core",  # posters and receipts
    "poppler-utils",
)


@dataclass(frozen=True)
class Rule:
    """Where repo files matching `pattern` go: `target` ending in "/" keeps the file's name."""

    pattern: str
    target: str
    mode: str
    # copy; append (as a marked block, replaced on a rebuild); nft-include (copy, then a marked
    # include line in /etc/nftables.conf); skip
    action: str
    why: str


RULES = (
    Rule("systemd/README.md", "/opt/hamletbox/systemd/", "0644", "copy", "the units' notes"),
    Rule("firmware_config/README.md", "/opt/hamletbox/firmware_config/", "0644", "copy", "notes"),
    Rule("systemd/*.service", "/etc/systemd/system/", "0644", "copy", "the units"),
    Rule("systemd/*.target", "/etc/systemd/system/", "0644", "copy", "the units"),
    Rule("systemd/*.path", "/etc/systemd/system/", "0644", "copy", "the units"),
    Rule("systemd/*.socket", "/etc/systemd/system/", "0644", "copy", "the units"),
    Rule("systemd/*.timer", "/etc/systemd/system/", "0644", "copy", "the units"),
    Rule("systemd/*sysusers*", "/usr/lib/sysusers.d/hamletbox.conf", "0644", "copy", "user"),
    Rule("systemd/*tmpfiles*", "/usr/lib/tmpfiles.d/hamletbox.conf", "0644", "copy", "dirs"),
    Rule(
        "systemd/hamletbox-poweroff.rules",
        "/etc/polkit-1/rules.d/50-hamletbox-poweroff.rules",
        "0644",
        "copy",
        "the panel may power the box off",
    ),
    Rule("systemd/*.sh", "/opt/hamletbox/systemd/", "0755", "copy", "run by a unit"),
    Rule("firmware_config/*config.txt*", "/boot/firmware/config.txt", "", "append", "firmware"),
    Rule(
        "firmware_config/*.nmconnection",
        "",
        "",
        "skip",
        "per box: `provision image` fills in the password; first boot installs it",
    ),
    Rule(
        "firmware_config/*dnsmasq*",
        "/etc/NetworkManager/dnsmasq-shared.d/hamletbox.conf",
        "0644",
        "copy",
        "captive DNS",
    ),
    Rule(
        "firmware_config/*.nft",
        "/etc/nftables.d/",
        "0755",
        "nft-include",
        "the hotspot firewall, included from /etc/nftables.conf",
    ),
    Rule("firmware_config/*.rules", "/etc/udev/rules.d/", "0644", "copy", "the modem's name"),
    Rule(
        "firmware_config/*journald*",
        "/etc/systemd/journald.conf.d/hamletbox.conf",
        "0644",
        "copy",
        "kind to SD cards",
    ),
)


@dataclass(frozen=True)
class Install:
    source: str  # relative to the repo (and to the recipe folder, which copies the trees)
    target: str
    mode: str
    action: str
    why: str


def install_plan(repo: Path = REPO) -> list[Install]:
    """Every file of the two trees with its rule; Refused naming files no rule covers."""
    plan, unplaced = [], []
    for tree in TREES:
        if not (repo / tree).is_dir():
            raise Refused([f"{repo / tree}: thiếu thư mục / folder missing"])
        for path in sorted(p for p in (repo / tree).rglob("*") if p.is_file()):
            source = path.relative_to(repo).as_posix()
            rule = next((r for r in RULES if fnmatch.fnmatch(source, r.pattern)), None)
            if rule is None:
                unplaced.append(source)
                continue
            target = rule.target + path.name if rule.target.endswith("/") else rule.target
            plan.append(Install(source, target, rule.mode, rule.action, rule.why))
    if unplaced:
        raise Refused(
            f"{s}: không biết cài vào đâu (thêm vào provisioning/golden.py RULES)"
            f" / no install rule for this file"
            for s in unplaced
        )
    return plan


def install_map(plan: list[Install]) -> str:
    """The tab-separated map build-golden.sh reads: source, target, mode ("-": none), action.
    No field is ever empty: `read` takes a run of tabs as one separator."""
    lines = ["# source\ttarget\tmode\taction"]
    lines += [
        f"{i.source}\t{i.target}\t{i.mode or '-'}\t{i.action}" for i in plan if i.action != "skip"
    ]
    return "\n".join(lines) + "\n"


def readme(plan: list[Install]) -> str:
    """The recipe's README: the steps (provisioning/golden/README.md) and where each file goes."""
    rows = [
        f"| `{i.source}` | {f'`{i.target}`' if i.target else '—'} | {i.action} | {i.why} |"
        for i in plan
    ]
    table = ["| file | installed as | how | why |", "|---|---|---|---|", *rows]
    packages = [f"- `{p}`" for p in PACKAGES]
    steps = (RECIPE / "README.md").read_text(encoding="utf-8")
    parts = [steps.rstrip(), "", "## Packages", "", *packages, ""]
    return "\n".join([*parts, "## Where each file goes", "", *table]) + "\n"


def write_recipe(out: Path, *, repo: Path = REPO, wheel: bool = True) -> list[Path]:
    """The recipe folder, made whole beside `out` and renamed into place; never over a folder
    that has something in it."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise Refused([f"{out}: thư mục đã có nội dung / the folder is not empty"])
    plan = install_plan(repo)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        shutil.copy2(RECIPE / SCRIPT, tmp / SCRIPT)
        for tree in TREES:
            shutil.copytree(repo / tree, tmp / tree)
        (tmp / "packages.txt").write_text("\n".join(PACKAGES) + "\n", encoding="utf-8")
        (tmp / "install-map.tsv").write_text(install_map(plan), encoding="utf-8")
        (tmp / "README.md").write_text(readme(plan), encoding="utf-8")
        if wheel:
            build_wheel(repo, tmp / "wheels")
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sorted(p for p in out.rglob("*") if p.is_file())


def build_wheel(repo: Path, into: Path) -> Path:
    """Our wheel, built from this checkout by pip (which fetches the build backend pyproject.toml
    names, as any build does: the technician's machine needs the network here)."""
    into.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps"]
    done = subprocess.run(
        [*command, "--quiet", "-w", str(into), str(repo)], capture_output=True, text=True
    )
    found = sorted(into.glob("hamletbox-*.whl"))
    if done.returncode != 0 or len(found) != 1:
        raise Refused([f"pip wheel: không tạo được gói / could not build the wheel: {done.stderr}"])
    return found[0]


def run_recipe(recipe: Path, base: Path, image: Path) -> int:
    """Build the golden image (root only: loop devices, mounts, chroot); the script's exit code."""
    if os.geteuid() != 0:
        raise Refused(["--run cần quyền root (sudo) / --run needs root (sudo)"])
    if not base.is_file():
        raise Refused([f"{base}: không tìm thấy tệp ảnh / image file not found"])
    return subprocess.run(["bash", str(recipe / SCRIPT), str(base), str(image)]).returncode
