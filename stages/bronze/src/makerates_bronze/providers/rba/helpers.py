"""Reserve Bank of Australia: statistical table F11.1, daily exchange rates, pivot AUD.

Endpoint: `/statistics/tables/csv/f11.1-data.csv`, one CSV of the whole table, every day from
2023-01-03 on (the years before are separate historical spreadsheets, not read here), so any
range is that one request.

Format: UTF-8 with a byte-order mark; the table's title, ten header rows (`Title` "A$1=USD",
`Description`, `Frequency`, `Type`, `Units` "USD", two blank rows, `Source`, `Publication
date`, `Series ID`), one row per day dated `DD-Mon-YYYY` ("03-Jan-2023"), then blank lines.

Quote: inverse, units of the currency per 1 AUD (USD "0.7088", IDR "12039").

Quirks: the `Units` row names each column's currency, kept as published (even "jpy"); the
trade-weighted index (`Index`) and the IMF's SDR (a basket, not a currency) are skipped. A blank
cell is a day without a quote, skipped: the discontinued AED and ZAR keep empty columns, CAD, CHF
and PGK have long gaps; every other cell is kept as published (even "0", "-1.5" or "N/A": silver
checks them). Rates are taken at 16:00 Sydney time on Sydney business days (the NSW bank
holiday is a missing day).
"""

from __future__ import annotations

import csv
import re
from datetime import date

from makerates_core.errors import UpstreamError

from makerates_bronze.providers.observation import Observation

SETTING = "RBA_BASE_URL"
PATH = "/statistics/tables/csv/f11.1-data.csv"
# no column; the pivot, were it listed; the trade-weighted index; the IMF's basket
NOT_CURRENCIES = {"", "AUD", "Index", "SDR"}
NO_RATE = ""  # a blank cell: no quote that day
DAY = re.compile(r"(\d{2})-([A-Z][a-z]{2})-(\d{4})")
MONTHS = {
    name: number
    for number, name in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


def requests(first: date, last: date) -> list[str]:
    """The one whole-table document, whatever the range (the caller keeps first..last)."""
    return [PATH]


def parse(body: bytes, url: str) -> list[Observation]:
    """Every published quote of the F11.1 CSV, as inverse quotes of each currency per 1 AUD."""
    rows = _rows(body, url)
    currencies = _currencies(rows, url)
    return [
        Observation(rate_date, currency, value, inverse=True)
        for row in rows
        if (rate_date := _iso_day(row[0] if row else ""))
        for currency, value in zip(currencies, row[1:], strict=False)
        if currency is not None and value.strip() != NO_RATE
    ]


def _rows(body: bytes, url: str) -> list[list[str]]:
    try:
        return list(csv.reader(body.decode("utf-8-sig").splitlines()))
    except (UnicodeDecodeError, csv.Error):
        raise _not_f11(url, "not a UTF-8 CSV") from None


def _currencies(rows: list[list[str]], url: str) -> list[str | None]:
    """The `Units` row's code per data column; None for a column that is not a currency."""
    units = next((row[1:] for row in rows if row and row[0] == "Units"), None)
    if units is None:
        raise _not_f11(url, "no Units row")
    return [None if code in NOT_CURRENCIES else code for code in (cell.strip() for cell in units)]


def _iso_day(cell: str) -> str | None:
    """`03-Jan-2023` as `2023-01-03`; None for a cell that is not a date (a header row)."""
    match = DAY.fullmatch(cell)
    if not match or match.group(2) not in MONTHS:
        return None
    day, month, year = match.groups()
    return date(int(year), MONTHS[month], int(day)).isoformat()


def _not_f11(url: str, why: str) -> UpstreamError:
    return UpstreamError(
        f"{url} is not a Reserve Bank of Australia F11.1 exchange-rates CSV ({why}); "
        f"check {SETTING}"
    )
