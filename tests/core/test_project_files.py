"""The files a contributor or an operator looks for first: the licence the metadata names,
CONTRIBUTING.md whose commands and paths exist, and SECURITY.md."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_licence_is_the_mit_licence_every_package_declares() -> None:
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "Permission is hereby granted" in licence
    manifests = [ROOT / "pyproject.toml", *ROOT.glob("libs/*/pyproject.toml")]
    manifests += ROOT.glob("services/*/pyproject.toml")
    for manifest in manifests:
        assert tomllib.loads(manifest.read_text())["project"]["license"] == "MIT", manifest
    assert json.loads((ROOT / "sdk/js/package.json").read_text())["license"] == "MIT"
    assert (ROOT / "sdk/js/LICENSE").read_text() == licence  # npm packs the package's own copy


def test_contributing_names_only_make_targets_and_paths_that_exist() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    named = set(re.findall(r"\bmake ([a-z-]+)", text))
    assert {"dev", "test", "lint", "bench"} <= named
    assert named <= targets
    for path in re.findall(r"^\| `([a-z/._-]+)` \|", text, re.MULTILINE):
        assert (ROOT / path).exists(), path
    for command in re.findall(r"uv run pytest (tests/\S+)", text):
        assert (ROOT / command.split("::")[0]).exists(), command
    for script in re.findall(r"uv run python (bench/\S+\.py)", text):
        assert (ROOT / script).is_file(), script


def test_security_policy_says_how_to_report_privately() -> None:
    text = (ROOT / "SECURITY.md").read_text()
    assert "privately" in text and "Report a vulnerability" in text
    assert "[SECURITY.md](SECURITY.md)" in (ROOT / "CONTRIBUTING.md").read_text()
    assert "[SECURITY.md](SECURITY.md)" in (ROOT / "README.md").read_text()
