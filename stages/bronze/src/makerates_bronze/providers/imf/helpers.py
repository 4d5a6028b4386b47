"""The IMF's representative exchange rates for selected currencies, pivot USD.

Endpoint: `/external/np/fin/data/rms_mth.aspx?SelectDate={day}&reportType=REP&tsvflag=Y`, one
tab-separated document per calendar month (the month of `SelectDate`; we send its last day).
The document is a title line ("Representative Exchange Rates for Selected Currencies for March
2026"), then sections of about eleven business days each: a header `Currency<TAB>March 02,
2026<TAB>…`, one row per currency name ("Euro(1)", "Japanese yen"), a blank line, a title
"… Continued"; it ends with "Notes:".

Quote: the rates are currency units per 1 USD (JPY "156.400000": inverse), except the rows whose
name ends in "(1)", which are USD per 1 currency unit (EUR, GBP, AUD, NZD, BWP: not inverse);
units "1". The IMF gives names, not codes: NAMES maps those of the document to ISO 4217 and an
unknown name is kept as published (silver finds it is not a code).

Quirks: a day without a rate is "NA" (or an empty cell), skipped; every other cell is kept as
published (even "0", "-1.5" or "abc": silver checks them); rates of 1,000 and more carry a
thousands separator ("1,435.400000", KRW), the one character removed from the published string
(silver reads the rate as a decimal); U.S. dollar, the pivot, is listed at 1.000000 and
skipped. The SDR valuation reports (reportType SDRCV, CVSDR) are other documents, not read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from makerates_core.errors import UpstreamError

from makerates_bronze.providers.observation import Observation

SETTING = "IMF_BASE_URL"
PATH = "/external/np/fin/data/rms_mth.aspx?SelectDate={day}&reportType=REP&tsvflag=Y"
TITLE = "Representative Exchange Rates for Selected Currencies for "
HEADER = "Currency"
USD_PER_UNIT = "(1)"  # the row marker of the quotes in U.S. dollars per currency unit
PIVOT = "USD"
NO_RATE = ("NA", "")  # a day without a rate
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
NAMES = {
    "Algerian dinar": "DZD",
    "Australian dollar": "AUD",
    "Botswana pula": "BWP",
    "Brazilian real": "BRL",
    "Brunei dollar": "BND",
    "Canadian dollar": "CAD",
    "Chilean peso": "CLP",
    "Chinese yuan": "CNY",
    "Czech koruna": "CZK",
    "Danish krone": "DKK",
    "Euro": "EUR",
    "Indian rupee": "INR",
    "Israeli New Shekel": "ILS",
    "Japanese yen": "JPY",
    "Korean won": "KRW",
    "Kuwaiti dinar": "KWD",
    "Malaysian ringgit": "MYR",
    "Mauritian rupee": "MUR",
    "Mexican peso": "MXN",
    "New Zealand dollar": "NZD",
    "Norwegian krone": "NOK",
    "Omani rial": "OMR",
    "Peruvian sol": "PEN",
    "Philippine peso": "PHP",
    "Polish zloty": "PLN",
    "Qatari riyal": "QAR",
    "Saudi Arabian riyal": "SAR",
    "Singapore dollar": "SGD",
    "Swedish krona": "SEK",
    "Swiss franc": "CHF",
    "Thai baht": "THB",
    "Trinidadian dollar": "TTD",
    "U.A.E. dirham": "AED",
    "U.K. pound": "GBP",
    "U.S. dollar": "USD",
    "Uruguayan peso": "UYU",
}


def requests(first: date, last: date) -> list[str]:
    """One path per calendar month of first..last, each naming the month's last day."""
    paths = []
    month = first.replace(day=1)
    while month <= last:
        following = (month + timedelta(days=31)).replace(day=1)
        paths.append(PATH.format(day=(following - timedelta(days=1)).isoformat()))
        month = following
    return paths


def parse(body: bytes, url: str) -> list[Observation]:
    """Every published rate of a monthly representative-rates document (none: an empty month)."""
    lines = body.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()
    if not lines or not lines[0].startswith(TITLE):
        raise _not_imf(url, "no representative-rates title")
    rates, days = [], None
    for cells in (line.split("\t") for line in lines[1:] if "\t" in line):
        if cells[0].strip() == HEADER:
            days = [_day(cell, url) for cell in cells[1:]]
        elif days is None:
            raise _not_imf(url, "a row before the Currency header")
        else:
            rates += _row(cells[0].strip(), zip(days, cells[1:], strict=False))
    return rates


def _day(cell: str, url: str) -> str | None:
    """A header cell as an ISO date: March 02, 2026 → 2026-03-02 (whatever the locale)."""
    if not cell.strip():
        return None  # a trailing tab: no column
    try:
        month, day, year = cell.replace(",", " ").split()
        return date(int(year), MONTHS.index(month) + 1, int(day)).isoformat()
    except ValueError:
        raise _not_imf(url, f"a header cell {cell.strip()!r} that is not a date") from None


def _row(name: str, cells: Iterable[tuple[str | None, str]]) -> list[Observation]:
    inverse = not name.endswith(USD_PER_UNIT)
    published = name.removesuffix(USD_PER_UNIT).strip()
    code = NAMES.get(published, published)
    if code == PIVOT:
        return []
    return [
        Observation(day, code, cell.strip().replace(",", ""), inverse=inverse)
        for day, cell in cells
        if day is not None and cell.strip() not in NO_RATE
    ]


def _not_imf(url: str, why: str) -> UpstreamError:
    return UpstreamError(
        f"{url} is not an IMF representative-rates document ({why}); check {SETTING}"
    )
