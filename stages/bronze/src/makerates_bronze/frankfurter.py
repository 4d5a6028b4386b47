"""Frankfurter (frankfurter.dev): the ECB's reference rates as JSON, the ECB's backup.

`/v1/YYYY-MM-DD` and `/v1/latest` answer one day (`date`, `rates: {currency: rate}`; a day
without rates answers with the working day before it); `/v1/START..END` answers every working
day in the range (`rates: {day: {currency: rate}}`). Base EUR. Rates are kept as the body's
number literals.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, NamedTuple

from makerates_core.errors import UpstreamError

from makerates_bronze import upstream
from makerates_bronze.ecb import Rate

SETTING = "FRANKFURTER_BASE_URL"


class Answer(NamedTuple):
    base: str | None
    rates: list[Rate]


def range_path(first: date, last: date) -> str:
    return f"/v1/{first.isoformat()}..{last.isoformat()}"


def year_ranges(first: date, last: date) -> Iterator[tuple[date, date]]:
    """[first, last] cut at calendar-year ends: one request per year keeps answers small."""
    while first <= last:
        year_end = min(date(first.year, 12, 31), last)
        yield first, year_end
        first = date(first.year + 1, 1, 1)


def parse(document: dict[str, Any], url: str) -> Answer:
    """The rates of a one-day or a range answer, in the body's order."""
    rates = document.get("rates")
    if not isinstance(rates, dict):
        raise UpstreamError(
            f"{url} answered JSON without `rates` (keys: {', '.join(document) or 'none'}); "
            f"check {SETTING}"
        )
    base = upstream.text(document.get("base"))
    if "date" in document:
        day = document["date"]
        if not isinstance(day, str):
            raise UpstreamError(
                f"{url} answered a `date` that is not a day: {day!r}; check {SETTING}"
            )
        return Answer(base, [Rate(day, c, upstream.text(r)) for c, r in rates.items()])
    out = []
    for day, day_rates in rates.items():
        if not isinstance(day_rates, dict):
            raise UpstreamError(
                f"{url} answered neither one day (`date`) nor a range "
                f"(`rates` by day: {day!r} holds {type(day_rates).__name__}); check {SETTING}"
            )
        out.extend(Rate(day, c, upstream.text(r)) for c, r in day_rates.items())
    return Answer(base, out)


def fetch(base_url: str, path: str, limits: upstream.Limits) -> Answer:
    url = base_url.rstrip("/") + path
    return parse(upstream.get_json(url, limits, SETTING), url)
