"""What bronze holds: the ids of the completed dlt loads that carry rates."""

from __future__ import annotations

from makerates_core.duck import connect
from makerates_core.errors import UserError
from makerates_core.settings import Settings

RATES_GLOB = "bronze/ecb_rates/*.jsonl.gz"
LOADS_GLOB = "bronze/_dlt_loads/*.jsonl"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def completed_loads(settings: Settings) -> list[str]:
    """Sorted ids of completed bronze loads that wrote rate rows.

    A run that found nothing new still completes a dlt load (state only); leaving those out
    keeps silver from republishing identical data. Rate files are named
    `<load_id>.<file_id>.jsonl.gz`, so the listing alone says which loads carry rates.
    """
    lake = settings.lake_url
    with connect(settings) as con:
        rate_files = con.execute(
            f"select file from glob({_literal(f'{lake}/{RATES_GLOB}')})"
        ).fetchall()
        with_rates = {path.rsplit("/", 1)[-1].rsplit(".", 3)[0] for (path,) in rate_files}
        (load_files,) = con.execute(
            f"select count(*) from glob({_literal(f'{lake}/{LOADS_GLOB}')})"
        ).fetchone()
        if not rate_files:
            raise UserError(
                f"bronze is empty: no completed ECB loads under {lake}/bronze; "
                "run bronze first (`makerates-bronze run`, or `just pipeline`)"
            )
        if not load_files:
            rows = []
        else:
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
    return [load_id for (load_id,) in rows if load_id in with_rates]
