"""The ops recipes exist and explain themselves in `just --list`."""

from __future__ import annotations

import json
import subprocess

import pytest
from contract_helpers import ROOT

REQUIRED = {
    "images",
    "image",
    "pipeline-docker",
    "images-size",
    "images-test",
    "up",
    "down",
    "logs",
    "lake-ls",
    "hot-ls",
    "kestra-deploy",
    "check-artifacts",
}


@pytest.fixture(scope="module")
def dump() -> dict:
    out = subprocess.run(
        ["just", "--dump", "--dump-format", "json"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def test_summary_parses():
    subprocess.run(["just", "--summary"], cwd=ROOT, check=True, capture_output=True)


def test_ops_recipes_present(dump):
    assert set(dump["recipes"]) >= REQUIRED, sorted(REQUIRED - set(dump["recipes"]))


def test_every_recipe_documented(dump):
    undocumented = [name for name, r in dump["recipes"].items() if not (r.get("doc") or "").strip()]
    assert undocumented == []


def test_image_recipe_takes_a_stage(dump):
    params = [p["name"] for p in dump["recipes"]["image"]["parameters"]]
    assert params == ["STAGE"]
    params = [p["name"] for p in dump["recipes"]["lake-ls"]["parameters"]]
    assert params == ["PREFIX"]
    assert next(p["name"] for p in dump["recipes"]["hot-ls"]["parameters"]) == "TABLE"
