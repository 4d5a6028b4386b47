"""The dlt wiring: each provider is its own dlt source, table and pipeline, all into `bronze`.

The providers, their tables (`bronze/<key>_rates`) and base-URL settings come from the
registry (`makerates_core.providers`); the ECB's pipeline is `makerates_bronze`, every other
provider's `makerates_bronze_<key>`. The ECB, Frankfurter and ExchangeRate-API have sources of
their own below; every official provider's is `providers/<key>` (`providers.official`).

A run loads each enabled source in its own pipeline run, so a source that is down does not
stop the others (`load_all`). dlt's state (the incremental cursor on `rate_date`) is stored in
the lake with every load and restored from it when the local pipelines dir is empty, so each
run starts from an empty temporary dir and a fresh container resumes where the last one
stopped. (No `__` in pipeline names: it breaks that restore.)
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import boto3
import dlt
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.pipeline.exceptions import PipelineStepFailed
from makerates_core import providers
from makerates_core.errors import UpstreamError, UserError, os_error_line
from makerates_core.lake import S3_TIMEOUTS
from makerates_core.logs import progress
from makerates_core.settings import Settings, scoped_environ

from makerates_bronze import exchangerate_api, frankfurter, upstream
from makerates_bronze.documents import fetch_covering
from makerates_bronze.ecb import Rate

log = logging.getLogger("makerates")

DATASET = "bronze"
BATCH_ROWS = 10_000
ECB_FAMILY = ("ecb", "frankfurter")  # the EUR reference rates: the primary and its backup


class Spec(NamedTuple):
    pipeline: str
    table: str
    setting: str  # the base-URL setting to check when the source fails


SPECS = {
    p.key: Spec(
        "makerates_bronze" if p.is_primary else f"makerates_bronze_{p.key}",
        p.bronze_table,
        p.base_url_setting,
    )
    for p in providers.registry()
}


def _text(nullable: bool = False) -> dict:
    return {"data_type": "text", "nullable": nullable}


RATE_COLUMNS: TTableSchemaColumns = {
    "rate_date": _text(),
    "currency": _text(),
    "rate": _text(),
}
EXTRACTED_AT: TTableSchemaColumns = {
    "extracted_at": {"data_type": "timestamp", "timezone": True, "nullable": False},
}
# The JSON sources keep a null rate or base as null: silver's tests reject it, bronze stays raw.
ECB_COLUMNS = {**RATE_COLUMNS, "document": _text(), **EXTRACTED_AT}
FRANKFURTER_COLUMNS = {
    **RATE_COLUMNS,
    "rate": _text(nullable=True),
    "base": _text(nullable=True),
    "request": _text(),
    **EXTRACTED_AT,
}
EXCHANGERATE_API_COLUMNS = {
    **RATE_COLUMNS,
    "rate": _text(nullable=True),
    "base": _text(nullable=True),
    "published_at": _text(),
    **EXTRACTED_AT,
}


@dataclass
class Extraction:
    """What a resource read, for the run's log and outputs."""

    source: str
    document: str | None = None  # the ECB document, or the request(s) a JSON source made
    reason: str | None = None
    max_rate_date: str | None = None

    def track(self, batches: Iterable[list[dict]]) -> Iterator[list[dict]]:
        """Pass the batches on, noting the newest rate date; a long extraction (a backfill)
        logs its rows and rate every few seconds."""
        for batch in progress(batches, f"bronze {self.source} rows extracted", size=len):
            newest = max(row["rate_date"] for row in batch)
            self.max_rate_date = max(newest, self.max_rate_date or newest)
            yield batch


