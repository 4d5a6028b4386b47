"""Process faults: a stage SIGKILLed in the middle of its run, then the run repeated; two
pipeline runs at once on the same lake."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest
from chaos_helpers import (
    ECB_XML,
    assert_bronze_kept,
    attempt,
    bronze_files,
    check_converged,
    default_silver_work_dir,
    gold_items,
    one_error_line,
    rerun_converges,
    resync_converges,
    snapshot,
    start,
    wait_for,
)
from fault_proxy import Fault

pytestmark = pytest.mark.chaos


def killed(process) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.fault(
    "bronze SIGKILLed while loading (ECB loaded, Frankfurter answering)",
    "nothing rewritten; the repeated run converges",
)
def test_bronze_killed_mid_run(lake, sources, reference, chaos_report):
    hold = sources.add(Fault("delay", path=r"^/frankfurter/", delay=60))
    before = snapshot(lake)
    bronze = start(lake, "makerates-bronze", "run")
    wait_for(lambda: hold.injected > 0)
    killed(bronze)
    assert_bronze_kept(before.bronze, bronze_files(lake))
    assert gold_items(lake) == before.gold
    chaos_report.see("killed while Frankfurter was being read; bronze and gold intact")
    sources.clear()
    rerun_converges(lake, reference, chaos_report)


@pytest.mark.fault(
    "silver SIGKILLed during dbt build", "nothing published, gold unchanged; repeat converges"
)
def test_silver_killed_mid_build(lake, sources, reference, chaos_report):
    bronze = lake.run("makerates-bronze", "run")
    assert bronze.returncode == 0
    before = snapshot(lake)
    published = Path(lake.env["LAKE_URL"], "silver", "published.json").read_text()
    silver = start(lake, "makerates-silver", "run")
    work = default_silver_work_dir(lake)
    wait_for(lambda: any(work.glob("silver.duckdb*")))  # dbt is building
    killed(silver)
    assert Path(lake.env["LAKE_URL"], "silver", "published.json").read_text() == published
    assert gold_items(lake) == before.gold
    chaos_report.see("killed with dbt's database open; published.json and gold intact")
    rerun_converges(lake, reference, chaos_report)


@pytest.mark.fault(
    "gold SIGKILLed in the middle of a DynamoDB sync",
    "whole days only; the repeated sync converges",
)
def test_gold_killed_mid_sync(hot, moto_proxy, reference, chaos_report):
    # the third BatchWriteItem (after the `started` event and the day items) hangs
    hold = moto_proxy.add(Fault("delay", target=r"\.BatchWriteItem$", after=2, delay=60))
    gold = start(hot, "makerates-gold", "sync")
    wait_for(lambda: hold.injected > 0)
    killed(gold)
    chaos_report.see("killed while writing the currencies item")
    moto_proxy.clear()
    resync_converges(hot, reference, chaos_report)


@pytest.mark.fault(
    "a second silver run while one holds the lake",
    "the second refuses in one line (exit 2); the first publishes",
)
def test_second_silver_run_refuses(lake, sources, reference, chaos_report):
    assert lake.run("makerates-bronze", "run").returncode == 0
    first = start(lake, "makerates-silver", "run")
    lock = default_silver_work_dir(lake) / ".lock"
    wait_for(lock.exists)  # the first run holds it from here to the end of its build
    second = lake.run("makerates-silver", "run", check=False)
    _, err = first.communicate(timeout=300)
    line = one_error_line(second)
    chaos_report.see(f"second: exit {second.returncode}: {line[7:]}")
    assert second.returncode == 2 and "another silver run" in line
    assert first.returncode == 0, err[-2000:]
    assert lake.run("makerates-gold", "sync").returncode == 0
    check_converged(lake, reference, chaos_report)
    chaos_report.see("first published; converged")


@pytest.mark.fault(
    "two whole pipeline runs at once on the same lake",
    "each stage succeeds or refuses in one line; a repeat converges",
)
def test_two_pipelines_at_once(lake, sources, reference, chaos_report):
    sources.add(Fault("delay", path=ECB_XML, delay=0.5))  # both read while the other does
    runs = {}
    threads = [
        threading.Thread(target=lambda n=n: runs.__setitem__(n, attempt(lake))) for n in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    for n, run in sorted(runs.items()):
        loaded = run.results["bronze"].outputs.get("rows_loaded")
        chaos_report.see(f"run {n}: bronze loaded {loaded} rows")
        if run.failed_stage:
            line = one_error_line(run.failure)
            chaos_report.see(
                f"run {n}: {run.failed_stage} exit {run.failure.returncode}: {line[7:]}"
            )
        else:
            chaos_report.see(f"run {n}: all stages exit 0")
    assert any(run.failed_stage is None for run in runs.values())
    sources.clear()
    rerun_converges(lake, reference, chaos_report)
