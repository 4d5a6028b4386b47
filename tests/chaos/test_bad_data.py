"""Bad data in well-formed documents: silver's tests must stop it before gold, and the source's
correction must flow through (promises 2 and 3); plus the late correction of a day.

The fault proxy rewrites the ECB's XML on the way (the newest day, NEW_DAY, unless said
otherwise); Frankfurter keeps publishing the true rates, but the ECB has priority in silver.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from chaos_helpers import (
    BASE_DAY,
    ECB,
    ECB_XML,
    FUTURE,
    NEW_DAY,
    attempt,
    bronze_files,
    check_converged,
    check_failed_run,
    edit_day,
    rerun_converges,
    served,
    set_rate,
    snapshot,
    stopped_then_corrected,
    times,
)
from fault_proxy import Fault

pytestmark = pytest.mark.chaos

GATED = [
    ("negative rate", set_rate("USD", lambda r: "-" + r), "rate_is_positive|positive"),
    ("zero rate", set_rate("USD", lambda r: "0"), "positive"),
    ("NaN rate", set_rate("USD", lambda r: "NaN"), ""),
    ("absurd rate (x100)", set_rate("JPY", times("100")), "implausible"),
    # the corrected document no longer lists XYZ: the newest copy of the day, whole, wins
    ("unknown currency code XYZ", lambda pairs: [*pairs, ("XYZ", "1.2345")], "iso_4217"),
]


@pytest.mark.parametrize(
    ("name", "edit", "test_name"), GATED, ids=["negative", "zero", "nan", "x100", "unknown-code"]
)
def test_silver_stops_bad_rates(lake, sources, reference, chaos_report, name, edit, test_name):
    chaos_report.fault = f"{name} on {NEW_DAY}"
    chaos_report.expected = "silver exit 1 (a dbt test), gold unchanged; correction flows"
    stopped_then_corrected(lake, sources, reference, chaos_report, edit, test_name)


@pytest.mark.fault(
    "negative rate on an older day (2026-10-27)",
    "silver exit 1; `backfill` of the day after the correction converges",
)
def test_bad_rate_on_an_older_day_is_repaired_by_a_backfill(lake, sources, reference, chaos_report):
    day = "2026-10-27"
    sources.add(
        Fault("rewrite", path=ECB_XML, rewrite=edit_day(day, set_rate("USD", lambda r: "-" + r)))
    )
    before = snapshot(lake)
    check_failed_run(lake, before, attempt(lake), chaos_report, "silver", 1)
    sources.clear()
    rerun_converges(lake, reference, chaos_report, "backfill", day, day)


@pytest.mark.fault(
    "ECB document with a day 10 days in the future",
    "bronze refuses the ECB's document (cursor kept); Frankfurter fills in; converges",
)
def test_future_dated_document_is_refused_by_bronze(lake, sources, reference, chaos_report):
    sources.add(
        Fault("rewrite", path=ECB_XML, rewrite=edit_day(NEW_DAY, lambda p: p, copy_to=FUTURE))
    )
    run = attempt(lake)
    assert run.failed_stage is None, run.failure.stderr[-2000:]
    bronze = run.results["bronze"]
    assert bronze.outputs["missing_sources"] == ["ecb"], bronze.stderr[-2000:]
    assert FUTURE in bronze.stderr and "Traceback" not in bronze.stderr
    chaos_report.see("bronze exit 0, a WARNING names the ECB's future day; Frankfurter served")
    check_converged(lake, reference, chaos_report)
    sources.clear()
    rerun_converges(lake, reference, chaos_report)


@pytest.mark.fault("ECB leaves USD out of a day", "Frankfurter fills the currency; 0 lost")
def test_missing_currency_is_filled_by_the_backup(lake, sources, reference, chaos_report):
    drop = edit_day(NEW_DAY, lambda pairs: [(c, r) for c, r in pairs if c != "USD"])
    sources.add(Fault("rewrite", path=ECB_XML, rewrite=drop))
    run = attempt(lake)
    assert run.failed_stage is None, run.failure.stderr[-2000:]
    check_converged(lake, reference, chaos_report)
    chaos_report.see("exit 0, USD from Frankfurter, converged")


def bronze_rates(lake_url: str, day: str, currency: str) -> list[str]:
    pattern = str(Path(lake_url) / "bronze" / "ecb_rates" / "*.jsonl.gz")
    rows = duckdb.sql(
        f"select rate from read_json('{pattern}', format='newline_delimited') "
        f"where rate_date = '{day}' and currency = '{currency}' order by extracted_at"
    ).fetchall()
    return [r for (r,) in rows]


@pytest.mark.fault(
    "late correction of a published day",
    "silver takes the newer rate, gold updated, bronze keeps both",
)
def test_late_correction(lake, sources, reference, chaos_report):
    wrong = str(Decimal(ECB[NEW_DAY]["USD"]) + Decimal("0.0010"))
    sources.add(
        Fault("rewrite", path=ECB_XML, rewrite=edit_day(NEW_DAY, set_rate("USD", lambda r: wrong)))
    )
    first = attempt(lake)
    assert first.failed_stage is None, first.failure.stderr[-2000:]
    assert served(lake)[NEW_DAY]["USD"] == wrong
    kept = bronze_files(lake)

    sources.clear()  # the ECB re-publishes the day with the right rate
    second = attempt(lake)
    assert second.failed_stage is None, second.failure.stderr[-2000:]
    assert bronze_rates(lake.env["LAKE_URL"], NEW_DAY, "USD") == [wrong, ECB[NEW_DAY]["USD"]]
    assert set(kept) <= set(bronze_files(lake))
    check_converged(lake, reference, chaos_report)
    chaos_report.see(f"gold served {wrong}, then {ECB[NEW_DAY]['USD']}; bronze holds both")


@pytest.mark.fault("the same day twice in a document", "de-duplicated; exit 0, converged")
def test_duplicated_dates(lake, sources, reference, chaos_report):
    """Identical rows of a day listed twice are kept once (silver's staging `select distinct`),
    while the day is still taken whole from its newest extraction."""
    sources.add(
        Fault("rewrite", path=ECB_XML, rewrite=edit_day(NEW_DAY, lambda p: p, copy_to=NEW_DAY))
    )
    run = attempt(lake)
    assert run.failed_stage is None, run.failure.stderr[-2000:]
    assert sources.requests[0].fault == "rewrite"
    check_converged(lake, reference, chaos_report)
    chaos_report.see("exit 0, one row per (day, currency), converged")


@pytest.mark.fault(
    "a backfill up to the newest day, then the daily run",
    "the daily run asks only the ECB's daily document and loads nothing again; converges",
)
def test_daily_run_after_a_backfill_reads_only_what_is_new(lake, sources, reference, chaos_report):
    backfill = attempt(lake, "backfill", BASE_DAY, NEW_DAY)
    assert backfill.failed_stage is None, backfill.failure.stderr[-2000:]
    sources.requests.clear()
    daily = attempt(lake)
    assert daily.failed_stage is None, daily.failure.stderr[-2000:]
    ecb = daily.results["bronze"].outputs["sources"]["ecb"]
    frankfurter = daily.results["bronze"].outputs["sources"]["frankfurter"]
    asked = [r.path for r in sources.requests]
    chaos_report.see(
        f"daily after the backfill: ECB {ecb['document']} ({ecb['rows_loaded']} rows), "
        f"Frankfurter {frankfurter['document']} ({frankfurter['rows_loaded']} rows)"
    )
    assert ecb["document"] == "eurofxref-daily.xml" and ecb["rows_loaded"] == 0, asked
    assert (
        frankfurter["document"].startswith(f"/v1/{NEW_DAY}..") and frankfurter["rows_loaded"] == 0
    )
    check_converged(lake, reference, chaos_report)
