"""Narodowy Bank Polski: the average rates of tables A and B from its Web API, pivot PLN.

Endpoints: `/api/exchangerates/tables/A/{start}/{end}/?format=json` and the same with `B` (ISO
dates, both inclusive; one request may span at most 93 days). The JSON document is a list of
tables, one per publication: `{"table": "A", "no": "041/A/NBP/2026", "effectiveDate":
"2026-03-02", "rates": [{"currency": "euro", "code": "EUR", "mid": 4.2304}, …]}`.

Quote: `mid` is PLN per 1 unit of the currency (EUR 4.2304; the API scales the printed tables'
per-100 quotes down to 1 unit, so IRR is 0.0000028), units "1", never inverse.

Quirks: table A (about 32 convertible currencies, EUR, USD and the SDR as XDR) is published
every Polish business day; table B (about 115 other currencies) only weekly, on Wednesdays;
the two share one bronze table, each row dated by its table's `effectiveDate`. `mid` is a
JSON number, read as its literal text (trailing zeros kept: "3.6770") and kept as published
with its `code` (even "0", "-1.5" or "jpy": silver checks them); only a null `mid` (no rate)
and PLN, the pivot, are skipped. A range without any table answers HTTP 404 "Brak danych" (no
data), which the caller reads as an empty document. The gold prices (`/api/cenyzlota`) are not
read. The API's history starts on 2002-01-02.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from makerates_core.errors import UpstreamError

from makerates_bronze.providers.observation import Observation

NO_DATA = b"Brak danych"  # the body of the 404 NBP answers for a range without a table
SETTING = "NBP_BASE_URL"
PATH = "/api/exchangerates/tables/{table}/{start}/{end}/?format=json"
TABLES = ("A", "B")
FIRST_DAY = date(2002, 1, 2)
MAX_DAYS = 93  # the most days one request may span
PIVOT = "PLN"
NO_RATE = (None,)  # a null `mid`: the one way the API says "no rate"


def requests(first: date, last: date) -> list[str]:
    """Both tables' paths for each span of at most 93 days of first..last (from 2002-01-02)."""
    start = min(max(first, FIRST_DAY), last)
    return [
        PATH.format(table=table, start=begin.isoformat(), end=end.isoformat())
        for begin, end in _spans(start, last)
        for table in TABLES
    ]


def _spans(first: date, last: date) -> list[tuple[date, date]]:
    spans = []
    while first <= last:
        end = min(last, first + timedelta(days=MAX_DAYS - 1))
        spans.append((first, end))
        first = end + timedelta(days=1)
    return spans


def parse(body: bytes, url: str) -> list[Observation]:
    """Every published rate of an NBP exchange-rate tables document."""
    return [rate for table in _tables(body, url) for rate in _rates(table, url)]


def _tables(body: bytes, url: str) -> list[dict]:
    try:
        tables = json.loads(body, parse_float=str, parse_int=str)
    except ValueError:
        raise _not_nbp(url, "not JSON") from None
    if not isinstance(tables, list) or not all(_is_table(table) for table in tables):
        raise _not_nbp(url, "not a list of tables with rates")
    return tables


def _is_table(table: object) -> bool:
    return (
        isinstance(table, dict)
        and isinstance(table.get("rates"), list)
        and all(isinstance(rate, dict) for rate in table["rates"])
    )


def _rates(table: dict, url: str) -> list[Observation]:
    try:
        rate_date = date.fromisoformat(table["effectiveDate"]).isoformat()
    except (KeyError, TypeError, ValueError):
        raise _not_nbp(url, "a table without an effectiveDate") from None
    if not all(_is_quote(rate) for rate in table["rates"]):
        raise _not_nbp(url, f"a rate of {rate_date} without a code and a mid")
    return [
        Observation(rate_date, rate["code"], rate["mid"])
        for rate in table["rates"]
        if rate["mid"] not in NO_RATE and rate["code"] != PIVOT
    ]


def _is_quote(rate: dict) -> bool:
    """A code as published and its `mid`: a number's literal text, or null (no rate)."""
    return (
        isinstance(rate.get("code"), str) and "mid" in rate and isinstance(rate["mid"], str | None)
    )


def _not_nbp(url: str, why: str) -> UpstreamError:
    return UpstreamError(
        f"{url} is not an NBP exchange-rate tables document ({why}); check {SETTING}"
    )
