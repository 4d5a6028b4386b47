"""Bronze end to end: the ECB mirror → dlt → a local lake, read back from the files dlt wrote."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from collections import Counter
from dataclasses import replace
from datetime import date

import pytest
from bronze_helpers import completed_rows, published, triples
from ecb_mirror import EcbMirror, History
from makerates_bronze import ecb
from makerates_bronze.pipeline import load

D = date.fromisoformat


def test_first_run_lands_the_lookback_days_exactly_as_published(
    settings, lake, ecb_mirror, ecb_history, tmp_path
):
    ecb_mirror.set_as_of("2024-03-28")
    result = load(settings, today=D("2024-03-28"), pipelines_dir=tmp_path / "dlt")

    rows = completed_rows(lake)
    expected = published(ecb_history, "2024-03-18", "2024-03-28")  # INITIAL_LOOKBACK_DAYS=10
    assert sorted(triples(rows)) == sorted(expected)
    assert result.rows_loaded == len(expected) == len(rows)
    assert result.document == ecb.NINETY_DAYS
    assert result.max_rate_date == "2024-03-28"
    assert {tuple(sorted(r)) for r in rows} == {
        ("_dlt_id", "_dlt_load_id", "currency", "document", "extracted_at", "rate", "rate_date")
    }
    assert {r["document"] for r in rows} == {ecb.NINETY_DAYS}
    assert all(isinstance(r["rate"], str) for r in rows)
    assert all(r["extracted_at"].endswith("+00:00") for r in rows)
    assert list((lake / "bronze" / "ecb_rates").glob(f"{result.load_id}.*.jsonl.gz"))


def test_nothing_new_loads_zero_and_a_new_day_loads_only_that_day(
    settings, lake, ecb_mirror, ecb_history, tmp_path
):
    ecb_mirror.set_as_of("2024-03-28")
    load(settings, today=D("2024-03-28"), pipelines_dir=tmp_path / "dlt")
    before = len(completed_rows(lake))

    again = load(settings, today=D("2024-03-28"), pipelines_dir=tmp_path / "dlt")
    assert again.rows_loaded == 0
    assert again.document == ecb.DAILY
    assert again.max_rate_date is None
    assert len(completed_rows(lake)) == before

    ecb_mirror.set_as_of("2024-04-02")  # Good Friday and Easter Monday had no rates
    new = load(settings, today=D("2024-04-02"), pipelines_dir=tmp_path / "dlt")
    new_rows = [r for r in completed_rows(lake) if r["_dlt_load_id"] == new.load_id]
    assert set(triples(new_rows)) == published(ecb_history, "2024-04-02", "2024-04-02")
    assert new.rows_loaded == len(new_rows) == len(set(triples(new_rows)))
    assert new.max_rate_date == "2024-04-02"


def test_a_fresh_pipelines_dir_resumes_from_the_state_in_the_lake(
    settings, lake, ecb_mirror, ecb_history, tmp_path
):
    ecb_mirror.set_as_of("2024-03-20")
    load(settings, today=D("2024-03-20"), pipelines_dir=tmp_path / "dlt")
    shutil.rmtree(tmp_path / "dlt")
    assert list((lake / "bronze" / "_dlt_pipeline_state").iterdir())

    ecb_mirror.set_as_of("2024-03-28")
    resumed = load(settings, today=D("2024-03-28"), pipelines_dir=tmp_path / "dlt")
    new_rows = [r for r in completed_rows(lake) if r["_dlt_load_id"] == resumed.load_id]
    assert set(triples(new_rows)) == published(ecb_history, "2024-03-21", "2024-03-28")
    assert resumed.rows_loaded == len(new_rows)
    counts = Counter(triples(completed_rows(lake)))
    assert max(counts.values()) == 1  # nothing loaded twice


def test_a_corrected_day_is_loaded_again_whole_but_an_identical_one_is_not(
    settings, lake, ecb_history, tmp_path
):
    """The cursor's day comes back in every document: loaded again, complete, only when the
    source changed it (so silver can take the day whole from its newest copy)."""
    lines = [ln for ln in ecb_history.lines if ln[:10] <= "2024-03-28"]
    assert lines[0].startswith("2024-03-28,1.0811,")
    corrected = [lines[0].replace("2024-03-28,1.0811,", "2024-03-28,1.0812,"), *lines[1:]]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(ecb_history.csv_name, ecb_history.header + "".join(corrected))
    pipelines = tmp_path / "dlt"
    with EcbMirror(as_of="2024-03-28", history=ecb_history) as original:
        load(
            replace(settings, base_urls={**settings.base_urls, "ecb": original.base_url}),
            today=D("2024-03-28"),
            pipelines_dir=pipelines,
        )
    with EcbMirror(history=History(buffer.getvalue())) as republished:
        result = load(
            replace(settings, base_urls={**settings.base_urls, "ecb": republished.base_url}),
            today=D("2024-03-28"),
            pipelines_dir=pipelines,
        )
    new_rows = [r for r in completed_rows(lake) if r["_dlt_load_id"] == result.load_id]
    published = ecb_history.by_day()["2024-03-28"]
    assert sorted(triples(new_rows)) == sorted(
        ("2024-03-28", c, "1.0812" if c == "USD" else rate) for c, rate in published.items()
    )
    with EcbMirror(history=History(buffer.getvalue())) as again:
        same = load(
            replace(settings, base_urls={**settings.base_urls, "ecb": again.base_url}),
            today=D("2024-03-28"),
            pipelines_dir=tmp_path / "fresh",  # state restored from the lake
        )
    assert same.rows_loaded == 0


def test_backfill_loads_its_closed_range_and_leaves_the_cursor_alone(
    settings, lake, ecb_mirror, ecb_history, tmp_path
):
    ecb_mirror.set_as_of("2024-03-20")
    load(settings, today=D("2024-03-20"), pipelines_dir=tmp_path / "dlt")  # cursor: 2024-03-20

    ecb_mirror.set_as_of("2024-04-02")
    backfill = load(
        settings,
        start=D("2024-03-25"),
        end=D("2024-03-28"),
        today=D("2024-04-02"),
        pipelines_dir=tmp_path / "dlt",
    )
    back_rows = [r for r in completed_rows(lake) if r["_dlt_load_id"] == backfill.load_id]
    assert sorted(triples(back_rows)) == sorted(published(ecb_history, "2024-03-25", "2024-03-28"))
    assert backfill.document == ecb.NINETY_DAYS

    shutil.rmtree(tmp_path / "dlt")  # and the state in the lake must not have moved either
    after = load(settings, today=D("2024-04-02"), pipelines_dir=tmp_path / "dlt")
    after_rows = [r for r in completed_rows(lake) if r["_dlt_load_id"] == after.load_id]
    assert set(triples(after_rows)) == published(ecb_history, "2024-03-21", "2024-04-02")


def test_an_old_backfill_reads_the_full_history_and_only_its_range(
    settings, lake, ecb_mirror, ecb_history, tmp_path
):
    result = load(
        settings,
        start=D("1999-01-04"),
        end=D("1999-01-31"),
        today=D("2026-10-30"),
        pipelines_dir=tmp_path / "dlt",
    )
    assert result.document == ecb.HISTORY
    assert ecb_mirror.requests == [ecb.DAILY, ecb.NINETY_DAYS, ecb.HISTORY]
    assert set(triples(completed_rows(lake))) == published(ecb_history, "1999-01-04", "1999-01-31")


@pytest.mark.slow
def test_full_history_loads_in_well_under_30_seconds(
    settings, lake, ecb_mirror, ecb_history, tmp_path
):
    started = time.monotonic()
    result = load(
        settings,
        start=D("1999-01-04"),
        end=D("2026-10-30"),
        today=D("2026-10-30"),
        pipelines_dir=tmp_path / "dlt",
    )
    elapsed = time.monotonic() - started
    expected = published(ecb_history, "1999-01-04", "2026-10-30")
    assert result.rows_loaded == len(expected)
    assert set(triples(completed_rows(lake))) == expected
    print(f"full history: {result.rows_loaded} rows in {elapsed:.2f}s")
    assert elapsed < 30


def test_a_document_with_a_future_day_is_refused_whole():
    from makerates_bronze.ecb import Rate
    from makerates_bronze.pipeline import rows
    from makerates_core.errors import UpstreamError

    rates = [Rate("2024-03-15", "USD", "1.0891"), Rate("2999-01-01", "USD", "1.0900")]
    with pytest.raises(UpstreamError, match=r"eurofxref-daily.xml has rates dated 2999-01-01"):
        list(rows(rates, {"document": "eurofxref-daily.xml"}))
    (batch,) = rows(rates[:1], {"document": "eurofxref-daily.xml"})
    assert batch == [
        {
            "rate_date": "2024-03-15",
            "currency": "USD",
            "rate": "1.0891",
            "document": "eurofxref-daily.xml",
        }
    ]
