"""Bank of Israel: the shekel's representative exchange rates (SDMX dataflow EXR), pivot ILS.

Endpoint: `/FusionEdgeServer/sdmx/v2/data/dataflow/BOI.STATISTICS/EXR/1.0/` with
`?c%5BDATA_TYPE%5D=OF00&startperiod=YYYY-MM-DD&endperiod=YYYY-MM-DD&format=csv` (OF00: the
official representative rate; both ends inclusive) answers an SDMX CSV, one line per currency
and business day:
`RER_JPY_ILS,D,JPY,ILS,ILS,OF00,BOI_MRKT,V,F,Y,2,,2026-03-02,1.971,YP` under the header
`SERIES_CODE,FREQ,BASE_CURRENCY,COUNTER_CURRENCY,…,UNIT_MULT,COMMENTS,TIME_PERIOD,OBS_VALUE,…`.

Quote: `OBS_VALUE` is ILS per 10**`UNIT_MULT` units of `BASE_CURRENCY`: JPY "1.971" is ILS per
100 yen (UNIT_MULT 2), LBP "0.0003" ILS per 10 pounds (UNIT_MULT 1), the others per 1.

Quirks: the lines come series by series, not day by day; 14 currencies; no line for a day
without a rate (the recording has Monday 2026-03-02, Thursday 03-05 and Friday 03-06), so only
an empty OBS_VALUE and the shekel's own line are skipped: every other daily line in shekels is
kept as published, code and value (even "jpy", "0" or "-1.5": silver checks them); a UNIT_MULT
that is not a power of ten fails the document, as no scale can carry it; a header without lines
gives no observation. One request per calendar year keeps each document near 250 KB.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from makerates_core.errors import UpstreamError

from makerates_bronze.providers.observation import Observation

SETTING = "BOI_BASE_URL"
PATH = "/FusionEdgeServer/sdmx/v2/data/dataflow/BOI.STATISTICS/EXR/1.0/"
PIVOT = "ILS"
COLUMNS = ("FREQ", "BASE_CURRENCY", "COUNTER_CURRENCY", "UNIT_MULT", "TIME_PERIOD", "OBS_VALUE")
NO_RATE = ""  # an empty OBS_VALUE: no rate that day
POWER = re.compile(r"\d{1,2}")


def requests(first: date, last: date) -> list[str]:
    """One path per calendar year of first..last."""
    return [
        f"{PATH}?c%5BDATA_TYPE%5D=OF00&startperiod={begin.isoformat()}"
        f"&endperiod={end.isoformat()}&format=csv"
        for begin, end in _years(first, last)
    ]


def _years(first: date, last: date) -> list[tuple[date, date]]:
    return [
        (max(first, date(year, 1, 1)), min(last, date(year, 12, 31)))
        for year in range(first.year, last.year + 1)
    ]


def parse(body: bytes, url: str) -> list[Observation]:
    """Every currency's daily representative rate in an EXR CSV document, at its published scale."""
    return [
        _observation(line, url)
        for line in _lines(body, url)
        if _is_daily_rate(line) and line["OBS_VALUE"].strip() != NO_RATE
    ]


def _observation(line: dict[str, str], url: str) -> Observation:
    rate_date = _iso(line["TIME_PERIOD"], url)
    units = _units(line["UNIT_MULT"], url)
    return Observation(rate_date, line["BASE_CURRENCY"], line["OBS_VALUE"], units)


def _lines(body: bytes, url: str) -> list[dict[str, str]]:
    try:
        reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        lines = list(reader)
    except (UnicodeDecodeError, csv.Error):
        raise _not_boi(url, "not CSV") from None
    if missing:
        raise _not_boi(url, f"no {', '.join(missing)} column")
    if any(None in line.values() for line in lines):
        raise _not_boi(url, "a line shorter than the header")
    return lines


def _is_daily_rate(line: dict[str, str]) -> bool:
    """A daily quote in shekels of a currency other than the shekel."""
    return (
        line["FREQ"] == "D" and line["COUNTER_CURRENCY"] == PIVOT and line["BASE_CURRENCY"] != PIVOT
    )


def _units(power: str, url: str) -> str:
    """UNIT_MULT is a power of ten: "2" means the rate is per 100 units."""
    if not POWER.fullmatch(power):
        raise _not_boi(url, f"UNIT_MULT {power!r} is not a power of ten")
    return str(10 ** int(power))


def _iso(period: str, url: str) -> str:
    try:
        return date.fromisoformat(period).isoformat()
    except ValueError:
        raise _not_boi(url, f"TIME_PERIOD {period!r} is not a day") from None


def _not_boi(url: str, why: str) -> UpstreamError:
    return UpstreamError(
        f"{url} is not a Bank of Israel SDMX EXR CSV document ({why}); check {SETTING}"
    )
