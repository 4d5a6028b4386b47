"""Process faults: a stage SIGKILLed in the middle of its run, then the run repeated; two
pipeline runs at once on the same lake; two silver runs on two machines racing to publish."""

from __future__ import annotations

import json
import signal
import threading
import uuid
from pathlib import Path

import pytest
from chaos_helpers import (
    ECB_XML,
    StageResult,
    assert_bronze_kept,
    attempt,
    bad_rows,
    bronze_files,
    check_converged,
    default_silver_work_dir,
    direct,
    failed_events,
    gold_items,
    one_error_line,
    rerun_converges,
    resync_converges,
    served,
    snapshot,
    start,
    wait_for,
)
from fault_proxy import Fault
from makerates_core.events import read_outputs
from makerates_core.lake import Lake

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


@pytest.mark.fault(
    "two silver runs on two machines over one S3 lake, both built on the same publication",
    "the first to publish wins; the other exits 4 in one line, publishes nothing (run failed); "
    "gold serves the winner",
)
def test_two_machines_race_to_publish_silver(s3_lake, tmp_path, reference, chaos_report):
    assert s3_lake.run("makerates-bronze", "run").returncode == 0
    lake = Lake(direct(s3_lake))
    baseline, _ = lake.read_versioned("silver/published.json")
    assert baseline is not None
    tag = uuid.uuid4().hex[:8]
    winner_id, loser_id = f"chaos-a-{tag}", f"chaos-b-{tag}"
    # two machines: each its own work folder (and flock), so neither waits for the other
    machine_a = {"MAKERATES_SILVER_WORK_DIR": str(tmp_path / "machine-a")}
    machine_b = {"MAKERATES_SILVER_WORK_DIR": str(tmp_path / "machine-b")}

    # B reads published.json, takes its work folder's lock and starts dbt; frozen right there
    # (dbt parses the project, no request in flight), it stays built on the baseline's
    # publication while A runs from start to publish. Then B goes on and tries to publish.
    loser = start(s3_lake, "makerates-silver", "run", RUN_ID=loser_id, **machine_b)
    wait_for((tmp_path / "machine-b" / ".lock").exists)
    loser.send_signal(signal.SIGSTOP)
    try:
        winner = s3_lake.run(
            "makerates-silver", "run", check=False, extra_env={"RUN_ID": winner_id, **machine_a}
        )
    finally:
        loser.send_signal(signal.SIGCONT)
    out, err = loser.communicate(timeout=600)
    lost = StageResult(loser.returncode, out, err, read_outputs(out))

    assert winner.returncode == 0, winner.stderr[-2000:]
    published = json.loads(lake.read_text("silver/published.json"))
    chaos_report.see(f"A exit 0, published {winner.outputs.get('rows_published')} rows")
    line = one_error_line(lost)
    chaos_report.see(f"B exit {lost.returncode}: {line[7:]}")
    assert lost.returncode == 4, lost.stderr[-2000:]
    assert "another silver run published" in line and "nothing was published" in line, line
    assert "re-run silver" in line, line
    assert lost.outputs.get("status") == "failed"

    assert published["run_id"] == winner_id
    keys = [key for files in published["tables"].values() for key in files]  # per-year files
    assert any(f"/{winner_id}/" in key for key in keys), keys
    assert not [key for key in keys if f"/{loser_id}/" in key], keys
    assert lake.list_keys(f"silver/runs/{loser_id}"), "the loser built nothing?"
    chaos_report.see("published.json names A; B's run folder built but unpublished")
    chaos_report.bad_rows = bad_rows(served(s3_lake))  # gold still the baseline's

    assert s3_lake.run("makerates-gold", "sync").returncode == 0
    (event,) = failed_events(s3_lake, loser_id)  # silver's, copied from the lake by the sync
    assert event["error"].startswith("another silver run published"), event
    check_converged(s3_lake, reference, chaos_report)
    again = s3_lake.run(
        "makerates-silver",
        "run",
        extra_env={"RUN_ID": f"chaos-b2-{tag}", **machine_b},
    )
    assert again.outputs.get("skipped") is True, again.stderr[-2000:]
    assert again.outputs.get("published_run_id") == winner_id
    assert json.loads(lake.read_text("silver/published.json")) == published
    chaos_report.see("gold serves A's publication; B's re-run builds on it (nothing new: skips)")
