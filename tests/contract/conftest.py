"""Contract tests over the deployment artifacts: Kestra flows, compose, Dockerfiles, recipes.

Nothing here needs a container engine, a Kestra or the network; ops/check-artifacts.sh and
`just test` run them everywhere.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from contract_helpers import ROOT, load_yaml


@pytest.fixture(scope="session")
def flows() -> dict[str, dict]:
    found = {p.name: load_yaml(p) for p in sorted((ROOT / "kestra" / "flows").glob("*.yml"))}
    assert found, "no flows in kestra/flows"
    return found


@pytest.fixture(scope="session")
def compose() -> dict:
    return load_yaml(ROOT / "compose.yaml")
