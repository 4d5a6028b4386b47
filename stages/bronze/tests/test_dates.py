"""Backfill ranges: closed, 1999-01-04 or later, not in the future, one-line errors."""

from __future__ import annotations

from datetime import date

import pytest
from makerates_bronze.dates import backfill_range
from makerates_core.errors import UserError

TODAY = date(2026, 11, 26)


def test_a_valid_range_is_returned_as_dates():
    assert backfill_range("1999-01-04", "2026-11-26", TODAY) == (date(1999, 1, 4), TODAY)
    assert backfill_range("2024-03-28", "2024-03-28", TODAY) == (date(2024, 3, 28),) * 2


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2024-02-30", "2024-03-01", "START '2024-02-30' is not a date"),
        ("20240101", "2024-03-01", "START '20240101' is not a date"),
        ("2024-01-01", "yesterday", "END 'yesterday' is not a date"),
        ("2024-03-02", "2024-03-01", "is after END"),
        ("1999-01-03", "2024-03-01", "before 1999-01-04"),
        ("2024-01-01", "2026-11-27", "in the future"),
    ],
)
def test_bad_ranges_are_refused_in_one_line(start, end, message):
    with pytest.raises(UserError, match=message) as err:
        backfill_range(start, end, TODAY)
    assert "\n" not in str(err.value)
