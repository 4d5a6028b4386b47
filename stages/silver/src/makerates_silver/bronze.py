"""What bronze holds: which source tables have files, and the completed loads that carry rates."""

from __future__ import annotations

from dataclasses import dataclass

from makerates_core.duck import connect
from makerates_core.errors import UserError
from makerates_core.settings import Settings

RATE_TABLES = ("ecb_rates", "frankfurter_rates", "exchangerate_api_rates")
LOADS_GLOB = "bronze/_dlt_loads/*.jsonl"


@dataclass(frozen=True)
class Inventory:
    loads: list[str]  # sorted ids of completed loads that wrote rate rows
    tables: list[str]  # the rate tables with at least one file


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def inventory(settings: Settings) -> Inventory:
    """The completed bronze loads that wrote rate rows, and the rate tables that have files.

    A run that found nothing new still completes a dlt load (state only); leaving those out
    keeps silver from republishing identical data. Rate files are named
    `<load_id>.<file_id>.jsonl.gz`, so the listing alone says which loads carry rates.
    """
    lake = settings.lake_url
    with_rates: set[str] = set()
    tables = []
    with connect(settings) as con:
        for table in RATE_TABLES:
            pattern = _literal(f"{lake}/bronze/{table}/*.jsonl.gz")
            files = con.execute(f"select file from glob({pattern})").fetchall()
            if files:
                tables.append(table)
                with_rates.update(path.rsplit("/", 1)[-1].rsplit(".", 3)[0] for (path,) in files)
        if not tables:
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
    return Inventory(loads=[load_id for (load_id,) in rows if load_id in with_rates], tables=tables)
