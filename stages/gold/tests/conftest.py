"""Fixtures for the gold tests: real ECB values in a real silver Parquet, and both hot stores
(the SQLite file, and DynamoDB served by moto on loopback), so every test runs on both."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal, localcontext
from pathlib import Path

import pytest
from ecb_mirror import History as EcbHistory
from makerates_core.duck import connect
from makerates_core.hotstore import HotStore, open_store, table_name
from makerates_core.lake import Lake, s3_client
from makerates_core.settings import Settings
from makerates_silver.runner import PARTITIONED as SILVER_PARTITIONED
from services import DUMMY_CREDENTIALS

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[3]
ISO_SEED = REPO / "stages" / "silver" / "seeds" / "iso_4217_currencies.csv"
REGISTRY = REPO / "core" / "src" / "makerates_core" / "providers.csv"
SILVER_MARTS = REPO / "stages" / "silver" / "models" / "marts"
PARTITION_BY = re.compile(r"partition_by\s*=\s*'(\w+)'")

History = dict[str, dict[str, str]]


HISTORY: History = EcbHistory.shipped().by_day()


def ecb_days(first: str, last: str) -> History:
    return {d: dict(r) for d, r in sorted(HISTORY.items()) if first <= d <= last}


@dataclass
class Deployment:
    """One lake + one hot tier, in-process (settings, store) and as a subprocess env."""

    kind: str
    env: dict[str, str]
    lake_dir: Path

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.env)

    def store(self) -> HotStore:
        return open_store(self.settings)

    @property
    def table(self) -> str:
        return table_name(self.settings, "rates")

    def items(self) -> list[dict]:
        store = self.store()
        return [i for pk in ("RATES", "META") for i in store.query(self.table, pk)]

    def publish(
        self,
        run_id: str,
        days: History,
        sources: dict[tuple[str, str], str] | None = None,
        observations: dict[str, History] | None = None,
    ) -> str:
        """Write a silver run as the contract says: Parquet, then published.json. Every rate
        is the ECB's unless `sources` names another for its (day, currency). The v2 marts:
        series `blend` is `days`, each source a series of its own rows, and `observations`
        adds providers (key → {day: {currency: rate per EUR}})."""
        csv_path = self.lake_dir.parent / f"{run_id}.csv"
        publications = [("blend", d, c, v) for d, rates in days.items() for c, v in rates.items()]
        with csv_path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["rate_date", "currency", "rate", "source"])
            for day, rates in sorted(days.items()):
                for currency, value in sorted(rates.items()):
                    source = (sources or {}).get((day, currency), "ecb")
                    writer.writerow([day, currency, value, source])
                    publications.append((source, day, currency, value))
        for provider, history in (observations or {}).items():
            publications += [(provider, d, c, v) for d, r in history.items() for c, v in r.items()]
        tables = {
            "fct_rates": f"""
                select cast(rate_date as date) as rate_date, currency,
                       cast(rate as decimal(38, 18)) as rate, source,
                       timestamp '2024-04-01 16:00:00' as extracted_at
                from read_csv('{csv_path}', all_varchar = true)
                order by rate_date, currency""",
            "dim_currencies": f"""
                select code, name, cast(minor_units as integer) as minor_units
                from read_csv('{ISO_SEED}', all_varchar = true)
                where code = 'EUR' or code in (
                    select currency from read_csv('{csv_path}', all_varchar = true))""",
            "dim_providers": f"""
                select key, name, kind, pivot_currency, history = 'true' as history, calendar,
                       publishes_at, cast(fallback_order as integer) as fallback_order,
                       cast(null as date) as first_day, cast(null as date) as last_day,
                       0 as currencies, 0 as rows_quarantined
                from read_csv('{REGISTRY}', all_varchar = true)""",
        }
        tables.update(self._v2_marts(run_id, publications))
        keys = {name: self.write_mart(run_id, name, sql) for name, sql in tables.items()}
        Lake(self.settings).write_text(
            "silver/published.json",
            json.dumps(
                {
                    "run_id": run_id,
                    "published_at": "2024-04-01T16:00:00+00:00",
                    "bronze_loads": [],
                    "tables": keys,
                }
            ),
        )
        return run_id

    def _v2_marts(self, run_id: str, publications: list[tuple[str, str, str, str]]) -> dict:
        """The v2 marts over (provider, day, currency, rate) as silver defines them: the
        calendar carries each publication until the next, at most CARRY_DAYS; the rollups are
        the exact mean, truncated at 18 places (silver's divide_exact)."""
        pubs = self.lake_dir.parent / f"{run_id}-publications.csv"
        rollups = self.lake_dir.parent / f"{run_id}-rollups.csv"
        _write_csv(pubs, ["provider", "rate_date", "currency", "rate"], publications)
        _write_csv(rollups, [*ROLLUP_COLUMNS], _rollups(publications))
        typed = f"""(select provider, cast(rate_date as date) as rate_date, currency,
                            cast(rate as decimal(38, 18)) as rate
                     from read_csv('{pubs}', all_varchar = true))"""
        rolled = f"""select provider, cast(period_start as date) as period_start, currency,
                            cast(rate as decimal(38, 18)) as rate,
                            cast(observations as integer) as observations,
                            cast(last_rate_date as date) as last_rate_date
                     from read_csv('{rollups}', all_varchar = true) where period = """
        return {
            "fct_provider_calendar": f"""
                with spans as (
                    select *, least(coalesce(lead(rate_date) over (
                        partition by provider, currency order by rate_date) - 1,
                        rate_date + {CARRY_DAYS}), rate_date + {CARRY_DAYS}) as last_day
                    from {typed}),
                days as (
                    select *, cast(unnest(generate_series(rate_date, last_day, interval 1 day))
                                   as date) as calendar_date
                    from spans)
                select provider, calendar_date, currency, rate_date,
                       cast(calendar_date - rate_date as integer) as days_carried, rate
                from days""",
            "fct_rates_weekly": rolled + "'week'",
            "fct_rates_monthly": rolled + "'month'",
            "dim_provider_currencies": f"""
                select provider, currency, min(rate_date) as first_day,
                       max(rate_date) as last_day, cast(count(*) as integer) as observations
                from {typed} where provider <> 'blend' group by all""",
        }

    def write_mart(self, run_id: str, name: str, sql: str) -> list[str]:
        """A mart of the run as silver writes it, its keys: one Parquet file per year for the
        partitioned ones (silver's macros/partitioned.sql), a zero-row file when none has a
        row; one file for the others."""
        column = partition_column(name)
        if column is None:
            return [self.write_table(f"silver/runs/{run_id}/{name}.parquet", sql)]
        with connect(self.settings) as con:
            years = con.execute(
                f"select distinct year({column}) from ({sql}) order by 1"
            ).fetchall()
        return [
            self.write_table(
                f"silver/runs/{run_id}/{name}/year={year}/data_0.parquet",
                f"select * from ({sql}) where year({column}) = {year}",
            )
            for (year,) in years
        ] or [self.write_table(f"silver/runs/{run_id}/{name}.empty.parquet", sql)]

    def write_table(self, key: str, sql: str) -> str:
        """One Parquet file of the run in the lake at `key`; its key."""
        name = key.replace("/", "-")
        lake = Lake(self.settings)
        target = (self.lake_dir.parent / name) if lake.is_s3 else self.lake_dir / key
        target.parent.mkdir(parents=True, exist_ok=True)
        with connect(self.settings) as con:
            con.execute(f"copy ({sql}) to '{target}' (format parquet)")
        if lake.is_s3:
            bucket, prefix = lake.url.removeprefix("s3://").split("/", 1)
            s3_client(self.settings).upload_file(str(target), bucket, f"{prefix}/{key}")
        return key

    def run(self, *command: str, extra_env: dict[str, str] | None = None):
        import subprocess

        return subprocess.run(
            [str(BIN / command[0]), *command[1:]],
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )


def partition_column(mart: str) -> str | None:
    """The date column silver writes `mart` one file per year by (the marts of
    makerates_silver.runner.PARTITIONED, by their model's `partition_by`, the config
    macros/partitioned.sql reads), or None for a one-file mart."""
    if mart not in SILVER_PARTITIONED:
        return None
    found = PARTITION_BY.search((SILVER_MARTS / f"{mart}.sql").read_text(encoding="utf-8"))
    assert found, f"silver's {mart} model names no partition_by"
    return found.group(1)


CARRY_DAYS = 14  # silver's carry_forward_days
ROLLUP_COLUMNS = (
    "period", "provider", "period_start", "currency", "rate", "observations", "last_rate_date",
)  # fmt: skip


def _write_csv(path: Path, header: list[str], rows: list) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _period_start(day: str, period: str) -> str:
    start = date.fromisoformat(day)
    start = start - timedelta(days=start.weekday()) if period == "week" else start.replace(day=1)
    return start.isoformat()


def _rollups(publications: list[tuple[str, str, str, str]]) -> list[tuple]:
    """Weekly (Monday start) and monthly means per (provider, currency), exact, truncated."""
    groups: dict[tuple[str, str, str, str], list[tuple[str, Decimal]]] = {}
    for provider, day, currency, rate in publications:
        for period in ("week", "month"):
            key = (period, provider, _period_start(day, period), currency)
            groups.setdefault(key, []).append((day, Decimal(rate)))
    rows = []
    for (period, provider, start, currency), values in sorted(groups.items()):
        with localcontext() as ctx:
            ctx.prec, ctx.rounding = 60, ROUND_DOWN
            mean = (sum(v for _, v in values) / len(values)).quantize(Decimal("1e-18"))
        rows.append((period, provider, start, currency, mean, len(values), max(values)[0]))
    return rows


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "LAKE_", "HOT_", "DYNAMODB_", "S3_", "TABLE_", "RUN_ID"))
    }
    env.update(DUMMY_CREDENTIALS)
    env["LAKE_URL"] = str(tmp_path / "lake")
    return env


