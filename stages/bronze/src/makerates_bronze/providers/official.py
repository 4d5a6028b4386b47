"""One dlt source per official provider, built from its package's `requests` and `parse`.

Every official provider is loaded the same way, so the wiring is written once: the rate dates a
run keeps (`pipeline.window`: the cursor's day on, or a backfill's closed range), the request
paths covering them, each document parsed into `Observation`s, each day kept whole
(`pipeline.whole_days`), the rows written raw with the request that fetched them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import dlt
from dlt.common.schema.typing import TTableSchemaColumns
from makerates_core import providers

from makerates_bronze import upstream
from makerates_bronze.providers.observation import Observation

Requests = Callable[[date, date], list[str]]
Parse = Callable[[bytes, str], list[Observation]]

COLUMNS: TTableSchemaColumns = {
    "rate_date": {"data_type": "text", "nullable": False},
    "currency": {"data_type": "text", "nullable": False},
    "rate": {"data_type": "text", "nullable": False},
    "units": {"data_type": "text", "nullable": False},
    "inverse": {"data_type": "bool", "nullable": False},
    "request": {"data_type": "text", "nullable": False},
    "extracted_at": {"data_type": "timestamp", "timezone": True, "nullable": False},
}


def describe(paths: list[str]) -> str:
    """The request(s) of a run, for its log and outputs."""
    if not paths:
        return "no request (the range is outside the provider's history)"
    return paths[0] if len(paths) == 1 else f"{paths[0]} … {paths[-1]} ({len(paths)} requests)"


def official_source(
    key: str, requests: Requests, parse: Parse, *, empty: tuple[int, bytes] | None = None
):
    """The dlt source of provider `key` (its registry row names the table and the setting).

    `empty`: the HTTP status and body text with which the provider answers a range that holds
    no published day (NBP: 404 "Brak danych"): that answer is an empty document, not a failure.
    """
    provider = providers.get(key)

    def fetch(url: str, limits: upstream.Limits) -> list[Observation]:
        body = upstream.get(url, limits, provider.base_url_setting, empty=empty)
        return parse(body, url) if body is not None else []

    @dlt.source(name=key, max_table_nesting=0)
    def source(base_url, limits, lookback_start, today, extraction, rate_date=None):
        from makerates_bronze import pipeline  # the shared window and row helpers

        incremental = rate_date or pipeline.cursor()

        @dlt.resource(name=provider.bronze_table, write_disposition="append", columns=COLUMNS)
        def rates(rate_date: dlt.sources.incremental = incremental):
            """Every document of the window; on an incremental run the days are kept whole
            over all of them at once (a provider may publish one day in several documents,
            as NBP's tables A and B), on a backfill document by document."""
            span = pipeline.window(rate_date, lookback_start)
            paths = requests(span.first, span.last or max(today, span.first))
            extraction.document = describe(paths)
            extracted_at = datetime.now(UTC)  # one per run: silver keeps a day's newest run
            documents = ((path, fetch(base_url.rstrip("/") + path, limits)) for path in paths)
            if span.last is None:
                documents = iter([(describe(paths), [o for _, obs in documents for o in obs])])
            for request, observations in documents:
                constants = {"request": request, "extracted_at": extracted_at}
                kept = pipeline.whole_days(observations, span)
                yield from extraction.track(pipeline.rows(kept, constants))

        return rates

    return source
