"""The dates a backfill may ask for."""

from __future__ import annotations

import re
from datetime import date

from makerates_core.errors import UserError

from makerates_bronze.ecb import FIRST_DAY

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(text: str, name: str) -> date:
    try:
        if not ISO_DAY.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(
            f"{name} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2024-03-28"
        ) from None


def backfill_range(start: str, end: str, today: date) -> tuple[date, date]:
    """The closed range [START, END] a backfill loads; a one-line UserError when it cannot be."""
    first, last = parse_day(start, "START"), parse_day(end, "END")
    if first > last:
        raise UserError(f"START {first} is after END {last}; give the older day first")
    if first < FIRST_DAY:
        raise UserError(
            f"START {first} is before {FIRST_DAY}, the first ECB reference rate; "
            f"start at {FIRST_DAY} or later"
        )
    if last > today:
        raise UserError(
            f"END {last} is in the future (today is {today}); the ECB has not published it, "
            f"end at {today} or earlier"
        )
    return first, last
