"""The whole ECB history (~220k rows since 1999) through silver: exact, and fast."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest
from makerates_silver import cli


@pytest.mark.slow
def test_full_ecb_history_is_exact_and_builds_in_seconds(silver_env, bronze, capsys):
    rows = bronze.rows("1999-01-01", "2099-12-31", datetime(2026, 11, 26, 16, tzinfo=UTC))
    assert len(rows) > 190_000
    bronze.load(rows)

    assert cli.main(["run"]) == 0
    _, err = capsys.readouterr()
    (seconds,) = re.findall(r"dbt build took ([\d.]+)s", err)
    assert float(seconds) < 30, f"dbt build took {seconds}s on the full history"

    document = json.loads((silver_env / "silver" / "published.json").read_text())
    parquet = silver_env / document["tables"]["fct_rates"]
    got = {
        (day.isoformat(), currency): rate
        for day, currency, rate in duckdb.sql(
            f"select rate_date, currency, rate from read_parquet('{parquet}')"
        ).fetchall()
    }
    want = {(r["rate_date"], r["currency"]): Decimal(r["rate"]) for r in rows}
    assert len(got) == len(want)
    assert got == want
