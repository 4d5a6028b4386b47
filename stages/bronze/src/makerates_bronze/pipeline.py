"""The dlt wiring: source `ecb`, resource `ecb_rates`, pipeline `makerates_bronze` into the lake.

dlt's state (the incremental cursor on `rate_date`) is stored in the lake with every load and
restored from it when the local pipelines dir is empty, so each run starts from an empty
temporary dir and a fresh container resumes where the last one stopped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import boto3
import dlt
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.pipeline.exceptions import PipelineStepFailed
from makerates_core.errors import UpstreamError, UserError
from makerates_core.settings import Settings, scoped_environ

from makerates_bronze.documents import fetch_covering
from makerates_bronze.ecb import Rate

log = logging.getLogger("makerates")

PIPELINE_NAME = "makerates_bronze"
DATASET = "bronze"
TABLE = "ecb_rates"
BATCH_ROWS = 10_000
PRIMARY_KEY = ("rate_date", "currency", "rate")  # an identical re-publication is not re-loaded
COLUMNS: TTableSchemaColumns = {
    "rate_date": {"data_type": "text", "nullable": False},
    "currency": {"data_type": "text", "nullable": False},
    "rate": {"data_type": "text", "nullable": False},
    "document": {"data_type": "text", "nullable": False},
    "extracted_at": {"data_type": "timestamp", "timezone": True, "nullable": False},
}


@dataclass
class Extraction:
    """What the resource read, for the run's log and outputs."""

    document: str | None = None
    reason: str | None = None
    max_rate_date: str | None = None


def rows(
    rates: Iterable[Rate], document: str, extracted_at: datetime, keep: tuple[str, str | None]
) -> Iterator[list[dict]]:
    """Bronze rows for rates with keep[0] <= rate_date (<= keep[1]), in batches."""
    first, last = keep
    batch: list[dict] = []
    for rate_date, currency, rate in rates:
        if rate_date < first or (last is not None and rate_date > last):
            continue
        batch.append(
            {
                "rate_date": rate_date,
                "currency": currency,
                "rate": rate,
                "document": document,
                "extracted_at": extracted_at,
            }
        )
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def cursor(start: date | None = None, end: date | None = None) -> dlt.sources.incremental:
    """The incremental on rate_date: stateful for runs; a closed, stateless range for backfills."""
    if end is None:
        return dlt.sources.incremental("rate_date", primary_key=PRIMARY_KEY)
    return dlt.sources.incremental(
        "rate_date",
        initial_value=start.isoformat(),
        end_value=end.isoformat(),
        range_end="closed",
        primary_key=PRIMARY_KEY,
    )


@dlt.source(name="ecb", max_table_nesting=0)
def ecb(
    base_url: str,
    timeout: float,
    lookback_start: date,
    extraction: Extraction,
    rate_date: dlt.sources.incremental | None = None,
):
    """The ECB euro reference rates."""
    incremental = rate_date or cursor()

    @dlt.resource(name=TABLE, write_disposition="append", columns=COLUMNS)
    def ecb_rates(rate_date: dlt.sources.incremental = incremental):
        """Every published (date, currency, rate) from the smallest document covering the gap.

        The gap starts the day after the last loaded rate date (the cursor), or at
        `lookback_start` on an empty lake; a backfill's gap is its own range. Rows of the
        cursor's own day are yielded again: dlt drops the identical ones (PRIMARY_KEY) and keeps
        a corrected rate.
        """
        last = rate_date.end_value
        if last is not None:
            keep = rate_date.start_value
            gap_start = date.fromisoformat(keep)
        elif rate_date.start_value is None:
            gap_start = lookback_start
            keep = gap_start.isoformat()
        else:
            keep = rate_date.start_value
            gap_start = date.fromisoformat(keep) + timedelta(days=1)
        extracted_at = datetime.now(UTC)
        fetched = fetch_covering(gap_start, base_url, timeout)
        extraction.document, extraction.reason = fetched.document, fetched.reason
        for batch in rows(fetched.rates, fetched.document, extracted_at, (keep, last)):
            newest = max(row["rate_date"] for row in batch)
            extraction.max_rate_date = max(newest, extraction.max_rate_date or newest)
            yield batch

    return ecb_rates


def dlt_environment(settings: Settings) -> dict[str, str]:
    """dlt's configuration for the lake, in dlt's own environment names."""
    env = {"RUNTIME__DLTHUB_TELEMETRY": "false"}
    if not settings.lake_is_s3:
        env["DESTINATION__FILESYSTEM__BUCKET_URL"] = Path(settings.lake_url).as_uri()
        return env
    env["DESTINATION__FILESYSTEM__BUCKET_URL"] = settings.lake_url
    prefix = "DESTINATION__FILESYSTEM__CREDENTIALS__"
    env[prefix + "REGION_NAME"] = settings.aws_region
    if settings.s3_endpoint_url:
        endpoint = settings.s3_endpoint_url
        env[prefix + "ENDPOINT_URL"] = endpoint if "://" in endpoint else f"http://{endpoint}"
        for name in ("AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION"):
            env[name] = os.environ.get(name) or "when_required"  # MinIO rejects new checksums
    credentials = boto3.Session().get_credentials()
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        env[prefix + "AWS_ACCESS_KEY_ID"] = frozen.access_key
        env[prefix + "AWS_SECRET_ACCESS_KEY"] = frozen.secret_key
        if frozen.token:
            env[prefix + "AWS_SESSION_TOKEN"] = frozen.token
    return env


@dataclass
class LoadResult:
    document: str | None
    reason: str | None
    rows_loaded: int
    max_rate_date: str | None
    load_id: str | None


def _root_cause(exc: BaseException) -> BaseException:
    while True:
        if isinstance(exc, UserError):
            return exc
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            return exc
        exc = nxt


def load(
    settings: Settings,
    *,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
    pipelines_dir: Path | None = None,
) -> LoadResult:
    """One bronze load: incremental when `end` is None, else the closed range [start, end]."""
    today = today or datetime.now(UTC).date()
    extraction = Extraction()
    source = ecb(
        base_url=settings.ecb_base_url,
        timeout=settings.http_timeout_seconds,
        lookback_start=today - timedelta(days=settings.initial_lookback_days),
        extraction=extraction,
        rate_date=cursor(start, end) if end is not None else None,
    )
    with contextlib.ExitStack() as stack:
        if pipelines_dir is None:
            pipelines_dir = Path(stack.enter_context(tempfile.TemporaryDirectory("-dlt")))
        stack.enter_context(scoped_environ(dlt_environment(settings)))
        pipeline = dlt.pipeline(
            pipeline_name=PIPELINE_NAME,
            destination="filesystem",
            dataset_name=DATASET,
            pipelines_dir=str(pipelines_dir),
        )
        try:
            info = pipeline.run(source, loader_file_format="jsonl")
        except PipelineStepFailed as exc:
            cause = _root_cause(exc)
            if isinstance(cause, UserError):
                raise cause from None
            first = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
            raise UpstreamError(
                f"bronze {exc.step} step failed writing to {settings.lake_url}: {first}; "
                "check LAKE_URL, S3_ENDPOINT_URL and the credentials, then re-run"
            ) from exc
        trace = pipeline.last_trace
        normalized = trace.last_normalize_info if trace else None
        rows_loaded = normalized.row_counts.get(TABLE, 0) if normalized else 0
    load_id = info.loads_ids[-1] if info.loads_ids else None
    return LoadResult(
        document=extraction.document,
        reason=extraction.reason,
        rows_loaded=rows_loaded,
        max_rate_date=extraction.max_rate_date if rows_loaded else None,
        load_id=load_id,
    )
