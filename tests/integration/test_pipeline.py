"""The whole pipeline, end to end, on real ECB data, against both providers."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from ecb_mirror import History

REPO = Path(__file__).resolve().parents[2]


HISTORY = History.shipped().by_day()


@pytest.fixture
def deployment(deployment):
    """The ECB, its backup and the check: these tests are about the ECB's numbers (every
    provider runs in test_providers.py and in the `just pipeline` test below)."""
    deployment.env["SOURCES"] = "ecb,frankfurter,exchangerate_api"
    return deployment


def test_backfill_puts_exactly_the_ecb_numbers_in_gold(deployment):
    results = deployment.pipeline("backfill", "2024-01-01", "2024-03-31")
    expected = {d: rates for d, rates in HISTORY.items() if "2024-01-01" <= d <= "2024-03-31"}
    assert results["bronze"].outputs["rows_loaded_ecb"] == sum(len(r) for r in expected.values())

    items = {item["sk"]: item for item in deployment.hot_items() if item["pk"] == "RATES"}
    assert sorted(items) == sorted(expected)
    for day, rates in expected.items():
        # the ECB's currencies are the ECB's, digit for digit; the rest (the RBA publishes
        # 2024 in its recorded CSV) are marked with their provider
        item = items[day]
        ecb = {c: v for c, v in item["rates"].items() if c not in item.get("src", {})}
        assert ecb == {c: Decimal(v) for c, v in rates.items()}, day
        assert {c: str(v) for c, v in ecb.items()} == rates, day
        assert set(item.get("src", {}).values()) <= {"rba"}, day


def test_cross_rates_and_weekends_from_the_hot_tier(deployment):
    deployment.pipeline("backfill", "2024-03-01", "2024-03-31")
    friday = HISTORY["2024-03-15"]
    with localcontext() as ctx:
        ctx.prec = 50
        expected = Decimal(friday["JPY"]) / Decimal(friday["USD"])

    answer = deployment.rate("USD", "JPY", "2024-03-15")
    assert answer == {
        "base": "USD",
        "quote": "JPY",
        "date": "2024-03-15",
        "rate_date": "2024-03-15",
        "days_carried": 0,
        "rate": answer["rate"],
    }
    assert Decimal(answer["rate"]) == expected

    saturday = deployment.rate("USD", "JPY", "2024-03-16")
    assert saturday["date"] == "2024-03-16"
    assert saturday["rate_date"] == "2024-03-15" and saturday["days_carried"] == 1
    assert saturday["rate"] == answer["rate"]

    assert deployment.rate("EUR", "USD", "2024-03-17")["rate"] == friday["USD"]
    assert Decimal(deployment.rate("USD", "EUR", "2024-03-15")["rate"]) * Decimal(
        friday["USD"]
    ) == pytest.approx(Decimal(1), abs=Decimal("1e-40"))


def test_second_run_with_nothing_new_loads_and_changes_nothing(deployment, ecb_mirror):
    ecb_mirror.set_as_of(date(2026, 10, 30))
    first = deployment.pipeline()
    assert first["bronze"].outputs["rows_loaded"] > 0
    before = deployment.hot_items()

    second = deployment.pipeline()
    assert second["bronze"].outputs["rows_loaded"] == 0
    assert second["silver"].outputs["rows_published"] == 0
    assert second["gold"].outputs["items_written"] == 0
    assert deployment.hot_items() == before


def test_a_daily_run_after_a_backfill_starts_from_the_backfills_newest_day(deployment):
    """On an empty lake, a backfill up to the newest published day (the mirror's 2026-10-30):
    the next daily run asks that one day again and finds it unchanged, instead of reading
    INITIAL_LOOKBACK_DAYS (here back to 2026-10-01, inside the backfill) again."""
    since = datetime.now(UTC).date() - date(2026, 10, 1)
    deployment.env["INITIAL_LOOKBACK_DAYS"] = str(since.days)
    backfill = deployment.pipeline("backfill", "2026-10-01", "2026-10-30")
    assert backfill["bronze"].outputs["rows_loaded_ecb"] > 0

    bronze = deployment.pipeline()["bronze"].outputs
    assert bronze["rows_loaded_ecb"] == bronze["rows_loaded_frankfurter"] == 0
    assert bronze["sources"]["ecb"]["document"] == "eurofxref-daily.xml"
    assert bronze["sources"]["frankfurter"]["document"].startswith("/v1/2026-10-30..")  # ..today


def test_a_fresh_container_resumes_from_the_lake_state(deployment, ecb_mirror):
    ecb_mirror.set_as_of(date(2026, 10, 23))
    deployment.pipeline()
    assert deployment.rate("EUR", "USD")["rate_date"] == "2026-10-23"

    for local_state in deployment.workdir.rglob("*"):
        if local_state.is_file():
            local_state.unlink()
    ecb_mirror.set_as_of(date(2026, 10, 30))
    resumed = deployment.pipeline()

    new_days = [d for d in HISTORY if "2026-10-23" < d <= "2026-10-30"]
    assert resumed["bronze"].outputs["rows_loaded_ecb"] == sum(len(HISTORY[d]) for d in new_days)
    latest = deployment.rate("EUR", "USD")
    assert latest["rate_date"] == "2026-10-30"
    assert latest["rate"] == HISTORY["2026-10-30"]["USD"]


def test_unknown_currency_and_too_early_dates_fail_in_one_line(deployment):
    deployment.pipeline("backfill", "2024-03-11", "2024-03-15")
    for args in (("rate", "USD", "XYZ"), ("rate", "USD", "JPY", "--date", "1998-12-31")):
        result = deployment.run("makerates", *args, check=False)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_just_pipeline_runs_on_the_embedded_defaults(tmp_path, ecb_mirror):
    """The README's first command, through the justfile itself, on a folder lake and SQLite."""
    ecb_mirror.set_as_of(date(2026, 10, 30))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LAKE_", "HOT_", "DYNAMODB_", "S3_"))
    }
    env.update(LAKE_URL=str(tmp_path / "lake"), HOT_STORE=str(tmp_path / "hot.sqlite3"))
    env.update(ecb_mirror.env)
    done = subprocess.run(
        ["just", "pipeline"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    rate = subprocess.run(
        ["just", "rate", "USD", "JPY", "--json"], cwd=REPO, env=env, capture_output=True, text=True
    )
    answer = json.loads(rate.stdout)
    assert answer["rate_date"] == "2026-10-30"
    with localcontext() as ctx:
        ctx.prec = 50
        expected = Decimal(HISTORY["2026-10-30"]["JPY"]) / Decimal(HISTORY["2026-10-30"]["USD"])
    assert Decimal(answer["rate"]) == expected
