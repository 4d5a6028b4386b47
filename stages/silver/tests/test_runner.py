"""The silver runner end to end on a real dlt-written bronze lake (local folder)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from makerates_silver import cli
from makerates_silver.project import project_dir
from makerates_silver.runner import parquet

RECENTLY = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def extracted(*args: int) -> datetime:
    """An extraction time that keeps the order of the 2024 moment given, squeezed into the
    last few days (1/100 scale): source freshness refuses bronze older than 14 days."""
    return RECENTLY + (datetime(*args, tzinfo=UTC) - datetime(2024, 4, 1, tzinfo=UTC)) / 100


def fct_rates(lake: Path) -> str:
    """The published fct_rates as a DuckDB relation over its files (one per year)."""
    return parquet([str(lake / key) for key in published(lake)["tables"]["fct_rates"]])


def read_table(relation: str) -> dict[tuple[str, str], tuple[Decimal, datetime]]:
    """{(rate_date ISO, currency): (rate, extracted_at)} from fct_rates."""
    rows = duckdb.sql(
        f"select rate_date, currency, rate, source, extracted_at from {relation}"
    ).fetchall()
    assert all(isinstance(r[2], Decimal) for r in rows)
    assert {r[3] for r in rows} <= {"ecb"}
    return {(r[0].isoformat(), r[1]): (r[2], r[4]) for r in rows}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["run", *args])
    out, err = capsys.readouterr()
    return code, out, err


def published(lake: Path) -> dict:
    return json.loads((lake / "silver" / "published.json").read_text())


def expected(bronze, start: str, end: str) -> dict[tuple[str, str], Decimal]:
    return {
        (day, currency): Decimal(rate)
        for day, rates in bronze.history().items()
        if start <= day <= end
        for currency, rate in rates.items()
    }


def test_publishes_exactly_the_ecb_values_one_row_per_day_and_currency(silver_env, bronze, capsys):
    first = bronze.load(bronze.rows("2024-01-01", "2024-02-15", extracted(2024, 2, 15, 16)))
    second = bronze.load(bronze.rows("2024-02-01", "2024-03-31", extracted(2024, 4, 1, 16)))

    code, out, err = run(capsys)
    assert code == 0, err

    document = published(silver_env)
    run_id = document["run_id"]
    assert document["bronze_loads"] == sorted([first, second])
    runs = f"silver/runs/{run_id}"
    year = "year=2024/data_0.parquet"
    assert document["tables"] == {
        **{mart: [f"{runs}/{mart}/{year}"] for mart in (
            "fct_rates", "fct_rates_calendar", "fct_observations", "fct_provider_calendar",
            "fct_rates_weekly", "fct_rates_monthly",
        )},
        # no official provider, no independent check: no consensus, nothing flagged
        **{mart: [f"{runs}/{mart}.empty.parquet"] for mart in ("fct_consensus", "fct_rate_flags")},
        **{mart: [f"{runs}/{mart}.parquet"] for mart in (
            "fct_cross_rates_latest", "fct_quarantine", "dim_currencies", "dim_providers",
            "dim_provider_currencies",
        )},
    }  # fmt: skip
    relation = fct_rates(silver_env)
    table = read_table(relation)
    assert {key: rate for key, (rate, _) in table.items()} == expected(
        bronze, "2024-01-01", "2024-03-31"
    )
    (rows,) = duckdb.sql(f"select count(*) from {relation}").fetchone()
    assert rows == len(table)  # one row per (rate_date, currency), no all-NULL filler row
    types = {r[0]: r[1] for r in duckdb.sql(f"describe select * from {relation}").fetchall()}
    assert types == {
        "rate_date": "DATE",
        "currency": "VARCHAR",
        "rate": "DECIMAL(38,18)",
        "source": "VARCHAR",
        "extracted_at": "TIMESTAMP",
        "check_source": "VARCHAR",
        "check_rate": "DECIMAL(38,18)",
        "deviation": "DECIMAL(38,18)",
        "is_flagged": "BOOLEAN",
    }
    artifacts = silver_env / "silver" / "runs" / run_id / "artifacts"
    assert sorted(p.name for p in artifacts.iterdir()) == [
        "manifest.json",
        "run_results.json",
        "sources.json",
    ]
    assert f'"rows_published":{len(table)}' in out
    assert '"tests_passed":' in out


def test_newest_extraction_wins_whatever_the_load_order(silver_env, bronze, capsys):
    day = "2024-03-15"
    newer = [
        {**r, "rate": "9.0000" if r["currency"] == "USD" else r["rate"]}
        for r in bronze.rows(day, day, extracted(2024, 3, 20, 16), "eurofxref-hist-90d.xml")
    ]
    older = bronze.rows(day, day, extracted(2024, 3, 15, 16), "eurofxref-daily.xml")
    bronze.load(newer)  # the newer extraction lands first ...
    bronze.load(older)  # ... and an older one after it: the extraction time decides, not the load

    code, _, err = run(capsys)
    assert code == 0, err
    table = read_table(fct_rates(silver_env))
    assert table[(day, "USD")] == (
        Decimal("9.0000"),
        extracted(2024, 3, 20, 16).replace(tzinfo=None),
    )
    assert table[(day, "JPY")][1] == extracted(2024, 3, 20, 16).replace(tzinfo=None)
    assert len(table) == len(bronze.history()[day])


def test_an_incomplete_load_is_ignored(silver_env, bronze, capsys):
    done = bronze.load(bronze.rows("2024-03-01", "2024-03-08", extracted(2024, 3, 8, 16)))
    bronze.load(
        [
            {**r, "rate": "1"}
            for r in bronze.rows("2024-03-01", "2024-03-15", extracted(2024, 3, 15, 16))
        ],
        complete=False,
    )
    assert len(list((silver_env / "bronze" / "ecb_rates").glob("*.jsonl.gz"))) == 2

    code, _, err = run(capsys)
    assert code == 0, err
    document = published(silver_env)
    assert document["bronze_loads"] == [done]
    table = read_table(fct_rates(silver_env))
    assert {k: rate for k, (rate, _) in table.items()} == expected(
        bronze, "2024-03-01", "2024-03-08"
    )


@pytest.mark.parametrize(
    ("bad", "failing_test"),
    [
        (
            {"currency": "usd"},
            "currency_is_three_upper_case_letters_stg_ecb__rates (1 failure: usd)",
        ),
        ({"rate": "-1"}, "rate_is_positive_stg_ecb__rates (1 failure: -1.000000000000000000)"),
        ({"rate": "N/A"}, "not_null_stg_ecb__rates_rate (1 failure: 2024-03-11, "),
    ],
)
def test_a_bad_row_fails_the_build_and_leaves_published_untouched(
    silver_env, bronze, capsys, bad, failing_test
):
    bronze.load(bronze.rows("2024-03-01", "2024-03-08", extracted(2024, 3, 8, 16)))
    assert run(capsys)[0] == 0
    before = (silver_env / "silver" / "published.json").read_bytes()

    row = {**bronze.rows("2024-03-11", "2024-03-11", extracted(2024, 3, 11, 16))[0], **bad}
    bronze.load([row, *bronze.rows("2024-03-12", "2024-03-12", extracted(2024, 3, 12, 16))])
    code, _, err = run(capsys)

    assert code == 1
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, err
    assert error_lines[0].startswith(f"error: silver tests failed: {failing_test}"), err
    assert error_lines[0].endswith("; gold left unchanged"), err
    assert (silver_env / "silver" / "published.json").read_bytes() == before
    runs = sorted((silver_env / "silver" / "runs").iterdir())
    assert len(runs) == 2
    failed = next(r for r in runs if r.name != json.loads(before)["run_id"])
    assert sorted(p.name for p in (failed / "artifacts").iterdir()) == [
        "manifest.json",
        "run_results.json",
        "sources.json",
    ]
    # the test stopped what depends on it: the failed run wrote no mart (no fct_rates/year=…
    # folder, no fct_rates.empty.parquet) and no state, only dbt's artifacts
    assert not list(failed.rglob("*.parquet"))
    assert [p.name for p in failed.iterdir()] == ["artifacts"]
    results = json.loads((failed / "artifacts" / "run_results.json").read_text())["results"]
    assert any(r["status"] == "fail" for r in results)


def test_a_duplicate_key_in_the_mart_names_the_unique_test(silver_env, bronze, capsys, monkeypatch):
    """The failure line names the test and its failure count (the mart's own unique test)."""
    from makerates_silver import runner

    outcome = runner.DbtOutcome(
        success=False,
        results=[
            {
                "unique_id": "test.makerates_silver.unique_fct_rates_rate_date_currency.1a2b3c4d5e",
                "status": "fail",
                "failures": 3,
            },
            {
                "unique_id": "unit_test.makerates_silver.stg_ecb__rates.newest",
                "status": "fail",
                "failures": 1,
            },
            {
                "unique_id": "test.makerates_silver.not_null_fct_rates_rate.0a1b2c3d4e",
                "status": "pass",
                "failures": 0,
            },
        ],
        exception=None,
        seconds=0.1,
    )
    assert runner.failure_line(outcome) == (
        "silver tests failed: unique_fct_rates_rate_date_currency (3 failures), "
        "newest (unit test); gold left unchanged"
    )


def test_a_second_run_with_nothing_new_is_skipped(silver_env, bronze, capsys):
    bronze.load(bronze.rows("2024-03-01", "2024-03-08", extracted(2024, 3, 8, 16)))
    assert run(capsys)[0] == 0
    before = (silver_env / "silver" / "published.json").read_bytes()

    code, out, err = run(capsys)
    assert code == 0, err
    assert "nothing new in bronze" in err
    assert '"skipped":true' in out
    assert (silver_env / "silver" / "published.json").read_bytes() == before
    assert len(list((silver_env / "silver" / "runs").iterdir())) == 1

    bronze.load(bronze.rows("2024-03-11", "2024-03-11", extracted(2024, 3, 11, 16)))
    assert run(capsys)[0] == 0
    assert published(silver_env)["run_id"] != json.loads(before)["run_id"]


def test_empty_bronze_says_run_bronze_first(silver_env, capsys):
    code, _, err = run(capsys)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: bronze is empty")
    assert "run bronze first" in err
    assert not (silver_env / "silver" / "published.json").exists()


def test_only_incomplete_loads_is_a_clear_error(silver_env, bronze, capsys):
    bronze.load(bronze.rows("2024-03-01", "2024-03-01", extracted(2024, 3, 1, 16)), complete=False)
    code, _, err = run(capsys)
    assert code == 2
    assert "no completed load" in err.strip().splitlines()[-1]


def test_reusing_the_published_run_id_is_refused(silver_env, bronze, capsys, monkeypatch):
    monkeypatch.setenv("RUN_ID", "run-one")
    bronze.load(bronze.rows("2024-03-01", "2024-03-01", extracted(2024, 3, 1, 16)))
    assert run(capsys)[0] == 0
    bronze.load(bronze.rows("2024-03-04", "2024-03-04", extracted(2024, 3, 4, 16)))
    code, _, err = run(capsys)
    assert code == 2
    assert "already published" in err


def test_dbt_writes_nothing_into_the_project(silver_env, bronze, capsys):
    project = project_dir()
    before = sorted(
        p.relative_to(project) for p in project.rglob("*") if "__pycache__" not in p.parts
    )
    bronze.load(bronze.rows("2024-03-01", "2024-03-01", extracted(2024, 3, 1, 16)))
    assert run(capsys)[0] == 0
    after = sorted(
        p.relative_to(project) for p in project.rglob("*") if "__pycache__" not in p.parts
    )
    assert after == before


def test_docs_generates_a_static_site(silver_env, tmp_path, capsys):
    code = cli.main(["docs", "--out", str(tmp_path / "docs")])
    out, err = capsys.readouterr()
    assert code == 0, err
    index = Path(out.strip().splitlines()[-1])
    assert index == tmp_path / "docs" / "static_index.html"
    assert index.stat().st_size > 10_000
    manifest = json.loads((tmp_path / "docs" / "manifest.json").read_text())
    assert {"model.makerates_silver.stg_ecb__rates", "model.makerates_silver.fct_rates"} <= set(
        manifest["nodes"]
    )
    # the lineage graph: fct_rates ← int_rates__unioned (and the consensus) ← the staging models
    parents = manifest["parent_map"]
    assert set(parents["model.makerates_silver.fct_rates"]) == {
        "model.makerates_silver.int_rates__unioned",
        "model.makerates_silver.fct_consensus",
        "seed.makerates_silver.iso_4217_currencies",
    }
    assert {
        "source.makerates_silver.bronze.frankfurter_rates",
        "model.makerates_silver.stg_bronze__completed_loads",
    } <= set(parents["model.makerates_silver.stg_frankfurter__rates"])


def test_the_project_folder_can_be_set_by_environment(silver_env, tmp_path, monkeypatch):
    monkeypatch.setenv("MAKERATES_DBT_PROJECT_DIR", str(tmp_path / "nowhere"))
    from makerates_core.errors import UserError

    with pytest.raises(UserError, match="MAKERATES_DBT_PROJECT_DIR"):
        project_dir()
    monkeypatch.setenv("MAKERATES_DBT_PROJECT_DIR", str(Path(__file__).parents[1]))
    assert (project_dir() / "dbt_project.yml").is_file()
