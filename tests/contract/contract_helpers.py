"""Shared by the contract tests (imported by name: conftest.py puts this folder on sys.path,
since the suite runs with --import-mode=importlib)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("bronze", "silver", "gold")


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def built_stages() -> list[str]:
    """The stages ops/images.sh (behind `just images`) builds, from ops/engine.sh's STAGES=(…)."""
    text = (ROOT / "ops" / "engine.sh").read_text(encoding="utf-8")
    match = re.search(r"^STAGES=\(([^)]*)\)", text, re.MULTILINE)
    assert match, "ops/engine.sh defines no STAGES=(…)"
    return match.group(1).split()
