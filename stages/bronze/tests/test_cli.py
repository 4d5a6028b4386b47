"""`makerates-bronze` as Kestra and `just` call it: env in, Kestra output lines and exit codes out."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from bronze_helpers import completed_rows, published
from makerates_bronze import ecb
from makerates_bronze.cli import main


@pytest.fixture
def env(monkeypatch, tmp_path, ecb_mirror):
    lake = tmp_path / "lake"
    values = {
        "LAKE_URL": str(lake),
        "HOT_STORE": str(tmp_path / "hot.sqlite3"),
        "ECB_BASE_URL": ecb_mirror.base_url,
        "RUN_ID": "test-run",
    }
    for name in ("S3_ENDPOINT_URL", "DYNAMODB_ENDPOINT_URL", "INITIAL_LOOKBACK_DAYS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return lake


def outputs(stdout: str) -> dict:
    merged: dict = {}
    for line in stdout.splitlines():
        if line.startswith('::{"outputs"'):
            merged.update(json.loads(line[2:-2])["outputs"])
    return merged


def test_backfill_then_run_report_rows_document_and_newest_day(
    env, ecb_mirror, ecb_history, monkeypatch, capsys
):
    lookback = (datetime.now(UTC).date() - date(2026, 10, 1)).days  # the mirror ends 2026-10-30
    monkeypatch.setenv("INITIAL_LOOKBACK_DAYS", str(lookback))
    assert main(["backfill", "2024-03-25", "2024-03-28"]) == 0
    out = outputs(capsys.readouterr().out)
    assert out["status"] == "succeeded"
    assert out["document"] == ecb.HISTORY  # the mirror is at 2026-10-30: older than 90 days
    assert out["max_rate_date"] == "2024-03-28"
    expected = published(ecb_history, "2024-03-25", "2024-03-28")
    assert out["rows_loaded"] == len(completed_rows(env)) == len(expected)

    assert main(["run"]) == 0  # the cursor is still empty: from 2026-10-01 on
    out = outputs(capsys.readouterr().out)
    assert out["max_rate_date"] == "2026-10-30"
    assert out["rows_loaded"] == len(published(ecb_history, "2026-10-01", "2026-10-30"))


def test_upstream_failure_is_one_line_and_exit_3(env, ecb_mirror, monkeypatch, capsys):
    monkeypatch.setenv("ECB_BASE_URL", ecb_mirror.base_url + "/missing")
    assert main(["run"]) == 3
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1
    assert "/missing/eurofxref-daily.xml" in lines[0]
    assert "Traceback" not in err
    assert not (env / "bronze" / "ecb_rates").exists()


def test_bad_backfill_range_is_exit_2_before_touching_anything(env, capsys):
    assert main(["backfill", "2024-03-28", "2024-03-01"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: START 2024-03-28 is after END 2024-03-01; give the older day first"
    )
    assert not env.exists()