@pytest.fixture
def make_deployment(request, tmp_path: Path) -> Callable[[str], Deployment]:
    """make_deployment("sqlite" | "dynamodb"): a fresh lake and hot tier of that kind."""

    def make(kind: str) -> Deployment:
        root = tmp_path / f"{kind}-{uuid.uuid4().hex[:6]}"
        env = _base_env(root)
        if kind == "sqlite":
            env["HOT_STORE"] = str(root / "hot.sqlite3")
        else:
            env["DYNAMODB_ENDPOINT_URL"] = request.getfixturevalue("moto_endpoint")
            env["TABLE_PREFIX"] = f"t{uuid.uuid4().hex[:8]}_"
        (root / "lake").mkdir(parents=True)
        return Deployment(kind=kind, env=env, lake_dir=root / "lake")

    return make


@pytest.fixture(params=["sqlite", "dynamodb"])
def deployment(request, make_deployment) -> Deployment:
    return make_deployment(request.param)


@pytest.fixture(scope="session")
def ecb() -> Callable[[str, str], History]:
    """ecb(first, last): the ECB's real published strings for the days in that range."""
    return ecb_days


class CountingStore:
    """A hot store that records the requests a read makes: (operation, projected attributes)."""

    def __init__(self, store: HotStore):
        self.store, self.calls = store, []

    @property
    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    def __getattr__(self, name):
        attr = getattr(self.store, name)
        if name in ("get_item", "batch_get", "query"):

            def counted(*args, **kwargs):
                self.calls.append((name, kwargs.get("attributes")))
                return attr(*args, **kwargs)

            return counted
        return attr


@pytest.fixture
def counting() -> type[CountingStore]:
    """counting(store): a CountingStore over it."""
    return CountingStore


def _exact(numerator: str, denominator: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 50
        return Decimal(numerator) / Decimal(denominator)


@pytest.fixture(scope="session")
def exact() -> Callable[[str, str], Decimal]:
    """exact(numerator, denominator): the quotient of two published strings at 50 digits."""
    return _exact


@pytest.fixture
def q1_2024(deployment: Deployment) -> History:
    """Silver published with the ECB's real Q1 2024, then synced."""
    from makerates_gold.sync import sync

    days = ecb_days("2024-01-01", "2024-03-31")
    deployment.publish("silver-q1", days)
    sync(deployment.settings, deployment.store())
    return days
