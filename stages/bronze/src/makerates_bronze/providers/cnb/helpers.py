"""Czech National Bank (ČNB): the koruna's daily fixing, one JSON document per calendar year.

Endpoint: `GET /cnbapi/exrates/daily-year?year=YYYY&lang=EN` on api.cnb.cz answers every fixing
of that year so far, one entry per currency and day:
`{"rates": [{"currencyCode": "JPY", "amount": 100, "validFor": "2026-03-02", "rate": 13.173}]}`.

Quote: `rate` is CZK per `amount` units of the currency (13.173 CZK per 100 JPY); `amount` is 1,
100 or 1000 (IDR). Rates are JSON numbers with three decimals kept as printed ("24.540"), so they
are read as text, never as floats.

Kept as published: every rate, amount and code (even "0", "N/A" or "jpy": silver checks them);
skipped: a rate that is not published (null or ""), CZK (the pivot) and XAU (gold).

Quirks: a year before its first fixing (New Year's Day) answers 200 with `{"rates": []}`; the
fixing is declared after 14:30 Prague time on Czech business days; the IMF's SDR is listed as
XDR; the archive starts in 1991.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from makerates_core.errors import UpstreamError

from makerates_bronze.providers.observation import Observation

SETTING = "CNB_BASE_URL"
PATH = "/cnbapi/exrates/daily-year"
FIRST_YEAR = 1991  # the first year of the API's archive: earlier years are never asked for
FIELDS = ("validFor", "currencyCode", "amount", "rate")
NOT_QUOTED = frozenset({"CZK", "XAU"})  # the pivot itself; gold is not a currency
NO_RATE = (None, "")  # a rate the fixing did not publish: null or empty


def requests(first: date, last: date) -> list[str]:
    """One daily-year request per calendar year touched by first..last, from 1991 on."""
    years = range(max(first.year, FIRST_YEAR), last.year + 1)
    return [f"{PATH}?year={year}&lang=EN" for year in years]


def parse(body: bytes, url: str) -> list[Observation]:
    """Every quote of a daily-year document, as published."""
    observations = (_observation(entry, url) for entry in _entries(body, url))
    return [observation for observation in observations if observation is not None]


def _entries(body: bytes, url: str) -> list[Any]:
    try:
        document = json.loads(body, parse_float=str, parse_int=str, parse_constant=str)
    except ValueError as exc:
        raise _not_cnb(url, f"not JSON: {exc}") from exc
    rates = document.get("rates") if isinstance(document, dict) else None
    if not isinstance(rates, list):
        raise _not_cnb(url, 'no "rates" list')
    return rates


def _observation(entry: Any, url: str) -> Observation | None:
    """The entry's quote as published; None for an unpublished rate, the pivot or gold."""
    if not isinstance(entry, dict) or not all(field in entry for field in FIELDS):
        raise _not_cnb(url, f"an entry without {', '.join(FIELDS)}: {repr(entry)[:80]}")
    code, amount, rate = entry["currencyCode"], entry["amount"], entry["rate"]
    if rate in NO_RATE:
        return None
    if not all(isinstance(value, str) for value in (code, amount, rate)):
        raise _not_cnb(url, f"an entry with a value that is not text: {repr(entry)[:80]}")
    if code in NOT_QUOTED:
        return None
    return Observation(_iso_day(entry["validFor"], url), code, rate, amount)


def _iso_day(value: Any, url: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError) as exc:
        raise _not_cnb(url, f"validFor {value!r} is not a date") from exc


def _not_cnb(url: str, reason: str) -> UpstreamError:
    return UpstreamError(f"{url} is not a CNB daily-year document ({reason}); check {SETTING}")
