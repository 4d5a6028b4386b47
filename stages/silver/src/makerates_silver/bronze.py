"""What bronze holds: the completed loads that carry rates, and their files per source table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
from makerates_core import providers
from makerates_core.duck import connect
from makerates_core.errors import UpstreamError, UserError
from makerates_core.settings import Settings

RATE_TABLES = tuple(p.bronze_table for p in providers.registry())
LOADS_GLOB = "bronze/_dlt_loads/*.jsonl"


def files_variable(table: str) -> str:
    """The environment variable listing a bronze table's files for this build (the
    bronze_files macro reads it; runner.model_inputs sets it)."""
    return f"MAKERATES_BRONZE_{table.upper()}_FILES"


@dataclass(frozen=True)
class Inventory:
    loads: list[str]  # sorted ids of completed loads that wrote rate rows
    files: dict[str, dict[str, list[str]]]  # table → load id → its rate files

    @property
    def tables(self) -> list[str]:
        """The rate tables with at least one file."""
        return [table for table in RATE_TABLES if self.files.get(table)]

    def files_of(self, table: str, loads: list[str]) -> list[str]:
        by_load = self.files.get(table, {})
        return sorted(path for load in loads for path in by_load.get(load, []))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def inventory(settings: Settings) -> Inventory:
    """The completed bronze loads that wrote rate rows, and the rate files of every load.

    A run that found nothing new still completes a dlt load (state only); leaving those out
    keeps silver from republishing identical data. Rate files are named
    `<load_id>.<file_id>.jsonl.gz`, so the listing alone says which loads carry rates.
    """
    lake = settings.lake_url
    try:
        return _inventory(settings, lake)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UpstreamError(
            f"cannot list bronze under {lake}/bronze: {first}; check LAKE_URL, S3_ENDPOINT_URL "
            "and that these credentials may read bronze/"
        ) from exc


def _inventory(settings: Settings, lake: str) -> Inventory:
    files: dict[str, dict[str, list[str]]] = {}
    with connect(settings) as con:
        for table in RATE_TABLES:
            pattern = _literal(f"{lake}/bronze/{table}/*.jsonl.gz")
            for (path,) in con.execute(f"select file from glob({pattern})").fetchall():
                load_id = path.rsplit("/", 1)[-1].rsplit(".", 3)[0]
                files.setdefault(table, {}).setdefault(load_id, []).append(path)
        if not files:
            raise UserError(
                f"bronze is empty: no rates under {lake}/bronze ({', '.join(RATE_TABLES)}); "
                "run bronze first (`makerates-bronze run`, or `just pipeline`)"
            )
        (load_files,) = con.execute(
            f"select count(*) from glob({_literal(f'{lake}/{LOADS_GLOB}')})"
        ).fetchone()
        rows = []
        if load_files:
            rows = con.execute(
                f"""
                select distinct load_id
                from read_json({_literal(f"{lake}/{LOADS_GLOB}")},
                    format = 'newline_delimited',
                    columns = {{'load_id': 'VARCHAR', 'status': 'BIGINT'}})
                where status = 0 and load_id is not null
                order by load_id
                """
            ).fetchall()
    if not rows:
        raise UserError(
            f"bronze has no completed load under {lake}/bronze (only unfinished ones); "
            "run bronze again (`makerates-bronze run`) first"
        )
    with_rates = {load_id for by_load in files.values() for load_id in by_load}
    return Inventory(loads=[load_id for (load_id,) in rows if load_id in with_rates], files=files)


def changed_dates(settings: Settings, files: list[str]) -> set[date]:
    """The rate dates the rows of these bronze files are for: the only days whose silver rows
    a build on them can change (each provider's day is replaced whole by its newest
    extraction). A malformed date is left out: its row is quarantined or fails a test."""
    if not files:
        return set()
    listed = "[" + ", ".join(_literal(path) for path in files) + "]"
    try:
        with connect(settings) as con:
            rows = con.execute(
                f"select distinct try_cast(rate_date as date) from read_json({listed}, "
                "format = 'newline_delimited', compression = 'gzip', "
                "columns = {'rate_date': 'VARCHAR'})"
            ).fetchall()
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UpstreamError(f"cannot read the new bronze files' dates: {first}") from exc
    return {day for (day,) in rows if day is not None}
