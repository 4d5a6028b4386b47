"""Frankfurter, the ECB's backup: its answers as published, into the lake, incrementally and in
backfills of one request per calendar year."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from datetime import date

import pytest
from bronze_helpers import completed_rows, published, triples
from makerates_bronze import frankfurter
from makerates_bronze.pipeline import load
from makerates_core.errors import UpstreamError

D = date.fromisoformat
TABLE = "frankfurter_rates"


def test_ranges_are_cut_at_calendar_years():
    assert list(frankfurter.year_ranges(D("2022-06-01"), D("2024-03-28"))) == [
        (D("2022-06-01"), D("2022-12-31")),
        (D("2023-01-01"), D("2023-12-31")),
        (D("2024-01-01"), D("2024-03-28")),
    ]
    assert list(frankfurter.year_ranges(D("2024-03-28"), D("2024-03-28"))) == [
        (D("2024-03-28"),) * 2
    ]


def test_one_day_and_range_answers_keep_the_number_literals():
    one = frankfurter.parse(
        {"amount": "1.0", "base": "EUR", "date": "2024-03-15", "rates": {"USD": "1.0892"}}, "u"
    )
    assert one == (("EUR"), [("2024-03-15", "USD", "1.0892")])
    answer = frankfurter.parse(
        {
            "base": "EUR",
            "start_date": "2024-03-14",
            "end_date": "2024-03-15",
            "rates": {"2024-03-14": {"USD": "1.0925"}, "2024-03-15": {"USD": "1.0892", "X": None}},
        },
        "u",
    )
    assert answer.rates == [
        ("2024-03-14", "USD", "1.0925"),
        ("2024-03-15", "USD", "1.0892"),
        ("2024-03-15", "X", None),  # raw: silver's tests reject it, bronze keeps it
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"message": "not found"}, "answered JSON without `rates` (keys: message); check FRANK"),
        ({"rates": {"2024-03-15": "1.0"}}, "neither one day (`date`) nor a range"),
    ],
)
def test_an_answer_of_another_shape_is_one_line(document, message):
    with pytest.raises(UpstreamError, match=re.escape(message)) as err:
        frankfurter.parse(document, "http://x/v1/latest")
    assert "\n" not in str(err.value) and "http://x/v1/latest" in str(err.value)


def test_the_mirror_answers_with_the_ecbs_own_strings(ecb_mirror, ecb_history, limits):
    ecb_mirror.set_as_of("2024-03-28")
    rates = frankfurter.fetch(ecb_mirror.frankfurter_base_url, "/v1/2024-01-01..2024-12-31", limits)
    assert rates.base == "EUR"
    assert set(rates.rates) == published(ecb_history, "2024-01-01", "2024-03-28")
    saturday = frankfurter.fetch(ecb_mirror.frankfurter_base_url, "/v1/2024-03-16", limits)
    assert set(saturday.rates) == published(ecb_history, "2024-03-15", "2024-03-15")
    with pytest.raises(UpstreamError, match="404"):
        frankfurter.fetch(ecb_mirror.frankfurter_base_url, "/v1/1998-12-31", limits)


def test_first_run_then_nothing_new_then_a_new_day(
    settings, lake, ecb_mirror, ecb_history, tmp_path
):
    ecb_mirror.set_as_of("2024-03-28")
    first = load(settings, "frankfurter", today=D("2024-03-28"), pipelines_dir=tmp_path / "dlt")
    rows = completed_rows(lake, TABLE)
    expected = published(ecb_history, "2024-03-18", "2024-03-28")  # INITIAL_LOOKBACK_DAYS=10
    assert sorted(triples(rows)) == sorted(expected)  # the ECB's strings, character for character
    assert first.rows_loaded == len(rows) == len(expected)
    assert first.document == "/v1/2024-03-18..2024-03-28"
    assert first.max_rate_date == "2024-03-28"
    columns = {"rate_date", "currency", "rate", "base", "request", "extracted_at"}
    assert {frozenset(r) for r in rows} == {frozenset({*columns, "_dlt_load_id", "_dlt_id"})}
    assert {(r["base"], r["request"]) for r in rows} == {("EUR", "/v1/2024-03-18..2024-03-28")}
    assert all(r["extracted_at"].endswith("+00:00") for r in rows)

    again = load(settings, "frankfurter", today=D("2024-03-28"), pipelines_dir=tmp_path / "dlt")
    assert again.rows_loaded == 0
    assert again.document == "/v1/2024-03-28..2024-03-28"  # the cursor's day, asked again

    shutil.rmtree(tmp_path / "dlt")  # a fresh container: the cursor comes back from the lake
    ecb_mirror.set_as_of("2024-04-02")
    new = load(settings, "frankfurter", today=D("2024-04-02"), pipelines_dir=tmp_path / "dlt")
    assert new.document == "/v1/2024-03-28..2024-04-02"
    new_rows = [r for r in completed_rows(lake, TABLE) if r["_dlt_load_id"] == new.load_id]
    assert set(triples(new_rows)) == published(ecb_history, "2024-04-02", "2024-04-02")
    assert new.rows_loaded == len(new_rows)
    assert max(Counter(triples(completed_rows(lake, TABLE))).values()) == 1


def test_frankfurter_fills_a_day_the_ecb_documents_miss(
    settings, lake, ecb_mirror, ecb_history, tmp_path
):
    ecb_mirror.set_as_of("2024-03-28")
    ecb_mirror.drop_ecb_day("2024-03-27")
    for source in ("ecb", "frankfurter"):
        load(settings, source, today=D("2024-03-28"), pipelines_dir=tmp_path / "dlt")
    ecb_days = {r["rate_date"] for r in completed_rows(lake)}
    frankfurter_days = {r["rate_date"] for r in completed_rows(lake, TABLE)}
    assert "2024-03-27" not in ecb_days
    assert frankfurter_days - ecb_days == {"2024-03-27"}
    day = [r for r in completed_rows(lake, TABLE) if r["rate_date"] == "2024-03-27"]
    assert set(triples(day)) == published(ecb_history, "2024-03-27", "2024-03-27")


def test_backfill_asks_one_range_per_year_and_leaves_the_cursor_alone(
    settings, lake, ecb_mirror, ecb_history, tmp_path
):
    ecb_mirror.set_as_of("2024-03-20")
    load(settings, "frankfurter", today=D("2024-03-20"), pipelines_dir=tmp_path / "dlt")
    ecb_mirror.requests.clear()

    ecb_mirror.set_as_of("2024-04-02")
    backfill = load(
        settings,
        "frankfurter",
        start=D("2022-12-20"),
        end=D("2024-01-05"),
        today=D("2024-04-02"),
        pipelines_dir=tmp_path / "dlt",
    )
    assert ecb_mirror.requests == [
        "/frankfurter/v1/2022-12-20..2022-12-31",
        "/frankfurter/v1/2023-01-01..2023-12-31",
        "/frankfurter/v1/2024-01-01..2024-01-05",
    ]
    assert backfill.document == (
        "/v1/2022-12-20..2022-12-31 … /v1/2024-01-01..2024-01-05 (3 requests)"
    )
    back_rows = [r for r in completed_rows(lake, TABLE) if r["_dlt_load_id"] == backfill.load_id]
    assert sorted(triples(back_rows)) == sorted(published(ecb_history, "2022-12-20", "2024-01-05"))

    shutil.rmtree(tmp_path / "dlt")
    after = load(settings, "frankfurter", today=D("2024-04-02"), pipelines_dir=tmp_path / "dlt")
    assert after.document == "/v1/2024-03-20..2024-04-02"  # the cursor did not move
    after_rows = [r for r in completed_rows(lake, TABLE) if r["_dlt_load_id"] == after.load_id]
    assert set(triples(after_rows)) == published(ecb_history, "2024-03-21", "2024-04-02")
