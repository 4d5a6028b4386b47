"""A backfill informs the daily runs: one that continues bronze's newest day of a source (or
lands on an empty lake) records its own newest day, and the next daily run starts there; an
older backfill, or one that leaves a gap after that day, changes nothing.

Every run starts from an empty pipelines dir, as in production: what the daily run knows of
the backfill comes from the state dlt stored in the lake with the backfill's load."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from bronze_helpers import completed_rows, published, triples
from makerates_bronze import ecb
from makerates_bronze.pipeline import load

D = date.fromisoformat


def backfill(settings, source: str, start: str, end: str, today: str):
    return load(settings, source, start=D(start), end=D(end), today=D(today))


def daily(settings, source: str, today: str):
    return load(settings, source, today=D(today))


def loaded(lake, result, table: str) -> set[tuple[str, str, str]]:
    """The (rate_date, currency, rate) of one load."""
    return set(
        triples([r for r in completed_rows(lake, table) if r["_dlt_load_id"] == result.load_id])
    )


def test_after_a_backfill_on_an_empty_lake_the_ecb_asks_only_the_daily_document(
    settings, lake, ecb_mirror, ecb_history
):
    ecb_mirror.set_as_of("2024-03-28")
    backfill(settings, "ecb", "2024-03-01", "2024-03-28", today="2024-03-28")
    ecb_mirror.requests.clear()

    same_day = daily(settings, "ecb", today="2024-03-28")
    assert ecb_mirror.requests == [ecb.DAILY]  # not the 90-day document of the lookback
    assert (same_day.document, same_day.rows_loaded) == (ecb.DAILY, 0)  # 2024-03-28 unchanged

    ecb_mirror.set_as_of("2024-04-02")  # Good Friday and Easter Monday had no rates
    new = daily(settings, "ecb", today="2024-04-02")
    assert new.document == ecb.NINETY_DAYS  # the gap from 2024-03-29 is older than the daily
    assert loaded(lake, new, "ecb_rates") == published(ecb_history, "2024-04-02", "2024-04-02")
    assert new.rows_loaded == len(loaded(lake, new, "ecb_rates"))


def test_after_a_backfill_on_an_empty_lake_frankfurter_asks_from_its_newest_day(
    settings, ecb_mirror
):
    ecb_mirror.set_as_of("2024-03-28")
    backfill(settings, "frankfurter", "2024-03-01", "2024-03-28", today="2024-03-28")
    ecb_mirror.requests.clear()

    after = daily(settings, "frankfurter", today="2024-03-28")
    assert ecb_mirror.requests == ["/frankfurter/v1/2024-03-28..2024-03-28"]
    assert after.rows_loaded == 0


@pytest.mark.parametrize(
    ("source", "start", "end", "asked"),
    [
        ("boc", "2026-03-12", "2026-03-18", "start_date=2026-03-18&end_date=2026-03-18"),
        ("nbp", "2026-03-02", "2026-03-05", "tables/A/2026-03-05/2026-03-05/"),
    ],
)
def test_an_official_providers_daily_run_after_a_backfill_asks_from_its_newest_day(
    settings, source, start, end, asked
):
    backfilled = backfill(settings, source, start, end, today=end)
    assert backfilled.max_rate_date == end

    after = daily(settings, source, today=end)
    assert asked in after.document
    assert after.rows_loaded == 0


@pytest.mark.parametrize(
    ("start", "end", "resumes_from"),
    [
        ("2024-03-01", "2024-03-15", "2024-03-20"),  # older: the cursor stays
        ("2024-03-25", "2024-03-28", "2024-03-20"),  # a gap after the cursor: it stays
        ("2024-03-10", "2024-03-26", "2024-03-26"),  # overlaps and goes past: moved on
        ("2024-03-21", "2024-03-27", "2024-03-27"),  # starts the day after it: moved on
    ],
)
def test_a_backfill_moves_the_cursor_on_only_when_it_continues_it(
    settings, lake, ecb_mirror, ecb_history, start, end, resumes_from
):
    ecb_mirror.set_as_of("2024-03-20")
    daily(settings, "frankfurter", today="2024-03-20")  # the cursor: 2024-03-20
    ecb_mirror.set_as_of("2024-03-28")
    backfill(settings, "frankfurter", start, end, today="2024-03-28")

    after = daily(settings, "frankfurter", today="2024-03-28")
    assert after.document == f"/v1/{resumes_from}..2024-03-28"
    first_new = (D(resumes_from) + timedelta(days=1)).isoformat()  # the cursor's day: unchanged
    assert loaded(lake, after, "frankfurter_rates") == published(
        ecb_history, first_new, "2024-03-28"
    )


def test_a_backfill_older_than_the_lookback_does_not_lengthen_the_first_daily_run(
    settings, ecb_mirror
):
    ecb_mirror.set_as_of("2024-03-28")
    backfill(settings, "frankfurter", "2024-01-02", "2024-01-05", today="2024-03-28")

    first = daily(settings, "frankfurter", today="2024-03-28")
    assert first.document == "/v1/2024-03-18..2024-03-28"  # INITIAL_LOOKBACK_DAYS=10
