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

from makerates_gold.items import DIGEST_VERSION, ECB, Rates

PUBLISHED_KEY = "silver/published.json"
TABLE = "fct_rates"


CURRENCIES = "dim_currencies"
PROVIDERS = "dim_providers"


@dataclass(frozen=True)
class Published:
    run_id: str
    table_key: str
    table_uri: str
    currencies_uri: str  # dim_currencies: names and minor units of the served currencies
    providers_uri: str  # dim_providers: the registry with each provider's coverage


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
        dims = {name: lake.uri(str(document["tables"][name])) for name in (CURRENCIES, PROVIDERS)}
    except (ValueError, KeyError, TypeError) as exc:
        raise UpstreamError(
            f"{lake.uri(PUBLISHED_KEY)} is not a silver publication ({exc!r}); "
            "re-run `makerates-silver run`"
        ) from exc
    return Published(
        run_id=run_id,
        table_key=key,
        table_uri=lake.uri(key),
        currencies_uri=dims[CURRENCIES],
        providers_uri=dims[PROVIDERS],
    )


@dataclass(frozen=True)
class Day:
    rates: Rates  # currency → rate, trailing zeros stripped, EUR left out
    sources: dict[str, str]  # currency → source, only for the rates that are not the ECB's


@dataclass(frozen=True)
class Summary:
    days: int
    first: str | None
    last: str | None
    skipped_rows: int  # rows on days without an ECB-calendar row (weekend snapshots)
    skipped_days: int


# The rows gold serves: every row of a day that has at least one row from the ECB calendar
# (the ECB, or Frankfurter filling an ECB day); an independent source's currencies ride along
# on those days. Rates stay DECIMAL here: only the rows of the years to compare become text.
_LOAD = """
create temp table silver as
select rate_date, currency, source, rate,
       bool_or(source in ('ecb', 'frankfurter')) over (partition by rate_date) as served
from read_parquet($uri)
where currency <> 'EUR' and rate is not null
"""
_SUMMARY = """
select count(distinct rate_date) filter (served),
       strftime(min(rate_date) filter (served), '%Y-%m-%d'),
       strftime(max(rate_date) filter (served), '%Y-%m-%d'),
       count(*) filter (not served),
       count(distinct rate_date) filter (not served)
from silver
"""
# One digest per year over every served row, in order: what the sync watermark compares.
# DuckDB's hash of each row (date, currency, the DECIMAL itself, source), then of the year's
# list: no row is cast to text (that cast alone was most of a daily sync's DuckDB time). The
# hash is DuckDB's own, so a DuckDB upgrade may change every digest: that costs one sync that
# compares every year and, the day hashes being unchanged, writes only the watermark.
YEAR_DIGESTS = """
select strftime(rate_date, '%Y'),
       $version || '-' || hash(list(hash(rate_date, currency, rate, source)
                                    order by rate_date, currency))
from silver where served group by 1
"""
_SPANS = """
select currency, strftime(min(rate_date), '%Y-%m-%d'), strftime(max(rate_date), '%Y-%m-%d'),
       if(bool_or(source = 'ecb'), null, arg_max(source, rate_date)),
       any_value(names.name), any_value(names.minor_units)
from silver left join read_parquet($names) as names on names.code = silver.currency
where served group by currency
"""
# Silver's names (from the ISO 4217 seed) of the served currencies and of the pivot.
_PIVOT = "select name, minor_units from read_parquet($names) where code = 'EUR'"
_PROVIDERS = """
select key, name, kind, pivot_currency, history, calendar, publishes_at,
       strftime(first_day, '%Y-%m-%d'), strftime(last_day, '%Y-%m-%d'), currencies,
       rows_quarantined
from read_parquet($uri) where key is not null order by fallback_order, key
"""
PROVIDER_FIELDS = (
    "key", "name", "kind", "pivot", "history", "calendar", "publishes_at", "first", "last",
    "currencies", "rows_quarantined",
)  # fmt: skip
# The served rows of some years, the rates as text with the trailing zeros of DECIMAL(38,18)
# stripped (never exponent notation), so one Decimal(text) per rate is all Python does.
_DAYS = """
select strftime(rate_date, '%Y-%m-%d'), currency,
       case when contains(raw, '.') then rtrim(rtrim(raw, '0'), '.') else raw end, source
from (select *, cast(rate as varchar) as raw from silver
      where served and list_contains($years, strftime(rate_date, '%Y')))
order by rate_date, currency
"""


class SilverTable:
    """The published Parquet, read once into DuckDB; gold asks it for digests, spans and
    only the days it has to compare, so a daily sync does not load the whole history."""

    def __init__(self, settings: Settings, published: Published):
        self.published = published
        self.con = connect(settings)
        try:
            columns = dict(
                self._fetch("select column_name, column_type from (describe select * from "
                            "read_parquet($uri))", uri=published.table_uri)
            )  # fmt: skip
            if not str(columns.get("rate", "")).startswith("DECIMAL") or "source" not in columns:
                raise UpstreamError(
                    f"{published.table_uri}: columns {columns}; silver's contract is rate "
                    "DECIMAL(38,18) and a source column"
                )
            self._fetch(_LOAD, uri=published.table_uri)
        except BaseException:
            self.con.close()
            raise

    def __enter__(self) -> SilverTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()

    def _fetch(self, sql: str, **params: object) -> list[tuple]:
        try:
            return self.con.execute(sql, params or None).fetchall()
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UpstreamError(
                f"cannot read the published silver table {self.published.table_uri}: {first}"
            ) from exc

    def summary(self) -> Summary:
        return Summary(*self._fetch(_SUMMARY)[0])

    def year_digests(self) -> dict[str, str]:
        return dict(self._fetch(YEAR_DIGESTS, version=DIGEST_VERSION))

    def currency_spans(self) -> dict[str, dict]:
        """code → first, last, name, minor_units (when ISO gives one), source (when none of
        its served rows is the ECB's)."""
        spans = {}
        names = self.published.currencies_uri
        for code, first, last, source, name, minor in self._fetch(_SPANS, names=names):
            span = {"first": first, "last": last, "name": name or code}
            if minor is not None:
                span["minor_units"] = int(minor)
            if source:
                span["source"] = source
            spans[code] = span
        return spans

    def pivot(self) -> dict:
        """The pivot's own entry: {"code": "EUR", "name": …, "minor_units": 2}."""
        rows = self._fetch(_PIVOT, names=self.published.currencies_uri)
        name, minor = rows[0] if rows else ("Euro", 2)
        return {"code": "EUR", "name": name, "minor_units": int(minor)}

    def providers(self) -> list[dict]:
        """Every provider of the registry with its coverage in this publication."""
        rows = self._fetch(_PROVIDERS, uri=self.published.providers_uri)
        return [
            {k: v for k, v in zip(PROVIDER_FIELDS, row, strict=True) if v is not None}
            for row in rows
        ]

    def days(self, years: list[str]) -> dict[str, Day]:
        """The served days of `years`, as exact Decimals."""
        days: dict[str, Day] = {}
        for day, currency, rate, source in self._fetch(_DAYS, years=years):
            found = days.get(day)
            if found is None:
                found = days[day] = Day(rates={}, sources={})
            found.rates[currency] = Decimal(rate)
            if source != ECB:
                found.sources[currency] = source
        return days