def rows(rates: Iterable[NamedTuple], constants: dict) -> Iterator[list[dict]]:
    """Bronze rows (each rate's fields — a `Rate` or an `Observation` — plus `constants`), in
    batches.

    A rate dated after tomorrow (UTC; the ECB's day starts before UTC's) fails the source's
    whole load: such a document is broken, and its rows would move the incremental cursor
    into the future, where every later run would find nothing new.
    """
    latest = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    batch: list[dict] = []
    for rate in rates:
        rate_date = rate.rate_date
        if rate_date > latest:
            origin = constants.get("document") or constants.get("request") or "the source"
            raise UpstreamError(
                f"{origin} has rates dated {rate_date}, later than tomorrow ({latest}, UTC): "
                "a broken document, nothing of it loaded; check the source, then re-run"
            )
        batch.append({**rate._asdict(), **constants})
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def cursor(start: date | None = None, end: date | None = None) -> dlt.sources.incremental:
    """The incremental on rate_date: stateful for runs; for backfills a closed range dlt keeps
    no state of (what a backfill tells the next run is recorded by `whole_days`).

    dlt's row de-duplication is off (`primary_key=()`): the cursor's own day is asked again on
    every run and is kept or dropped as a whole day (`whole_days`), so that bronze's newest
    copy of a day is always the complete day the source published — silver takes each day
    from it, and a currency a correction removed disappears."""
    if end is None:
        return dlt.sources.incremental("rate_date", primary_key=())
    return dlt.sources.incremental(
        "rate_date",
        initial_value=start.isoformat(),
        end_value=end.isoformat(),
        range_end="closed",
        primary_key=(),
    )


def _digest(rates: Iterable[Rate]) -> str:
    return hashlib.sha256(repr(sorted((r.currency, r.rate) for r in rates)).encode()).hexdigest()


def whole_days(rates: Iterable[Rate], span: Window) -> list[Rate]:
    """The rates of a run's window, without the cursor's own day when it is unchanged.

    The resource's state remembers the newest day loaded and the digest of its rates. A daily
    run asks that day again (`window`) and loads it again — whole — only if the source changed
    it (a corrected rate, a currency added or removed). A backfill keeps every day of its range
    and records its newest day only when it continues the recorded days (`_continues`): then
    the next daily run starts from there instead of re-reading what the backfill loaded.
    """
    first, last = span.keep
    kept = [r for r in rates if r.rate_date >= first and (last is None or r.rate_date <= last)]
    state = dlt.current.resource_state()
    recorded = state.get("day")
    unchanged = _digest(r for r in kept if r.rate_date == first) == state.get("digest")
    if span.resumed and recorded == first and unchanged:
        kept = [r for r in kept if r.rate_date != first]
    newest = max((r.rate_date for r in kept), default=None)
    if newest is not None and (span.last is None or _continues(recorded, span.first, newest)):
        state["day"] = newest
        state["digest"] = _digest(r for r in kept if r.rate_date == newest)
    return kept


def _continues(recorded: str | None, first: date, newest: str) -> bool:
    """Whether a backfill from `first` to `newest` moves the recorded day on without a gap: it
    reaches past that day and starts no later than the day after it (a backfill that starts
    later would let the daily runs skip the days in between; an older one changes nothing).
    Nothing recorded yet (an empty lake): the backfill's newest day is the first recorded."""
    if recorded is None:
        return True
    return newest > recorded and first <= date.fromisoformat(recorded) + timedelta(days=1)


class Window(NamedTuple):
    """The rate dates a run keeps: first..last (last None: up to the newest published)."""

    first: date
    last: date | None
    resumed: bool  # first is the recorded newest day, asked again (see whole_days)

    @property
    def keep(self) -> tuple[str, str | None]:
        return self.first.isoformat(), self.last.isoformat() if self.last else None


def window(rate_date: dlt.sources.incremental, lookback_start: date) -> Window:
    """A backfill's own closed range; else a daily run's, from the newest recorded day: the
    cursor's, or a later one a backfill recorded (`whole_days`), so a daily run does not read
    again what a backfill loaded. Else from `lookback_start`: on an empty lake, and on one only
    backfilled before it (INITIAL_LOOKBACK_DAYS bounds a first daily run whatever was
    backfilled)."""
    if rate_date.end_value is not None:
        first = date.fromisoformat(rate_date.start_value)
        return Window(first, date.fromisoformat(rate_date.end_value), False)
    start, day = rate_date.start_value, dlt.current.resource_state().get("day")
    if start is None and (day is None or day < lookback_start.isoformat()):
        return Window(lookback_start, None, False)
    return Window(date.fromisoformat(max(filter(None, (start, day)))), None, True)


