"""What gold reads from the lake: `silver/published.json` and the Parquet files it points at
(each mart a list of files: one per year for silver's partitioned marts, read as one table)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb
from makerates_core.duck import connect
from makerates_core.errors import UpstreamError, UserError
from makerates_core.lake import Lake
from makerates_core.settings import Settings

from makerates_gold.items import DIGEST_VERSION, ECB, SERIES_DIGEST_VERSION, Rates

PUBLISHED_KEY = "silver/published.json"
TABLE = "fct_rates"


CURRENCIES = "dim_currencies"
PROVIDERS = "dim_providers"
# The v2 marts behind the series items (DESIGN.md, "v2: series items").
CALENDAR = "fct_provider_calendar"
WEEKLY = "fct_rates_weekly"
MONTHLY = "fct_rates_monthly"
PROVIDER_CURRENCIES = "dim_provider_currencies"
TABLES = (CURRENCIES, PROVIDERS, CALENDAR, WEEKLY, MONTHLY, PROVIDER_CURRENCIES)


@dataclass(frozen=True)
class Published:
    run_id: str
    uris: dict[str, list[str]]  # TABLE and TABLES → the URIs of their Parquet files
    keys: dict[str, list[str]] = field(default_factory=dict)  # the same files' lake keys

    @property
    def table_uris(self) -> list[str]:
        return self.uris[TABLE]

    @property
    def currencies_uris(self) -> list[str]:  # names and minor units of the served currencies
        return self.uris[CURRENCIES]

    @property
    def providers_uris(self) -> list[str]:  # the registry with each provider's coverage
        return self.uris[PROVIDERS]


def _keys(listed: object) -> list[str]:
    """A mart's files in published.json: a list of keys (an older silver wrote one key)."""
    if isinstance(listed, str):
        return [listed]
    if not isinstance(listed, list) or not listed:
        raise TypeError(f"not a list of files: {listed!r}")
    return [str(key) for key in listed]


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
        tables = {str(name): _keys(keys) for name, keys in document["tables"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UpstreamError(
            f"{lake.uri(PUBLISHED_KEY)} is not a silver publication ({exc!r}); "
            "re-run `makerates-silver run`"
        ) from exc
    missing = [name for name in (TABLE, *TABLES) if name not in tables]
    if missing:
        raise UpstreamError(
            f"the silver publication of run {run_id} has no {', '.join(missing)} (an older "
            "silver wrote it); re-run `makerates-silver run --full-refresh`"
        )
    uris = {name: [lake.uri(key) for key in tables[name]] for name in (TABLE, *TABLES)}
    keys = {name: tables[name] for name in (TABLE, *TABLES)}
    return Published(run_id=run_id, uris=uris, keys=keys)


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
from read_parquet($uri, hive_partitioning = false)
where currency <> 'EUR' and rate is not null
"""
_COLUMNS = """
select column_name, column_type
from (describe select * from read_parquet($uri, hive_partitioning = false))
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
from silver left join read_parquet($names, hive_partitioning = false) as names
     on names.code = silver.currency
where served group by currency
"""
# Silver's names (from the ISO 4217 seed) of the served currencies and of the pivot.
_PIVOT = """
select name, minor_units from read_parquet($names, hive_partitioning = false) where code = 'EUR'
"""
_PROVIDERS = """
select key, name, kind, pivot_currency, history, calendar, publishes_at,
       strftime(first_day, '%Y-%m-%d'), strftime(last_day, '%Y-%m-%d'), currencies,
       rows_quarantined
from read_parquet($uri, hive_partitioning = false) where key is not null order by fallback_order, key
"""
PROVIDER_FIELDS = (
    "key", "name", "kind", "pivot", "history", "calendar", "publishes_at", "first", "last",
    "currencies", "rows_quarantined",
)  # fmt: skip
# A DECIMAL(38,18) as text with its trailing zeros (and a bare point) stripped, never in
# exponent notation: `1.082300000000000000` → `1.0823`, `136.000…` → `136`.
_RATE_TEXT = """
create temp macro rate_text(rate) as (
    case when contains(cast(rate as varchar), '.')
         then rtrim(rtrim(cast(rate as varchar), '0'), '.') else cast(rate as varchar) end)
"""
# The served rows of some years, the rates as text, so one Decimal(text) per rate is all
# Python does.
_DAYS = """
select strftime(rate_date, '%Y-%m-%d'), currency, rate_text(rate), source
from silver where served and list_contains($years, strftime(rate_date, '%Y'))
order by rate_date, currency
"""
# The v2 series items (DESIGN.md): one item per (series, month). DuckDB hashes each month's
# rows (no text: the cast to text is the costly part), so only the months whose hash differs
# from the hot tier's are rendered as text and reach Python. A month lies in one yearly file
# of its mart (silver partitions them by the same date), so the files a sync already compared
# can be left out: the temp table holds only the rows of the new files.
_SERIES_PARTS = {
    CALENDAR: """select 'DAY#' || provider as pk, strftime(calendar_date, '%Y-%m') as sk,
                        calendar_date as day, currency, rate, days_carried as n
                 from read_parquet($fct_provider_calendar, hive_partitioning = false)""",
    WEEKLY: """select 'WEEK#' || provider, strftime(period_start, '%Y-%m'), period_start,
                      currency, rate, observations
               from read_parquet($fct_rates_weekly, hive_partitioning = false)""",
    MONTHLY: """select 'MONTH#' || provider, strftime(period_start, '%Y-%m'), period_start,
                       currency, rate, observations
                from read_parquet($fct_rates_monthly, hive_partitioning = false)""",
}
SERIES_MARTS = tuple(_SERIES_PARTS)
_SERIES_HASH = "hash(list(hash(day, currency, rate, n) order by day, currency))"
_SERIES_HASHES = f"select pk, sk, $version || '-' || {_SERIES_HASH} from series group by pk, sk"
_SERIES_ROWS = f"""
select pk, sk,
       string_agg(strftime(day, '%d') || ' ' || currency || ' ' || rate_text(rate) || ' ' || n,
                  chr(10) order by day, currency),
       $version || '-' || {_SERIES_HASH}
from series semi join (select unnest($keys) as key) on key = pk || '|' || sk
group by pk, sk order by pk, sk
"""
# Each registry provider's currencies: code → [first, last].
_PROVIDER_CURRENCIES = """
select provider, map_from_entries(list((currency, [strftime(first_day, '%Y-%m-%d'),
                                                   strftime(last_day, '%Y-%m-%d')])
                                       order by currency))
from read_parquet($uri, hive_partitioning = false) group by provider
"""


class SilverTable:
    """The published Parquet, read once into DuckDB; gold asks it for digests, spans and
    only the days it has to compare, so a daily sync does not load the whole history."""

    def __init__(self, settings: Settings, published: Published):
        self.published = published
        self.where = f"{TABLE} of silver run {published.run_id} ({published.table_uris[0]}, …)"
        self.con = connect(settings)
        try:
            columns = dict(self._fetch(_COLUMNS, uri=published.table_uris))
            if not str(columns.get("rate", "")).startswith("DECIMAL") or "source" not in columns:
                raise UpstreamError(
                    f"{self.where}: columns {columns}; silver's contract is rate "
                    "DECIMAL(38,18) and a source column"
                )
            self._fetch(_LOAD, uri=published.table_uris)
            self._fetch(_RATE_TEXT)
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
                f"cannot read the published silver table {self.where}: {first}"
            ) from exc

    def summary(self) -> Summary:
        return Summary(*self._fetch(_SUMMARY)[0])

    def year_digests(self) -> dict[str, str]:
        return dict(self._fetch(YEAR_DIGESTS, version=DIGEST_VERSION))

    def currency_spans(self) -> dict[str, dict]:
        """code → first, last, name, minor_units (when ISO gives one), source (when none of
        its served rows is the ECB's)."""
        spans = {}
        names = self.published.currencies_uris
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
        rows = self._fetch(_PIVOT, names=self.published.currencies_uris)
        name, minor = rows[0] if rows else ("Euro", 2)
        return {"code": "EUR", "name": name, "minor_units": int(minor)}

    def providers(self) -> list[dict]:
        """Every provider of the registry with its coverage in this publication, and the
        span of each currency it publishes (`currency_spans`: code → [first, last])."""
        uri = self.published.uris[PROVIDER_CURRENCIES]
        spans = {key: dict(codes) for key, codes in self._fetch(_PROVIDER_CURRENCIES, uri=uri)}
        listed = []
        for row in self._fetch(_PROVIDERS, uri=self.published.providers_uris):
            provider = {k: v for k, v in zip(PROVIDER_FIELDS, row, strict=True) if v is not None}
            provider["currency_spans"] = spans.get(provider["key"], {})
            listed.append(provider)
        return listed

    def series_hashes(self, compared: set[str]) -> dict[tuple[str, str], str]:
        """(pk, sk) → h of the series items (DESIGN.md) in the files of this publication whose
        lake keys are not in `compared` (the files a previous sync compared: silver never
        rewrites a file under the same key, it carries unchanged years forward by reference)."""
        published = self.published
        files = {
            mart: [uri for uri, key in zip(published.uris[mart], published.keys[mart], strict=True)
                   if key not in compared]
            for mart in SERIES_MARTS
        }  # fmt: skip
        parts = [_SERIES_PARTS[mart] for mart, uris in files.items() if uris]
        if not parts:
            return {}
        params = {mart: uris for mart, uris in files.items() if uris}  # $mart in its part
        self._fetch("create temp table series as " + " union all ".join(parts), **params)
        hashes = self._fetch(_SERIES_HASHES, version=SERIES_DIGEST_VERSION)
        return {(pk, sk): h for pk, sk, h in hashes}

    def series_files(self) -> list[str]:
        """The lake keys of the files behind the series items, as the watermark records them."""
        return [key for mart in SERIES_MARTS for key in self.published.keys[mart]]

    def series_rows(self, keys: list[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
        """(pk, sk, rows, h) of the series items `keys` (after series_hashes)."""
        wanted = [f"{pk}|{sk}" for pk, sk in keys]
        return self._fetch(_SERIES_ROWS, keys=wanted, version=SERIES_DIGEST_VERSION)

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
