"""The whole ECB history (~220k rows since 1999) through silver: exact to the digit.
(How fast is the benchmark's business: `just bench`.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest
from makerates_silver import cli
from makerates_silver.runner import parquet


@pytest.mark.slow
def test_full_ecb_history_is_exact(silver_env, bronze):
    rows = bronze.rows("1999-01-01", "2099-12-31", datetime.now(UTC))
    assert len(rows) > 190_000
    bronze.load(rows)

    assert cli.main(["run"]) == 0

    document = json.loads((silver_env / "silver" / "published.json").read_text())
    files = [str(silver_env / key) for key in document["tables"]["fct_rates"]]
    assert len(files) == len({r["rate_date"][:4] for r in rows})  # one file per year
    got = {
        (day.isoformat(), currency): rate
        for day, currency, rate in duckdb.sql(
            f"select rate_date, currency, rate from {parquet(files)}"
        ).fetchall()
    }
    want = {(r["rate_date"], r["currency"]): Decimal(r["rate"]) for r in rows}
    assert len(got) == len(want)
    assert got == want
