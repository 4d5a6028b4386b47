"""National Bank of Ukraine: the hryvnia's official exchange rates, pivot UAH.

Endpoint: `/NBU_Exchange/exchange_site?start=YYYYMMDD&end=YYYYMMDD&sort=exchangedate&order=asc
&json` (both ends inclusive) answers a JSON list, one object per currency and day:
`{"exchangedate": "01.03.2026", "cc": "THB", "rate": 13.9116, "units": 10, "rate_per_unit":
1.39116, "calcdate": "26.02.2026", …}`.

Quote: `rate` is UAH per `units` units of `cc` (THB: UAH per 10 baht; HUF, KRW per 100; IDR,
VND per 1000). The numbers are JSON numbers: their literal text is the published figure.
`rate_per_unit` is derived (rate / units), so it is not read.

Quirks: dates are DD.MM.YYYY; every calendar day has a rate, set and published on an earlier
business day (`calcdate`; in the recording Friday's, Saturday's and Sunday's rates on Thursday,
Monday's on Friday), so a weekend repeats Friday's rate; the list holds the metals (XAU, XAG,
XPT, XPD: UAH per troy ounce), skipped, and the SDR (XDR), kept. So is every other entry, its
`cc`, `rate` and `units` as published (even "0", "N/A" or "usd": silver checks them), but for a
rate that is not published (null or ""). About 45 entries a day, so one request per calendar
month keeps each document near 300 KB (a year would be 3.5 MB).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from makerates_core.errors import UpstreamError

from makerates_bronze.providers.observation import Observation

SETTING = "NBU_BASE_URL"
PATH = "/NBU_Exchange/exchange_site"
PIVOT = "UAH"
METALS = frozenset({"XAU", "XAG", "XPT", "XPD"})
NO_RATE = (None, "")  # a rate that is not published: null or empty
FIELDS = ("exchangedate", "cc", "rate", "units")


def requests(first: date, last: date) -> list[str]:
    """One path per calendar month of first..last."""
    return [
        f"{PATH}?start={begin:%Y%m%d}&end={end:%Y%m%d}&sort=exchangedate&order=asc&json"
        for begin, end in _months(first, last)
    ]


def _months(first: date, last: date) -> list[tuple[date, date]]:
    spans = []
    while first <= last:
        next_month = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        end = min(last, next_month - timedelta(days=1))
        spans.append((first, end))
        first = next_month
    return spans


def parse(body: bytes, url: str) -> list[Observation]:
    """Every currency's published rate in an exchange_site document (metals left out)."""
    return [
        Observation(_iso(row["exchangedate"], url), row["cc"], row["rate"], row["units"])
        for row in _rows(body, url)
        if row["rate"] not in NO_RATE and row["cc"] not in METALS | {PIVOT}
    ]


def _rows(body: bytes, url: str) -> list[dict]:
    try:
        rows = json.loads(body, parse_float=str, parse_int=str)
    except ValueError:
        raise _not_nbu(url, "not JSON") from None
    if not isinstance(rows, list):
        raise _not_nbu(url, "not a list")
    for row in rows:
        if not isinstance(row, dict) or any(field not in row for field in FIELDS):
            raise _not_nbu(url, f"an entry without {', '.join(FIELDS)}")
        if row["rate"] not in NO_RATE and not all(
            isinstance(row[field], str) for field in ("cc", "rate", "units")
        ):
            raise _not_nbu(url, "an entry whose cc, rate or units is not text")
    return rows


def _iso(day: object, url: str) -> str:
    try:
        return datetime.strptime(str(day), "%d.%m.%Y").date().isoformat()
    except ValueError:
        raise _not_nbu(url, f"exchangedate {day!r} is not DD.MM.YYYY") from None


def _not_nbu(url: str, why: str) -> UpstreamError:
    return UpstreamError(
        f"{url} is not a National Bank of Ukraine exchange_site JSON document ({why}); "
        f"check {SETTING}"
    )
