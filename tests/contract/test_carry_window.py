"""The carry window is silver's (`carry_forward_days`): gold's reads, hints and v1 reach use it."""

from __future__ import annotations

from contract_helpers import ROOT, load_yaml
from makerates_gold import reads


def test_gold_reads_the_carry_window_silver_builds():
    silver = load_yaml(ROOT / "stages" / "silver" / "dbt_project.yml")
    assert silver["vars"]["carry_forward_days"] == reads.LOOKBACK_DAYS
