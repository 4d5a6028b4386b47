"""Faults of the S3 lake: the endpoint down, the bucket missing, access denied, and a failure
in the middle of writing silver. The baseline lake is copied into a moto bucket; the stages
reach S3 through the fault proxy, the checks reach it directly.
"""

from __future__ import annotations

import pytest
from chaos_helpers import (
    LAKE_FAULTS,
    attempt,
    check_failed_run,
    direct,
    rerun_converges,
    snapshot,
)
from fault_proxy import Fault
from makerates_core.lake import Lake

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


@pytest.mark.fault(
    "S3 fails in the middle of writing silver (500 on the Parquet upload)",
    "silver exit 3 (upstream), nothing published, gold unchanged; re-run converges",
)
def test_failure_while_writing_silver(s3_lake, moto_proxy, reference, chaos_report):
    published = Lake(direct(s3_lake)).read_text("silver/published.json")
    fault = moto_proxy.add(
        Fault("status", method="PUT|POST", path=r"/silver/runs/[^?]*\.parquet", status=500)
    )
    before = snapshot(s3_lake)
    run = attempt(s3_lake)
    assert fault.injected > 0, run.failure.stderr[-2000:]
    check_failed_run(s3_lake, before, run, chaos_report, "silver", 3)
    chaos_report.see(f"{fault.injected} uploads refused")
    assert Lake(direct(s3_lake)).read_text("silver/published.json") == published
    moto_proxy.clear()
    rerun_converges(s3_lake, reference, chaos_report)
