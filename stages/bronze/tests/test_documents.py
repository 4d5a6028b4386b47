"""The smallest document that covers the gap, and only the fetches that decision needs."""

from __future__ import annotations

from datetime import date

import pytest
from makerates_bronze import ecb
from makerates_bronze.documents import fetch_covering, pick

D = date.fromisoformat


@pytest.mark.parametrize(
    ("gap_start", "daily", "oldest_90d", "expected"),
    [
        ("2024-03-29", "2024-03-28", None, ecb.DAILY),  # nothing new
        ("2024-03-28", "2024-03-28", None, ecb.DAILY),  # exactly the new day
        ("2024-03-27", "2024-03-28", "2024-01-02", ecb.NINETY_DAYS),
        ("2024-01-02", "2024-03-28", "2024-01-02", ecb.NINETY_DAYS),
        ("2024-01-01", "2024-03-28", "2024-01-02", ecb.HISTORY),
        ("1999-01-04", "2024-03-28", "2024-01-02", ecb.HISTORY),
    ],
)
def test_pick_the_smallest_document_covering_the_gap(gap_start, daily, oldest_90d, expected):
    document, reason = pick(D(gap_start), D(daily), D(oldest_90d) if oldest_90d else None)
    assert document == expected
    assert gap_start in reason


def test_an_up_to_date_lake_fetches_only_the_daily_document(ecb_mirror, limits):
    ecb_mirror.set_as_of("2024-03-28")
    fetched = fetch_covering(D("2024-03-29"), ecb_mirror.base_url, limits)
    assert fetched.document == ecb.DAILY
    assert ecb_mirror.requests == [ecb.DAILY]
    assert {r.rate_date for r in fetched.rates} == {"2024-03-28"}


def test_a_gap_inside_90_days_reads_the_90_day_document(ecb_mirror, limits):
    ecb_mirror.set_as_of("2024-04-02")
    fetched = fetch_covering(D("2024-03-29"), ecb_mirror.base_url, limits)
    assert fetched.document == ecb.NINETY_DAYS
    assert ecb_mirror.requests == [ecb.DAILY, ecb.NINETY_DAYS]


def test_an_older_gap_reads_the_full_history(ecb_mirror, limits):
    ecb_mirror.set_as_of("2024-04-02")
    fetched = fetch_covering(D("2023-06-01"), ecb_mirror.base_url, limits)
    assert fetched.document == ecb.HISTORY
    assert ecb_mirror.requests == [ecb.DAILY, ecb.NINETY_DAYS, ecb.HISTORY]
    days = {r.rate_date for r in fetched.rates}
    assert max(days) == "2024-04-02"  # the history as published that day, not later
    assert min(days) == "1999-01-04"