@dlt.source(name="ecb", max_table_nesting=0)
def ecb_source(
    base_url: str,
    limits: upstream.Limits,
    lookback_start: date,
    extraction: Extraction,
    rate_date: dlt.sources.incremental | None = None,
):
    """The ECB euro reference rates."""
    incremental = rate_date or cursor()

    @dlt.resource(name=SPECS["ecb"].table, write_disposition="append", columns=ECB_COLUMNS)
    def ecb_rates(rate_date: dlt.sources.incremental = incremental):
        """Every published (date, currency, rate) from the smallest document covering the gap
        (which starts the day after the cursor's)."""
        span = window(rate_date, lookback_start)
        gap_start = span.first + timedelta(days=1) if span.resumed else span.first
        extracted_at = datetime.now(UTC)
        fetched = fetch_covering(gap_start, base_url, limits)
        extraction.document, extraction.reason = fetched.document, fetched.reason
        constants = {"document": fetched.document, "extracted_at": extracted_at}
        yield from extraction.track(rows(whole_days(fetched.rates, span), constants))

    return ecb_rates


@dlt.source(name="frankfurter", max_table_nesting=0)
def frankfurter_source(
    base_url: str,
    limits: upstream.Limits,
    lookback_start: date,
    today: date,
    extraction: Extraction,
    rate_date: dlt.sources.incremental | None = None,
):
    """Frankfurter: the ECB's rates as JSON, the backup of the ECB."""
    incremental = rate_date or cursor()

    @dlt.resource(
        name=SPECS["frankfurter"].table, write_disposition="append", columns=FRANKFURTER_COLUMNS
    )
    def frankfurter_rates(rate_date: dlt.sources.incremental = incremental):
        """Range requests from the cursor's day (or the backfill's start) to today (or its
        end), one per calendar year."""
        span = window(rate_date, lookback_start)
        last = span.last or max(today, span.first)
        paths = [frankfurter.range_path(a, b) for a, b in frankfurter.year_ranges(span.first, last)]
        extraction.document = (
            paths[0] if len(paths) == 1 else (f"{paths[0]} … {paths[-1]} ({len(paths)} requests)")
        )
        for path in paths:
            extracted_at = datetime.now(UTC)
            answer = frankfurter.fetch(base_url, path, limits)
            constants = {"base": answer.base, "request": path, "extracted_at": extracted_at}
            yield from extraction.track(rows(whole_days(answer.rates, span), constants))

    return frankfurter_rates


@dlt.source(name="exchangerate_api", max_table_nesting=0)
def exchangerate_api_source(base_url: str, limits: upstream.Limits, extraction: Extraction):
    """ExchangeRate-API's open access: the latest snapshot, independent of the ECB.

    Snapshots are loaded whole or not at all: the resource's state remembers the last loaded
    snapshot's `published_at` and the digest of its rates, so the same snapshot fetched again
    is dropped entirely, while a new one — or a corrected one with the same `published_at`
    (its rates differ) — lands complete (silver re-bases each snapshot by its own EUR quote,
    which must be in the same load, and its newest extraction of a day supersedes the older).
    """

    @dlt.resource(
        name=SPECS["exchangerate_api"].table,
        write_disposition="append",
        columns=EXCHANGERATE_API_COLUMNS,
    )
    def exchangerate_api_rates():
        """The snapshot as published, unless it is the one loaded last."""
        extracted_at = datetime.now(UTC)
        snapshot = exchangerate_api.fetch(base_url, limits)
        extraction.document = exchangerate_api.PATH
        state = dlt.current.resource_state()
        seen = {"published_at": snapshot.published_at, "digest": _digest(snapshot.rates)}
        if all(state.get(key) == value for key, value in seen.items()):
            return
        state.update(seen)
        constants = {
            "base": snapshot.base,
            "published_at": snapshot.published_at,
            "extracted_at": extracted_at,
        }
        yield from extraction.track(rows(snapshot.rates, constants))

    return exchangerate_api_rates


