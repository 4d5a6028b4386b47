"""Faults of the S3 lake: the endpoint down, the bucket missing, access denied, and a failure
in the middle of writing silver (in test_known_gaps.py). The baseline lake is copied into a moto bucket; the stages
reach S3 through the fault proxy, the checks reach it directly.
"""

from __future__ import annotations

import pytest
from chaos_helpers import (
    LAKE_FAULTS,
    attempt,
    check_failed_run,
    rerun_converges,
    snapshot,
)

pytestmark = pytest.mark.chaos


@pytest.mark.parametrize("name", list(LAKE_FAULTS))
def test_lake_unusable(s3_lake, moto_proxy, reference, chaos_report, name):
    env, faults, phrase = LAKE_FAULTS[name]
    chaos_report.fault = f"S3 {name.replace('-', ' ')}"
    chaos_report.expected = "bronze exit 3, one line, bronze and gold unchanged; re-run converges"
    for fault in faults:
        moto_proxy.add(fault)
    before = snapshot(s3_lake)
    run = attempt(s3_lake, env=env())
    line = check_failed_run(s3_lake, before, run, chaos_report, "bronze", 3)
    assert phrase in line.lower(), line
    moto_proxy.clear()
    rerun_converges(s3_lake, reference, chaos_report)
