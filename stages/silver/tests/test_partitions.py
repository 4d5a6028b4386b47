"""Silver builds only the years new bronze loads touch, publishes the other years by reference,
and its publication equals a full rebuild row for row."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from makerates_silver import cli
from makerates_silver.project import project_dir
from makerates_silver.runner import MARTS, PARTITIONED, STATE, STATE_KEY, parquet

NOW = datetime.now(UTC).replace(microsecond=0)
# The marts without a row in these tests: bronze here is the ECB alone, so no consensus of
# official providers and no flags of it.
EMPTY = ("fct_consensus", "fct_rate_flags")
assert set(EMPTY) <= set(PARTITIONED)


def published(lake: Path) -> dict:
    return json.loads((lake / "silver" / "published.json").read_text())


def rows(lake: Path, keys: list[str]) -> list[tuple]:
    return sorted(duckdb.sql(f"select * from {parquet([str(lake / k) for k in keys])}").fetchall())


def written(lake: Path, run_id: str, mart: str) -> list[str]:
    """The year folders a run wrote for a partitioned mart."""
    folder = lake / "silver" / "runs" / run_id / mart
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def compiled(model: str) -> str:
    """The SQL dbt compiled for `model` in the last run (the work folder's target/)."""
    cache = Path(os.environ["XDG_CACHE_HOME"])
    (path,) = cache.glob(f"makerates/silver/*/target/compiled/**/{model}.sql")
    return path.read_text()


def assert_written(document: dict, lake: Path, years: list[str]) -> None:
    """Every partitioned mart of the publication's run wrote exactly `years`, except the EMPTY
    ones: no year at all, their run's zero-row file published instead."""
    run_id = document["run_id"]
    for mart in PARTITIONED:
        if mart in EMPTY:
            assert written(lake, run_id, mart) == [], mart
            assert document["tables"][mart] == [f"silver/runs/{run_id}/{mart}.empty.parquet"]
        else:
            assert written(lake, run_id, mart) == years, mart


def years_of(document: dict, mart: str) -> dict[str, str]:
    """year=YYYY → the run whose file the publication lists for it (the state's from `state`)."""
    keys = document["state"][STATE_KEY] if mart == STATE else document["tables"][mart]
    return {key.split("/")[4]: key.split("/")[2] for key in keys}


def test_a_backfill_then_a_daily_run_rebuild_only_their_years_and_equal_a_full_refresh(
    silver_env, bronze, capsys
):
    bronze.load(bronze.rows("2022-12-01", "2024-03-14", NOW - timedelta(hours=3)))
    assert cli.main(["run"]) == 0
    first = published(silver_env)
    assert written(silver_env, first["run_id"], "fct_rates") == [
        "year=2022",
        "year=2023",
        "year=2024",
    ]

    # a backfill re-reads the last days of 2022, one rate corrected
    backfill = bronze.rows("2022-12-27", "2022-12-30", NOW - timedelta(hours=2))
    usd = next(i for i, r in enumerate(backfill) if r["currency"] == "USD")
    backfill[usd] = {**backfill[usd], "rate": "1.0700"}
    bronze.load(backfill)
    assert cli.main(["run"]) == 0
    second = published(silver_env)
    run_id = second["run_id"]
    # the per-day marts and the means rebuild 2022; the calendars 2023 too (Dec 30 carries
    # into January); every other year is the first run's file
    for mart in (STATE, "fct_rates", "fct_observations", "fct_rates_monthly", "fct_rates_weekly"):
        assert written(silver_env, run_id, mart) == ["year=2022"], mart
        assert years_of(second, mart) == {
            "year=2022": run_id,
            "year=2023": first["run_id"],
            "year=2024": first["run_id"],
        }, mart
    for mart in ("fct_rates_calendar", "fct_provider_calendar"):
        assert written(silver_env, run_id, mart) == ["year=2022", "year=2023"], mart
        assert years_of(second, mart)["year=2024"] == first["run_id"]
    # the state read back only the year the new loads touch
    assert f"{first['run_id']}/{STATE}/year=2022/" in compiled(STATE)
    assert f"{first['run_id']}/{STATE}/year=2023/" not in compiled(STATE)
    # the weekly means read 2023's carried files too (the week of Dec 26 ends on Jan 1); the
    # monthly, whose months lie within their year, only the year they rebuild
    for source in ("fct_rates", "fct_observations"):
        carried_2023 = f"{first['run_id']}/{source}/year=2023/"
        assert carried_2023 in compiled("fct_rates_weekly"), source
        assert carried_2023 not in compiled("fct_rates_monthly"), source

    # the daily run: one new day, one year
    bronze.load(bronze.rows("2024-03-15", "2024-03-15", NOW - timedelta(hours=1)))
    assert cli.main(["run"]) == 0
    daily = published(silver_env)
    assert_written(daily, silver_env, ["year=2024"])
    assert years_of(daily, "fct_rates") == {
        "year=2022": run_id,
        "year=2023": first["run_id"],
        "year=2024": daily["run_id"],
    }
    usd = duckdb.sql(
        f"select rate from {parquet([str(silver_env / k) for k in daily['tables']['fct_rates']])} "
        "where rate_date = '2022-12-27' and currency = 'USD'"
    ).fetchone()
    assert str(usd[0]) == "1.070000000000000000"

    assert cli.main(["run", "--full-refresh"]) == 0
    full = published(silver_env)
    assert_written(full, silver_env, ["year=2022", "year=2023", "year=2024"])
    for mart in MARTS:
        assert rows(silver_env, daily["tables"][mart]) == rows(silver_env, full["tables"][mart]), (
            mart
        )
    assert rows(silver_env, daily["state"][STATE_KEY]) == rows(silver_env, full["state"][STATE_KEY])


def test_a_changed_model_rebuilds_every_year(silver_env, bronze, capsys, monkeypatch, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(project_dir(), project, ignore=shutil.ignore_patterns("tests", "src", "target"))
    monkeypatch.setenv("MAKERATES_DBT_PROJECT_DIR", str(project))
    bronze.load(bronze.rows("2023-12-20", "2024-01-10", NOW - timedelta(hours=2)))
    assert cli.main(["run"]) == 0
    before = published(silver_env)

    model = project / "models" / "marts" / "fct_rates.sql"
    model.write_text(model.read_text() + "\n-- a changed model\n")
    bronze.load(bronze.rows("2024-01-11", "2024-01-11", NOW - timedelta(hours=1)))
    assert cli.main(["run"]) == 0
    after = published(silver_env)
    assert after["model_hash"] != before["model_hash"]
    assert written(silver_env, after["run_id"], "fct_rates") == ["year=2023", "year=2024"]
    assert "rebuilding every year" in capsys.readouterr().err


def data_tests_run(lake: Path, run_id: str) -> set[str]:
    artifacts = lake / "silver" / "runs" / run_id / "artifacts"
    results = json.loads((artifacts / "run_results.json").read_text())["results"]
    return {r["unique_id"] for r in results if r["unique_id"].startswith("test.")}


def test_a_daily_run_leaves_out_only_the_tests_nothing_new_can_change(silver_env, bronze):
    """Settled tests (settled_tests.py): the seeds' on a build on a publication, and those of a
    source with no bronze file to read (bronze here is the ECB alone) on every build."""
    bronze.load(bronze.rows("2024-03-01", "2024-03-08", NOW - timedelta(hours=2)))
    assert cli.main(["run"]) == 0
    first = published(silver_env)["run_id"]
    bronze.load(bronze.rows("2024-03-11", "2024-03-11", NOW - timedelta(hours=1)))
    assert cli.main(["run"]) == 0
    daily = published(silver_env)["run_id"]
    manifest = silver_env / "silver" / "runs" / daily / "artifacts" / "manifest.json"
    nodes = json.loads(manifest.read_text())["nodes"]
    reads = {u: set(n["depends_on"]["nodes"]) for u, n in nodes.items() if u.startswith("test.")}
    read = (
        "model.makerates_silver.stg_ecb__rates",
        "model.makerates_silver.stg_bronze__completed_loads",
    )
    quiet = {u for u in nodes if u.startswith("seed.") or (".stg_" in u and u not in read)}
    on_seeds = {
        u for u, parents in reads.items() if parents <= quiet and any("seed." in p for p in parents)
    }
    on_frankfurter = {u for u, parents in reads.items() if any("frankfurter" in p for p in parents)}
    on_ecb = {u for u, parents in reads.items() if read[0] in parents}
    assert on_seeds and on_frankfurter and on_ecb

    full, incremental = data_tests_run(silver_env, first), data_tests_run(silver_env, daily)
    assert on_seeds <= full
    assert full - incremental == on_seeds
    assert not on_frankfurter & (full | incremental)
    assert on_ecb <= incremental