def dlt_environment(settings: Settings) -> dict[str, str]:
    """dlt's configuration for the lake, in dlt's own environment names."""
    env = {"RUNTIME__DLTHUB_TELEMETRY": "false"}
    if not settings.lake_is_s3:
        env["DESTINATION__FILESYSTEM__BUCKET_URL"] = Path(settings.lake_url).as_uri()
        return env
    env["DESTINATION__FILESYSTEM__BUCKET_URL"] = settings.lake_url
    env["DESTINATION__FILESYSTEM__KWARGS"] = json.dumps({"config_kwargs": S3_TIMEOUTS})
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
    source: str
    document: str | None
    reason: str | None
    rows_loaded: int
    max_rate_date: str | None
    load_id: str | None


def _route_dlt_logs() -> None:
    """dlt logs to stderr through a handler of its own, tracebacks inside its warnings; hand its
    records to ours instead (one line on screen, everything in the debug log)."""
    dlt_logger = logging.getLogger("dlt")
    dlt_logger.handlers.clear()
    dlt_logger.propagate = True


class LakeUnwritable(UpstreamError):
    """The lake refused a load: every other source would fail the same way, so the run stops."""


def _root_cause(exc: BaseException) -> BaseException:
    while True:
        if isinstance(exc, UserError):
            return exc
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            return exc
        exc = nxt


def _source(
    name: str,
    settings: Settings,
    extraction: Extraction,
    rate_date: dlt.sources.incremental | None,
    today: date,
):
    limits = upstream.Limits.of(settings)
    lookback_start = today - timedelta(days=settings.initial_lookback_days)
    base_url = settings.base_url(name)
    if name == "ecb":
        return ecb_source(base_url, limits, lookback_start, extraction, rate_date)
    if name == "exchangerate_api":
        return exchangerate_api_source(base_url, limits, extraction)
    if name == "frankfurter":
        source = frankfurter_source
    else:
        source = importlib.import_module(f"makerates_bronze.providers.{name}").source
    return source(base_url, limits, lookback_start, today, extraction, rate_date)


def load(
    settings: Settings,
    source: str = "ecb",
    *,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
    pipelines_dir: Path | None = None,
) -> LoadResult:
    """One source's bronze load: incremental when `end` is None, else the closed range
    [start, end] (a source without history, exchangerate_api, only runs incrementally)."""
    spec = SPECS[source]
    today = today or datetime.now(UTC).date()
    extraction = Extraction(source)
    rate_date = cursor(start, end) if end is not None else None
    dlt_source = _source(source, settings, extraction, rate_date, today)
    with contextlib.ExitStack() as stack:
        if pipelines_dir is None:
            pipelines_dir = Path(stack.enter_context(tempfile.TemporaryDirectory("-dlt")))
        stack.enter_context(scoped_environ(dlt_environment(settings)))
        pipeline = dlt.pipeline(
            pipeline_name=spec.pipeline,
            destination="filesystem",
            dataset_name=DATASET,
            pipelines_dir=str(pipelines_dir),
        )
        _route_dlt_logs()
        try:
            info = pipeline.run(dlt_source, loader_file_format="jsonl")
        except PipelineStepFailed as exc:
            cause = _root_cause(exc)
            if isinstance(cause, UserError):
                raise cause from None
            first = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
            if exc.step == "extract":
                raise UpstreamError(
                    f"bronze could not read {source}: {first}; check {spec.setting}, then re-run"
                ) from exc
            hint = (
                os_error_line(cause)
                if isinstance(cause, OSError) and cause.errno
                else f"{first}; check LAKE_URL, S3_ENDPOINT_URL and the credentials, then re-run"
            )
            raise LakeUnwritable(
                f"bronze cannot write to the lake {settings.lake_url} ({exc.step} step): {hint}"
            ) from exc
        trace = pipeline.last_trace
        normalized = trace.last_normalize_info if trace else None
        rows_loaded = normalized.row_counts.get(spec.table, 0) if normalized else 0
    load_id = info.loads_ids[-1] if info.loads_ids else None
    return LoadResult(
        source=source,
        document=extraction.document,
        reason=extraction.reason,
        rows_loaded=rows_loaded,
        max_rate_date=extraction.max_rate_date if rows_loaded else None,
        load_id=load_id,
    )


