"""Sync: exact values, idempotence, incremental writes; on both hot stores."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import subprocess
import sys
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from makerates_core.errors import UserError
from makerates_core.events import event_from_json, recent_runs, stage_run
from makerates_core.hotstore import open_store
from makerates_core.lake import Lake, s3_client
from makerates_gold.items import rates_hash, sync_item
from makerates_gold.run_events import COPY_DAYS, copy_run_events
from makerates_gold.sync import sync

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[3]


def test_each_published_day_holds_exactly_the_ecb_strings(deployment, q1_2024):
    store = deployment.store()
    days = {i["sk"]: i for i in store.query(deployment.table, "RATES")}
    assert sorted(days) == sorted(q1_2024)
    assert len(days) == 63
    for day, published in q1_2024.items():
        item = days[day]
        assert item["rates"] == {c: Decimal(v) for c, v in published.items()}, day
        assert {c: str(v) for c, v in item["rates"].items()} == published, day
        assert "EUR" not in item["rates"]
        assert item["h"] == rates_hash(item["rates"])
        assert item["run_id"] == "silver-q1"


def test_currencies_item_spans_every_code(deployment, q1_2024):
    item = deployment.store().get_item(deployment.table, "META", "CURRENCIES")
    spans = item["currencies"]
    assert set(spans) == {c for rates in q1_2024.values() for c in rates}
    assert spans["USD"] == {
        "first": "2024-01-02",
        "last": "2024-03-28",
        "name": "US Dollar",
        "minor_units": 2,
    }
    assert "EUR" not in spans


def test_a_second_sync_over_the_same_silver_writes_nothing(deployment, q1_2024):
    before = deployment.items()
    again = sync(deployment.settings, deployment.store())
    assert again.items_written == 0
    assert again.days_unchanged == len(q1_2024)
    assert again.years_compared == []
    assert deployment.items() == before

    full = sync(deployment.settings, deployment.store(), full=True)
    assert full.items_written == 0
    assert full.years_compared == ["2024"]
    assert deployment.items() == before


def test_a_watermark_of_an_older_digest_costs_one_compare_and_no_day_writes(deployment, q1_2024):
    store = deployment.store()
    store.put_items(deployment.table, [sync_item({"2024": "59ddbd3f6e9586dc3cd8"})])  # v1 form
    result = sync(deployment.settings, store)
    assert result.years_compared == ["2024"]
    assert (result.days_written, result.items_written) == (0, 1)  # only the new watermark
    assert sync(deployment.settings, store).years_compared == []


def test_a_changed_rate_in_a_new_silver_run_rewrites_only_that_day(deployment, q1_2024):
    changed = {d: dict(r) for d, r in q1_2024.items()}
    changed["2024-02-15"]["USD"] = "1.0777"
    deployment.publish("silver-fix", changed)

    result = sync(deployment.settings, deployment.store())
    assert result.days_written == 1
    assert result.days_unchanged == len(q1_2024) - 1
    # February's month of each v2 series (blend and ecb: day, week, month), the day and the
    # watermark; the spans did not change
    assert result.series_written == 6
    assert result.items_written == 6 + 2

    days = {i["sk"]: i for i in deployment.store().query(deployment.table, "RATES")}
    assert days["2024-02-15"]["rates"]["USD"] == Decimal("1.0777")
    assert days["2024-02-15"]["run_id"] == "silver-fix"
    assert {d for d, i in days.items() if i["run_id"] == "silver-fix"} == {"2024-02-15"}


def test_a_new_day_compares_only_its_own_year(deployment, ecb):
    deployment.publish("silver-1", ecb("2023-12-01", "2024-03-28"))
    first = sync(deployment.settings, deployment.store())
    assert first.years_compared == ["2023", "2024"]

    deployment.publish("silver-2", ecb("2023-12-01", "2024-04-02"))
    second = sync(deployment.settings, deployment.store())
    assert second.years_compared == ["2024"]
    assert second.days_written == 1
    spans = deployment.store().get_item(deployment.table, "META", "CURRENCIES")["currencies"]
    assert {k: spans["USD"][k] for k in ("first", "last")} == {
        "first": "2023-12-01",
        "last": "2024-04-02",
    }
    # v2: April's calendar month (it held March 28's carry), week and month, of both series
    # (blend and ecb); March's items are unchanged
    assert second.series_written == 2 * 3
    # + the day, the currencies and providers items (spans moved), the watermark
    assert second.items_written == 4 + 6


def test_a_daily_sync_hashes_only_the_series_files_silver_did_not_carry_forward(deployment, ecb):
    deployment.publish("silver-1", ecb("2023-12-01", "2024-03-28"))
    first = sync(deployment.settings, deployment.store())
    assert first.series_files_read == 6  # 2023 and 2024 of calendar, weekly, monthly
    carried = _published(deployment)["tables"]

    deployment.publish("silver-2", ecb("2023-12-01", "2024-04-02"))
    published = _published(deployment)
    for mart, keys in published["tables"].items():  # as silver does: 2023 by reference
        published["tables"][mart] = [k for k in carried[mart] if "year=2023" in k] + [
            k for k in keys if "year=2023" not in k
        ]
    Lake(deployment.settings).write_text("silver/published.json", json.dumps(published))
    before = {i["sk"]: i["h"] for i in deployment.store().query(deployment.table, "DAY#ecb")}

    second = sync(deployment.settings, deployment.store())
    assert second.series_files_read == 3
    assert second.series_written == 2 * 3  # April's day, week and month items, both series
    after = {i["sk"]: i["h"] for i in deployment.store().query(deployment.table, "DAY#ecb")}
    assert after["2023-12"] == before["2023-12"]
    assert sorted(k for k in after if after[k] != before.get(k)) == ["2024-04"]
    assert sync(deployment.settings, deployment.store()).series_files_read == 0
    assert sync(deployment.settings, deployment.store(), full=True).series_written == 0


def _published(deployment) -> dict:
    return json.loads(Lake(deployment.settings).read_text("silver/published.json"))


def test_no_published_silver_is_one_clear_error(deployment):
    with pytest.raises(UserError, match="makerates-silver run"):
        sync(deployment.settings, deployment.store())
    done = deployment.run("makerates-gold", "sync")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "error: no published silver" in done.stderr


def test_a_published_table_that_cannot_be_read_is_one_clear_error(deployment, ecb):
    deployment.publish("silver-gone", ecb("2024-03-01", "2024-03-08"))
    published = json.loads((deployment.lake_dir / "silver/published.json").read_text())
    keys = published["tables"]["fct_rates"]
    assert keys == ["silver/runs/silver-gone/fct_rates/year=2024/data_0.parquet"]
    for key in keys:
        (deployment.lake_dir / key).unlink()
    done = deployment.run("makerates-gold", "sync")
    assert done.returncode == 3, done.stderr
    assert "error: cannot read the published silver table" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_sync_command_reports_counts_to_kestra(deployment, ecb):
    march = ecb("2024-03-01", "2024-03-31")
    deployment.publish("silver-cli", march)

    def outputs(stdout: str) -> dict:
        lines = [line for line in stdout.splitlines() if line.startswith('::{"outputs"')]
        assert len(lines) == 1, stdout
        return json.loads(lines[0][2:-2])["outputs"]

    first = deployment.run("makerates-gold", "sync", extra_env={"RUN_ID": "gold-1"})
    assert first.returncode == 0, first.stderr
    # days, currencies, providers, watermark; v2 series of blend and ecb: the calendar's March
    # and April (the last rates' carry), the weeks starting in February and March, March
    assert outputs(first.stdout)["series_written"] == 2 * (2 + 2 + 1)
    assert outputs(first.stdout)["items_written"] == len(march) + 3 + 10
    assert outputs(first.stdout)["status"] == "succeeded"

    second = deployment.run("makerates-gold", "sync", extra_env={"RUN_ID": "gold-2"})
    assert second.returncode == 0, second.stderr
    assert outputs(second.stdout)["items_written"] == 0
    assert outputs(second.stdout)["days_unchanged"] == len(march)
    assert outputs(second.stdout)["run_id"] == "gold-2"


def test_sync_reads_silver_from_an_s3_lake(make_deployment, moto_endpoint, ecb):
    deployment = make_deployment("dynamodb")
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    deployment.env.update({"LAKE_URL": f"s3://{bucket}/lake", "S3_ENDPOINT_URL": moto_endpoint})
    s3_client(deployment.settings).create_bucket(Bucket=bucket)
    march = ecb("2024-03-01", "2024-03-31")
    deployment.publish("silver-s3", march)

    result = sync(deployment.settings, deployment.store())
    assert result.days_written == len(march)
    item = deployment.store().get_item(deployment.table, "RATES", "2024-03-15")
    assert {c: str(v) for c, v in item["rates"].items()} == march["2024-03-15"]


def _lines(item: dict) -> list[list[str]]:
    return [line.split(" ") for line in item["rows"].split("\n")]


def test_v2_series_items_hold_silver_calendar_and_rollups_as_exact_text(deployment, q1_2024):
    store = deployment.store()
    march = store.get_item(deployment.table, "DAY#ecb", "2024-03")
    by_day = {}
    for day, currency, rate, carried in _lines(march):
        by_day.setdefault(day, {})[currency] = (rate, int(carried))
    assert {c: r for c, (r, n) in by_day["15"].items()} == q1_2024["2024-03-15"]
    # Saturday and Sunday carry Friday's strings, one and two days on
    assert by_day["16"]["USD"] == (q1_2024["2024-03-15"]["USD"], 1)
    assert by_day["17"]["JPY"] == (q1_2024["2024-03-15"]["JPY"], 2)
    assert march["run_id"] == "silver-q1"

    month = store.get_item(deployment.table, "MONTH#blend", "2024-02")
    usd = [line for line in _lines(month) if line[1] == "USD"]
    february = [Decimal(r["USD"]) for d, r in q1_2024.items() if d.startswith("2024-02")]
    assert usd == [["01", "USD", str((sum(february) / len(february)).quantize(Decimal("1e-18"))
                                     .normalize()), str(len(february))]]  # fmt: skip


def test_the_providers_item_lists_each_providers_currency_spans(deployment, ecb):
    deployment.publish(
        "silver-nbp",
        ecb("2024-03-01", "2024-03-08"),
        observations={"nbp": {"2024-03-04": {"USD": "1.0851"}, "2024-03-06": {"USD": "1.0866"}}},
    )
    sync(deployment.settings, deployment.store())
    listed = deployment.store().get_item(deployment.table, "META", "PROVIDERS")["providers"]
    spans = {p["key"]: p["currency_spans"] for p in listed}
    assert spans["nbp"] == {"USD": ["2024-03-04", "2024-03-06"]}
    assert spans["ecb"]["JPY"] == ["2024-03-01", "2024-03-08"]
    assert spans["boc"] == {}
    day = deployment.store().get_item(deployment.table, "DAY#nbp", "2024-03")
    assert _lines(day)[:3] == [["04", "USD", "1.0851", "0"], ["05", "USD", "1.0851", "1"],
                               ["06", "USD", "1.0866", "0"]]  # fmt: skip


def _stage_events(deployment, run_id: str, fail: str | None = None) -> None:
    """Bronze and silver as they record a run: events in the lake, none in the hot tier."""
    settings = dataclasses.replace(deployment.settings, run_id=run_id)
    with stage_run(settings, "bronze") as run:
        run.counts["rows_loaded"] = 3
    with contextlib.suppress(UserError), stage_run(settings, "silver"):
        if fail:
            raise UserError(fail)


def _runs(deployment) -> dict[str, list[dict]]:
    settings = deployment.settings
    return {r["run_id"]: r["events"] for r in recent_runs(settings, open_store(settings))}


def test_gold_copies_the_lakes_run_events_once(deployment, counting):
    _stage_events(deployment, "run-a", fail="1 test failed")
    assert _runs(deployment) == {}  # bronze and silver never write the hot tier

    assert copy_run_events(deployment.settings, deployment.store()).written == 4
    events = _runs(deployment)["run-a"]
    assert [(e["stage"], e["event"]) for e in events] == [
        ("bronze", "started"),
        ("bronze", "succeeded"),
        ("silver", "started"),
        ("silver", "failed"),
    ]
    assert events[1]["counts"] == {"rows_loaded": 3}
    assert events[3]["error"] == "1 test failed"
    lake = Lake(deployment.settings)
    assert events == [event_from_json(lake.read_text(k)) for k in lake.list_keys("runs/")]

    again = counting(deployment.store())
    assert copy_run_events(deployment.settings, again).written == 0
    assert again.operations == ["batch_get"]  # the listed events' keys asked for, no Query
    assert _runs(deployment)["run-a"] == events


def test_only_the_last_weeks_events_are_copied(deployment):
    _stage_events(deployment, "run-old")
    written = date.fromisoformat(Lake(deployment.settings).list_keys("runs/")[0].split("/")[1])
    store = deployment.store()
    assert (
        copy_run_events(deployment.settings, store, today=written + timedelta(COPY_DAYS)).written
        == 0
    )
    assert copy_run_events(deployment.settings, store, today=written + timedelta(6)).written == 4


def test_an_object_that_is_not_its_event_is_left_out(deployment, caplog):
    _stage_events(deployment, "run-b")
    lake = Lake(deployment.settings)
    forged = lake.list_keys("runs/")[0].replace("started", "failed")
    lake.write_text(forged, json.dumps({"pk": "RUNS", "sk": "run-c#x#bronze#failed"}))
    lake.write_text(forged.replace("failed.json", "started.json.partial"), "{")
    assert copy_run_events(deployment.settings, deployment.store()).written == 4
    assert "not the run event its name says" in caplog.text
    assert [e["event"] for e in _runs(deployment)["run-b"]] == ["started", "succeeded"] * 2


def test_the_gold_commands_copy_the_runs_events(deployment, ecb):
    _stage_events(deployment, "run-d")
    done = deployment.run("makerates-gold", "sync", extra_env={"RUN_ID": "run-d"})
    assert done.returncode == 2 and "no published silver" in done.stderr  # failed, yet copied
    assert [(e["stage"], e["event"]) for e in _runs(deployment)["run-d"]] == [
        ("bronze", "started"),
        ("bronze", "succeeded"),
        ("silver", "started"),
        ("silver", "succeeded"),
        ("gold", "started"),
        ("gold", "failed"),
    ]

    _stage_events(deployment, "run-e", fail="lake down")
    done = deployment.run("makerates-gold", "copy-events")
    assert done.returncode == 0, done.stderr
    assert _runs(deployment)["run-e"][-1]["error"] == "lake down"

    def record_failure(run_id: str, stage: str) -> list[tuple[str, str, str | None]]:
        done = deployment.run(
            "makerates-gold", "record-failure", "--run-id", run_id, "--stage", stage,
            "--status", "3",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return [(e["stage"], e["event"], e.get("error")) for e in _runs(deployment)[run_id]]

    # silver recorded its failure in the lake: copied, and no second one
    _stage_events(deployment, "run-f", fail="1 test failed")
    assert record_failure("run-f", "silver")[2:] == [
        ("silver", "started", None),
        ("silver", "failed", "1 test failed"),
    ]
    # bronze could not record it (say the lake refused): the command records it
    _stage_events(deployment, "run-h")
    assert record_failure("run-h", "bronze")[-1] == (
        "bronze", "failed", "makerates-bronze exited with status 3"
    )  # fmt: skip
    assert len(_runs(deployment)["run-h"]) == 5

    deployment.publish("silver-g", ecb("2024-03-01", "2024-03-08"))
    _stage_events(deployment, "run-g")
    done = deployment.run("makerates-gold", "sync", extra_env={"RUN_ID": "run-g"})
    assert done.returncode == 0, done.stderr
    stages = [e["stage"] for e in _runs(deployment)["run-g"]]
    assert stages == ["bronze", "bronze", "silver", "silver", "gold", "gold"]


def test_run_events_are_copied_from_an_s3_lake(make_deployment, moto_endpoint):
    deployment = make_deployment("dynamodb")
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    deployment.env.update({"LAKE_URL": f"s3://{bucket}/lake", "S3_ENDPOINT_URL": moto_endpoint})
    s3_client(deployment.settings).create_bucket(Bucket=bucket)
    _stage_events(deployment, "run-s3")
    assert copy_run_events(deployment.settings, deployment.store()).written == 4
    assert len(_runs(deployment)["run-s3"]) == 4


def test_a_failed_just_pipeline_run_is_listed_by_makerates_runs(make_deployment):
    """`just pipeline` with its one source down: bronze fails (exit 3), gold's record-failure
    copies bronze's own events from the lake, `makerates runs` shows them as it always did."""
    deployment = make_deployment("sqlite")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    env = {
        **deployment.env,
        "RUN_ID": "run-just",
        "SOURCES": "ecb",
        "ECB_BASE_URL": f"http://127.0.0.1:{closed.getsockname()[1]}/stats/eurofxref",
        "HTTP_DEADLINE_SECONDS": "5",
    }
    done = subprocess.run(
        [str(BIN / "just"), "pipeline"], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    closed.close()
    assert done.returncode == 3, done.stderr
    events = _runs(deployment)["run-just"]
    assert [(e["stage"], e["event"]) for e in events] == [
        ("bronze", "started"),
        ("bronze", "failed"),
    ]
    assert f"error: {events[1]['error']}" in done.stderr
    assert "makerates-silver" not in done.stderr
