"""Run events: where each stage's land (the lake for bronze and silver, the runs table for
gold), and Kestra's output lines: printed for Kestra, a pipe or a file, never on a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from makerates_core.events import (
    RUNS_PK,
    event_from_json,
    kestra_line,
    lake_key,
    read_outputs,
    recent_runs,
    sort_key,
    sort_key_of,
    stage_run,
)
from makerates_core.hotstore import SqliteHotStore, table_name
from makerates_core.lake import Lake
from makerates_core.settings import Settings


def test_output_lines_merge_and_other_lines_are_ignored():
    stdout = "\n".join(
        [
            "2026-11-27T00:00:00 silver INFO building",
            kestra_line("outputs", {"run_id": "r1", "rows": 3}),
            kestra_line("metrics", [{"name": "rows", "value": 3}]),
            kestra_line("outputs", {"rows": 4, "missing_sources": ["frankfurter"]}),
        ]
    )
    assert read_outputs(stdout) == {"run_id": "r1", "rows": 4, "missing_sources": ["frankfurter"]}


@pytest.mark.parametrize("run_id", ["20261202T061123Z-1a2b3c", "kestra 7Hq/x#1"])
def test_a_lake_key_names_its_events_sort_key(run_id):
    at = datetime(2026, 12, 2, 6, 11, 23, 456789, tzinfo=UTC)
    key = lake_key(run_id, at, "silver", "failed")
    assert key.startswith("runs/2026-12-02/silver/")
    assert key.endswith("/061123.456-failed.json")
    assert key.count("/") == 4
    assert sort_key_of(key) == sort_key(run_id, at, "silver", "failed")
    assert sort_key_of(key) == f"{run_id}#2026-12-02T06:11:23.456+00:00#silver#failed"


@pytest.mark.parametrize(
    "key",
    [
        "runs/2026-12-02/bronze/r1/.061123.456-started.json.tmp1",  # a write in flight
        "runs/2026-12-02/bronze/r1/notes.txt",
        "runs/2026-12-02/bronze/061123.456-started.json",
    ],
)
def test_a_key_that_is_no_event_has_no_sort_key(key):
    assert sort_key_of(key) is None


def _settings(tmp_path, run_id: str) -> Settings:
    return Settings(
        lake_url=str(tmp_path / "lake"), hot_store=str(tmp_path / "hot.sqlite3"), run_id=run_id
    )


def test_bronze_and_silver_write_their_events_to_the_lake_not_the_hot_tier(tmp_path):
    settings = _settings(tmp_path, "run-lake")
    with stage_run(settings, "bronze") as run:
        run.counts["rows_loaded"] = 31
    url = "http://user:hunter2@lake.example/x"  # pragma: allowlist secret (a fake one)
    with pytest.raises(RuntimeError), stage_run(settings, "silver"):
        raise RuntimeError(f"tests failed at {url}\nsecond line")

    lake = Lake(settings)
    keys = lake.list_keys("runs/")
    events = [event_from_json(lake.read_text(key)) for key in keys]
    assert [sort_key_of(key) for key in keys] == [event["sk"] for event in events]
    # Keys list in the order the events happened, even within one millisecond.
    by = {(e["stage"], e["event"]): e for e in events}
    assert list(by) == [
        ("bronze", "started"),
        ("bronze", "succeeded"),
        ("silver", "started"),
        ("silver", "failed"),
    ]
    assert {e["pk"] for e in events} == {RUNS_PK}
    assert by["bronze", "succeeded"]["counts"] == {"rows_loaded": 31}
    assert isinstance(by["bronze", "succeeded"]["duration_s"], Decimal)
    assert by["silver", "failed"]["error"] == "tests failed at http://user:***@lake.example/x"
    assert not (tmp_path / "hot.sqlite3").exists()


def test_gold_writes_its_events_to_the_runs_table(tmp_path):
    settings = _settings(tmp_path, "run-hot")
    store = SqliteHotStore(settings.hot_store)
    with stage_run(settings, "gold", store) as run:
        run.counts["items_written"] = 5
    (listed,) = recent_runs(settings, store)
    assert [e["event"] for e in listed["events"]] == ["started", "succeeded"]
    assert listed["events"][1]["counts"] == {"items_written": 5}
    assert store.query(table_name(settings, "runs"), RUNS_PK)
    assert not Lake(settings).list_keys("runs/")


STAGE = """
import sys
from makerates_core.events import stage_run
from makerates_core.settings import Settings
with stage_run(Settings(lake_url=sys.argv[1], run_id="r-tty"), "bronze") as run:
    run.counts["rows_loaded"] = 7
print("done", flush=True)
"""


def _run_on_a_terminal(lake: str) -> str:
    """The stage snippet with its stdout on a pseudo-terminal; what the terminal showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", STAGE, lake], stdout=follower, stderr=subprocess.DEVNULL
    )
    os.close(follower)
    shown, deadline = b"", time.monotonic() + 60
    while time.monotonic() < deadline:
        if select.select([leader], [], [], 1)[0]:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            shown += chunk
    os.close(leader)
    assert process.wait(timeout=30) == 0
    return shown.decode()


def test_kestra_lines_reach_a_pipe_but_not_a_terminal(tmp_path):
    piped = subprocess.run(
        [sys.executable, "-c", STAGE, str(tmp_path / "piped")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    outputs = read_outputs(piped.stdout)
    assert outputs == {
        "run_id": "r-tty",
        "stage": "bronze",
        "status": "succeeded",
        "rows_loaded": 7,
    }
    metrics = [line for line in piped.stdout.splitlines() if line.startswith('::{"metrics"')]
    assert json.loads(metrics[0][2:-2])["metrics"][0]["value"] == 7

    shown = _run_on_a_terminal(str(tmp_path / "terminal"))
    assert "done" in shown, shown
    assert "::" not in shown, shown
