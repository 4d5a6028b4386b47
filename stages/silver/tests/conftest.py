"""A real bronze lake for silver's tests: files written by a dlt pipeline, as bronze writes them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from ecb_mirror import History

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

DOCUMENT = "eurofxref-hist.zip"


@cache
def ecb_history() -> dict[str, dict[str, str]]:
    """The ECB's own history file: {date: {currency: published string}}, N/A left out."""
    return History.shipped().by_day()


class Bronze:
    """Loads rows into `<root>/bronze` with dlt (pipeline makerates_bronze, dataset bronze)."""

    def __init__(self, root: Path, pipelines_dir: Path) -> None:
        self.root = root
        self.pipelines_dir = pipelines_dir

    history = staticmethod(ecb_history)

    @staticmethod
    def rows(start: str, end: str, extracted_at: datetime, document: str = DOCUMENT) -> list[dict]:
        """Bronze's row shape for the ECB days in [start, end]."""
        return [
            {
                "rate_date": day,
                "currency": currency,
                "rate": rate,
                "document": document,
                "extracted_at": extracted_at,
            }
            for day, rates in sorted(ecb_history().items())
            if start <= day <= end
            for currency, rate in rates.items()
        ]

    def load(
        self,
        rows: Iterable[dict],
        complete: bool = True,
        table: str = "ecb_rates",
        loaded_at: datetime | None = None,
    ) -> str:
        """One dlt load into bronze/<table>, under the source's dlt schema (`ecb` for
        ecb_rates) as bronze writes it. `complete=False` leaves its files without a
        _dlt_loads entry, as a load that crashed before finishing does; `loaded_at` back-dates
        its completion (what source freshness reads)."""
        import dlt

        pipeline = dlt.pipeline(
            pipeline_name="makerates_bronze_" + table.removesuffix("_rates"),
            destination=dlt.destinations.filesystem(bucket_url=str(self.root)),
            dataset_name="bronze",
            pipelines_dir=str(self.pipelines_dir),
        )
        schema = dlt.Schema(table.removesuffix("_rates"))
        info = pipeline.run(list(rows), table_name=table, schema=schema, loader_file_format="jsonl")
        (load_id,) = info.loads_ids
        for entry in (self.root / "bronze" / "_dlt_loads").glob(f"*{load_id}*"):
            if not complete:
                entry.unlink()
            elif loaded_at is not None:
                record = json.loads(entry.read_text())
                entry.write_text(json.dumps({**record, "inserted_at": loaded_at.isoformat()}))
        return load_id

    @staticmethod
    def frankfurter_rows(start: str, end: str, extracted_at: datetime) -> list[dict]:
        """bronze/frankfurter_rates rows for the ECB days in [start, end] (Frankfurter serves the
        ECB's own values), as bronze writes them."""
        return [
            {
                "rate_date": row["rate_date"],
                "currency": row["currency"],
                "rate": row["rate"],
                "base": "EUR",
                "request": f"/v1/{start}..{end}",
                "extracted_at": extracted_at,
            }
            for row in Bronze.rows(start, end, extracted_at)
        ]

    @staticmethod
    def exchangerate_api_rows(
        day: str,
        extracted_at: datetime,
        others: dict[str, str],
        skew: dict[str, Decimal] | None = None,
    ) -> list[dict]:
        """bronze/exchangerate_api_rates rows of a USD-based snapshot on `day`: the ECB's
        currencies re-based to USD and rounded to 6 significant digits as the provider publishes
        them (times `skew[currency]` where given), plus `others` (currencies the ECB lacks)."""
        ecb = {c: Decimal(r) for c, r in ecb_history()[day].items()}
        per_usd = {c: r / ecb["USD"] for c, r in ecb.items()} | {
            "EUR": 1 / ecb["USD"],
            "USD": Decimal(1),
        }
        for currency, factor in (skew or {}).items():
            per_usd[currency] *= factor
        quoted = {c: format(r, ".6g") for c, r in per_usd.items()}
        return [
            {
                "rate_date": day,
                "currency": currency,
                "rate": rate,
                "base": "USD",
                "published_at": f"{day}T00:02:31+00:00",
                "extracted_at": extracted_at,
            }
            for currency, rate in sorted((quoted | others).items())
        ]


@pytest.fixture
def bronze(tmp_path: Path) -> Bronze:
    return Bronze(tmp_path / "lake", tmp_path / "dlt")


@pytest.fixture
def silver_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local lake and hot tier under tmp_path; returns the lake folder."""
    lake = tmp_path / "lake"
    monkeypatch.setenv("LAKE_URL", str(lake))
    monkeypatch.setenv("HOT_STORE", str(tmp_path / "hot.sqlite3"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # silver's dbt work folder
    for name in ("RUN_ID", "S3_ENDPOINT_URL", "DYNAMODB_ENDPOINT_URL", "MAKERATES_SILVER_WORK_DIR"):
        monkeypatch.delenv(name, raising=False)
    return lake
