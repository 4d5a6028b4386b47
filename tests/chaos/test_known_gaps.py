"""Faults the pipeline does not yet handle as promised: each test asserts the promise and
fails until the owning stage is fixed (its docstring says where the gap is)."""

from __future__ import annotations

import pytest
from chaos_helpers import ECB_XML, NEW_DAY, attempt, check_converged, edit_day
from fault_proxy import Fault

pytestmark = pytest.mark.chaos


@pytest.mark.fault("the same day twice in a document", "de-duplicated; exit 0, converged")
def test_duplicated_dates(lake, sources, reference, chaos_report):
    """Gap (since 532791e): a document that lists a day twice gives two bronze rows per (day,
    currency) with the same extracted_at and load id; newest_extraction's `dense_rank() ... = 1`
    keeps both (row_number kept one), so unique_stg_ecb__rates_rate_date_currency fails and
    silver stops until the source re-publishes the day. stages/silver/macros/newest_extraction.sql
    should keep the newest extraction's day whole but each (day, currency) of it once."""
    sources.add(
        Fault("rewrite", path=ECB_XML, rewrite=edit_day(NEW_DAY, lambda p: p, copy_to=NEW_DAY))
    )
    run = attempt(lake)
    assert run.failed_stage is None, run.failure.stderr[-2000:]
    assert sources.requests[0].fault == "rewrite"
    check_converged(lake, reference, chaos_report)
    chaos_report.see("exit 0, one row per (day, currency), converged")
