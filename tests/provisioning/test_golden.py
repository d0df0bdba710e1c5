"""`hamletbox provision golden`: the recipe folder is complete, its script is valid shell, and the
install map places every file of the repo's systemd/ and firmware_config/ trees."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from appliance.cli import main
from provisioning import golden
from provisioning.devices import Refused

REPO = golden.REPO


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    out = tmp_path / "golden"
    assert main(["provision", "golden", "--out", str(out), "--no-wheel"]) == 0
    return out


def tree_files(root: Path, *trees: str) -> set[str]:
    return {
        p.relative_to(root).as_posix() for t in trees for p in (root / t).rglob("*") if p.is_file()
    }


def map_rows(recipe: Path) -> list[list[str]]:
    lines = (recipe / "install-map.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if not line.startswith("#")]


def test_the_script_is_valid_shell_and_stops_at_the_first_error(recipe: Path) -> None:
    script = recipe / golden.SCRIPT
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert "set -euo pipefail" in script.read_text(encoding="utf-8")
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        assert os.environ.get("CI") != "true", "shellcheck missing: apt-get install shellcheck"
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    done = subprocess.run([shellcheck, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_the_recipe_carries_the_repo_trees_as_they_are(recipe: Path) -> None:
    assert tree_files(recipe, *golden.TREES) == tree_files(REPO, *golden.TREES)
    for name in tree_files(REPO, *golden.TREES):
        assert (recipe / name).read_bytes() == (REPO / name).read_bytes(), name
    assert (recipe / "packages.txt").read_text().split() == list(golden.PACKAGES)


def test_every_file_of_the_trees_has_a_place_and_exists(recipe: Path) -> None:
    plan = golden.install_plan()
    assert {i.source for i in plan} == tree_files(REPO, *golden.TREES)
    rows = map_rows(recipe)
    assert rows, "nothing to install"
    for source, target, mode, action in rows:
        assert (recipe / source).is_file() and (REPO / source).is_file(), source
        assert target.startswith("/") and action in ("copy", "append", "nft-include"), source
        assert action == "append" or re.fullmatch(r"0[0-7]{3}", mode), (source, mode)
    targets = [target for _, target, _, action in rows if action == "copy"]
    assert len(targets) == len(set(targets)), "two files installed over each other"


def test_units_and_scripts_the_units_run_are_installed(recipe: Path) -> None:
    targets = {target for _, target, _, _ in map_rows(recipe)}
    units = [p for p in (REPO / "systemd").iterdir() if p.suffix in (".service", ".target")]
    assert units and {f"/etc/systemd/system/{u.name}" for u in units} <= targets
    assert "/etc/systemd/system/hamletbox-firstboot.service" in targets
    for unit in units:
        for line in unit.read_text(encoding="utf-8").splitlines():
            if not line.startswith(("ExecStart=", "ExecStartPre=", "ExecStop=")):
                continue
            program = line.split("=", 1)[1].lstrip("-+!@:").split()[0]
            if program.startswith("/opt/hamletbox/") and "/venv/" not in program:
                assert program in targets, f"{unit.name} runs {program}, which is not installed"


def test_each_file_goes_where_its_own_header_says(recipe: Path) -> None:
    """Files in systemd/ and firmware_config/ name their install path up top; the map agrees."""
    planned = {i.source: i for i in golden.install_plan()}
    said = 0
    for source, item in planned.items():
        head = "\n".join((REPO / source).read_text(encoding="utf-8").splitlines()[:3])
        found = re.search(r"(?i)(installed|appended) (?:as|to)\s+(/[\w./-]*\w)", head)
        if found is None or item.action == "skip":
            continue
        said += 1
        assert item.target == found[2], (source, item.target, found[2])
        assert (item.action == "append") == (found[1].lower() == "appended"), source
    assert said >= 8


def test_installing_twice_into_a_tree_gives_the_same_tree(recipe: Path, tmp_path: Path) -> None:
    """Step 6 run for real (--install-only) into a folder standing in for the image's root."""
    root = tmp_path / "root"
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/config.txt").write_text("[all]\narm_64bit=1\n")
    (root / "etc").mkdir()
    (root / "etc/nftables.conf").write_text("#!/usr/sbin/nft -f\nflush ruleset\n")
    script = str(recipe / golden.SCRIPT)
    for _ in range(2):
        subprocess.run(["bash", script, "--install-only", str(root)], check=True)
    for source, target, mode, action in map_rows(recipe):
        if action == "append":
            text = (root / target.lstrip("/")).read_text()
            assert text.startswith("[all]\narm_64bit=1\n") and text.count("hamletbox begin") == 1
            assert (REPO / source).read_text() in text
            continue
        placed = root / target.lstrip("/")
        assert placed.read_bytes() == (REPO / source).read_bytes(), target
        assert oct(placed.stat().st_mode & 0o777) == oct(int(mode, 8)), target
    nftables = (root / "etc/nftables.conf").read_text()
    assert nftables.startswith("#!/usr/sbin/nft -f\nflush ruleset\n")
    assert nftables.count('include "/etc/nftables.d/hamletbox.nft"') == 1


def test_the_readme_explains_every_step_of_the_script(recipe: Path) -> None:
    script_steps = re.findall(
        r"^# (Step \d+: .+)$", (recipe / golden.SCRIPT).read_text(), re.MULTILINE
    )
    readme = (recipe / "README.md").read_text(encoding="utf-8")
    assert len(script_steps) >= 8
    assert re.findall(r"^## (Step \d+: .+)$", readme, re.MULTILINE) == script_steps
    for source, target, _, _ in map_rows(recipe):
        assert f"| `{source}` | `{target}` |" in readme
    assert all(f"`{p}`" in readme for p in golden.PACKAGES)


def test_a_file_without_a_rule_is_refused(tmp_path: Path) -> None:
    for tree in golden.TREES:
        shutil.copytree(REPO / tree, tmp_path / tree)
    (tmp_path / "firmware_config" / "mystery.bin").write_bytes(b"\0")
    with pytest.raises(Refused, match=r"firmware_config/mystery.bin: .*no install rule"):
        golden.install_plan(tmp_path)


def test_a_folder_with_something_in_it_is_not_written_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("giữ lại")
    assert main(["provision", "golden", "--out", str(tmp_path), "--no-wheel"]) == 2
    assert "the folder is not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_run_needs_root_and_a_base_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "golden"
    assert main(["provision", "golden", "--out", str(out), "--run", "--no-wheel"]) == 2
    assert "--run needs --base" in capsys.readouterr().err and not out.exists()
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(Refused, match="needs root"):
        golden.run_recipe(tmp_path, tmp_path / "raspios.img", tmp_path / "out.img")