@dataclass
class Outcome:
    """Every enabled source's fate in one run."""

    order: list[str] = field(default_factory=list)  # the sources in the order they ran
    loaded: dict[str, LoadResult] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # source: its one-line error
    skipped: dict[str, str] = field(default_factory=dict)  # source: why
    unreachable: list[str] = field(default_factory=list)  # failed without any answer

    @property
    def rows_loaded(self) -> int:
        return sum(result.rows_loaded for result in self.loaded.values())

    @property
    def usable(self) -> bool:
        """At least one source loaded, and the ECB or its backup did when either ran: without
        them there is no EUR reference for the day, and silver must not go on as if there were."""
        ran = [*self.loaded, *self.failed]
        family = [name for name in ECB_FAMILY if name in ran]
        return bool(self.loaded) and (not family or any(n in self.loaded for n in family))

    def summary(self) -> str:
        """One line: what failed (and why), what loaded."""
        failed = "; ".join(f"{name} ({error})" for name, error in self.failed.items())
        loaded = ", ".join(f"{n} ({r.rows_loaded} rows)" for n, r in self.loaded.items())
        return f"sources failed: {failed}; loaded: {loaded or 'none'}"

    def outputs(self) -> dict:
        per_source: dict[str, dict] = {}
        for name, result in self.loaded.items():
            per_source[name] = {
                "status": "loaded",
                "rows_loaded": result.rows_loaded,
                "document": result.document,
                "max_rate_date": result.max_rate_date,
                "load_id": result.load_id,
            }
        for name, error in self.failed.items():
            per_source[name] = {"status": "failed", "error": error}
        for name, why in self.skipped.items():
            per_source[name] = {"status": "skipped", "reason": why}
        dates = [r.max_rate_date for r in self.loaded.values() if r.max_rate_date]
        return {
            "sources": {name: per_source[name] for name in self.order},
            "missing_sources": list(self.failed),
            "max_rate_date": max(dates) if dates else None,
        }


def load_all(
    settings: Settings,
    *,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
    pipelines_dir: Path | None = None,
) -> Outcome:
    """Every enabled source (SOURCES), each in its own pipeline run; a source's failure is
    recorded and the run goes on with the next. A backfill skips the sources without history
    (exchangerate_api)."""
    outcome = Outcome(order=list(settings.sources))
    for name in settings.sources:
        if end is not None and not providers.get(name).history:
            outcome.skipped[name] = "it publishes only the latest rates, there is no history"
            log.info("%s: skipped by the backfill: %s", name, outcome.skipped[name])
            continue
        try:
            result = load(
                settings, name, start=start, end=end, today=today, pipelines_dir=pipelines_dir
            )
        except LakeUnwritable:
            raise
        except UserError as exc:
            outcome.failed[name] = str(exc).splitlines()[0]
            if isinstance(exc, upstream.Unreachable):
                outcome.unreachable.append(name)
            log.error("%s failed: %s", name, outcome.failed[name])
            continue
        outcome.loaded[name] = result
        log.info(
            "%s: loaded %d rows from %s into %s/%s/%s (newest rate date %s, load %s)",
            name,
            result.rows_loaded,
            result.document,
            settings.lake_url,
            DATASET,
            SPECS[name].table,
            result.max_rate_date,
            result.load_id,
        )
    return outcome
