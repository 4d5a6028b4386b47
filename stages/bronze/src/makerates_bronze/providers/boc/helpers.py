"""Bank of Canada: the Valet API's daily exchange rates (group FX_RATES_DAILY), pivot CAD.

Endpoint: `/valet/observations/group/FX_RATES_DAILY/json?start_date=…&end_date=…` (ISO dates,
both inclusive). The JSON document has `seriesDetail`, one `FX<ISO>CAD` series per currency,
and `observations`, one object per Canadian business day:
`{"d": "2026-03-12", "FXUSDCAD": {"v": "1.3617"}, …}`.

Quote: `v` is CAD per 1 unit of the currency (USD "1.3617"), always per 1, so the small
currencies carry few significant digits (IDR "0.000081", KRW "0.000915").

Quirks: the values are JSON strings, each kept as published with the code of its `FX…CAD` key
(even "0", "N/A" or "jpy": silver checks them); only a day without a value (`v` absent, null
or "") is skipped; a discontinued series (MYR, THB, VND) stays in `seriesDetail` but has
no key in the observations; the series start on 2017-01-03 (the legacy noon rates, 2007-2017,
are another group, not read here); a range without a business day answers an empty
`observations` list. Published by 16:30 ET. One request per calendar year keeps each document
small.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from makerates_core.errors import UpstreamError

from makerates_bronze.providers.observation import Observation

SETTING = "BOC_BASE_URL"
PATH = "/valet/observations/group/FX_RATES_DAILY/json"  # pragma: allowlist secret (a URL path)
FIRST_DAY = date(2017, 1, 3)
SERIES = re.compile(r"FX(.+)CAD")  # the code as published, whatever its case or length
NO_RATE = (None, "")  # a day without a value: `v` absent, null or empty


def requests(first: date, last: date) -> list[str]:
    """One path per calendar year of first..last, starting no earlier than the series do."""
    start = max(first, FIRST_DAY) if last >= FIRST_DAY else first
    return [
        f"{PATH}?start_date={begin.isoformat()}&end_date={end.isoformat()}"
        for begin, end in _years(start, last)
    ]


def _years(first: date, last: date) -> list[tuple[date, date]]:
    spans = []
    while first <= last:
        end = min(last, date(first.year, 12, 31))
        spans.append((first, end))
        first = end + timedelta(days=1)
    return spans


def parse(body: bytes, url: str) -> list[Observation]:
    """Every published rate of a Valet observations document; a day without rates gives none."""
    return [rate for day in _observations(body, url) for rate in _rates(day, url)]


def _observations(body: bytes, url: str) -> list:
    try:
        observations = json.loads(body, parse_float=str, parse_int=str)["observations"]
    except ValueError:
        raise _not_valet(url, "not JSON") from None
    except (KeyError, TypeError):
        raise _not_valet(url, "no observations") from None
    if not isinstance(observations, list):
        raise _not_valet(url, "observations is not a list")
    return observations


def _rates(day: object, url: str) -> list[Observation]:
    try:
        rate_date = date.fromisoformat(day["d"]).isoformat()
    except (KeyError, TypeError, ValueError):
        raise _not_valet(url, "an observation without a date") from None
    rates = []
    for key, value in day.items():
        if not (series := SERIES.fullmatch(key)):
            continue  # "d", or a key that is not a series
        rate = value.get("v") if isinstance(value, dict) else value
        if rate in NO_RATE:
            continue
        if not isinstance(value, dict) or not isinstance(rate, str):
            raise _not_valet(url, f'{key} of {rate_date} is not {{"v": a string}}')
        rates.append(Observation(rate_date, series.group(1), rate))
    return rates


def _not_valet(url: str, why: str) -> UpstreamError:
    return UpstreamError(
        f"{url} is not a Bank of Canada Valet observations document ({why}); check {SETTING}"
    )
