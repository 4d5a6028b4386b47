"""What gold reads from the lake: `silver/published.json` and the Parquet table it points at."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import duckdb
from makerates_core.duck import connect
from makerates_core.errors import UpstreamError, UserError
from makerates_core.lake import Lake
from makerates_core.settings import Settings

from makerates_gold.items import Rates, group_rows

PUBLISHED_KEY = "silver/published.json"
TABLE = "fct_rates"


@dataclass(frozen=True)
class Published:
    run_id: str
    table_key: str
    table_uri: str


def read_published(settings: Settings) -> Published:
    lake = Lake(settings)
    text = lake.read_text(PUBLISHED_KEY)
    if text is None:
        raise UserError(
            f"no published silver in {lake.uri(PUBLISHED_KEY)}; run `makerates-silver run` first"
        )
    try:
        document = json.loads(text)
        run_id = str(document["run_id"])
        key = str(document["tables"][TABLE])
    except (ValueError, KeyError, TypeError) as exc:
        raise UpstreamError(
            f"{lake.uri(PUBLISHED_KEY)} is not a silver publication ({exc!r}); "
            "re-run `makerates-silver run`"
        ) from exc
    return Published(run_id=run_id, table_key=key, table_uri=lake.uri(key))


def load_days(settings: Settings, published: Published) -> dict[str, Rates]:
    """{day: {currency: rate}} from the published Parquet, rates as exact Decimals."""
    uri = published.table_uri.replace("'", "''")
    con = connect(settings)
    try:
        rows: list[tuple[str, str, Decimal]] = con.execute(
            "select strftime(rate_date, '%Y-%m-%d'), currency, rate "
            f"from read_parquet('{uri}') order by rate_date, currency"
        ).fetchall()
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UpstreamError(
            f"cannot read the published silver table {published.table_uri}: {first}"
        ) from exc
    finally:
        con.close()
    for _, _, rate in rows[:1]:
        if not isinstance(rate, Decimal):
            raise UpstreamError(
                f"{published.table_uri}: rate is {type(rate).__name__}, not DECIMAL; "
                "silver's contract is DECIMAL(38,18)"
            )
    return group_rows(rows)
