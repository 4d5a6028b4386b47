"""A real bronze lake for silver's tests: files written by a dlt pipeline, as bronze writes them."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
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

    def load(self, rows: Iterable[dict], complete: bool = True) -> str:
        """One dlt load; `complete=False` leaves its files without a _dlt_loads entry,
        as a load that crashed before finishing does."""
        import dlt

        pipeline = dlt.pipeline(
            pipeline_name="makerates_bronze",
            destination=dlt.destinations.filesystem(bucket_url=str(self.root)),
            dataset_name="bronze",
            pipelines_dir=str(self.pipelines_dir),
        )
        info = pipeline.run(list(rows), table_name="ecb_rates", loader_file_format="jsonl")
        (load_id,) = info.loads_ids
        if not complete:
            for entry in (self.root / "bronze" / "_dlt_loads").glob(f"*{load_id}*"):
                entry.unlink()
        return load_id


@pytest.fixture
def bronze(tmp_path: Path) -> Bronze:
    return Bronze(tmp_path / "lake", tmp_path / "dlt")


@pytest.fixture
def silver_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local lake and hot tier under tmp_path; returns the lake folder."""
    lake = tmp_path / "lake"
    monkeypatch.setenv("LAKE_URL", str(lake))
    monkeypatch.setenv("HOT_STORE", str(tmp_path / "hot.sqlite3"))
    for name in ("RUN_ID", "S3_ENDPOINT_URL", "DYNAMODB_ENDPOINT_URL", "MAKERATES_SILVER_WORK_DIR"):
        monkeypatch.delenv(name, raising=False)
    return lake
