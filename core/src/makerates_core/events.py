"""Run events: every stage says when it started, and whether it succeeded or failed.

Bronze and silver may not touch the hot tier (iam/), so they write each event to the lake: one
small JSON object per event, `runs/<YYYY-MM-DD>/<stage>/<run_id>/<HHMMSS.mmm>-<event>.json`
(UTC), never rewritten. Gold writes its own events to the hot tier's runs table and copies the
lake's there (makerates_gold.run_events), so `makerates runs` and the API list every stage.

Every event but `started` is also printed as Kestra output and metric lines, so the
orchestrator shows the same numbers; only when stdout is not a terminal (Kestra, a pipe, a
file): a person at a terminal gets makerates' log line instead.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, unquote

from makerates_core.errors import UserError
from makerates_core.hotstore import HotStore, Item, table_name
from makerates_core.lake import Lake
from makerates_core.logs import redact
from makerates_core.settings import Settings

log = logging.getLogger("makerates")
RUNS_PK = "RUNS"
LAKE_PREFIX = "runs"
LAKE_KEY = re.compile(
    rf"{LAKE_PREFIX}/(?P<day>\d{{4}}-\d{{2}}-\d{{2}})/(?P<stage>[a-z_]+)/(?P<run_id>[^/]+)/"
    r"(?P<time>\d{6}\.\d{3})-(?P<event>[a-z]+)\.json"
)


def kestra_line(kind: str, payload: Any) -> str:
    """One `::{...}::` line, the form Kestra reads from a container's stdout."""
    return "::" + json.dumps({kind: payload}, separators=(",", ":"), default=str) + "::"


def read_outputs(stdout: str) -> dict[str, Any]:
    """The `outputs` of every `::{"outputs":{...}}::` line in a stage's stdout, merged: what
    Kestra collects, for whatever runs a stage as a process (tests, the benchmark)."""
    merged: dict[str, Any] = {}
    for line in stdout.splitlines():
        if line.startswith('::{"outputs"') and line.endswith("::"):
            merged.update(json.loads(line[2:-2])["outputs"])
    return merged


def for_kestra() -> bool:
    """Kestra reads a container's stdout, which is no terminal; on a person's it is noise."""
    return not sys.stdout.isatty()


def sort_key(run_id: str, at: datetime, stage: str, event: str) -> str:
    """The runs table's sk: a run's events together, in the order they happened."""
    return f"{run_id}#{at.isoformat(timespec='milliseconds')}#{stage}#{event}"


def lake_key(run_id: str, at: datetime, stage: str, event: str) -> str:
    """Where the lake keeps an event: by day (what gold lists), then stage (what IAM grants)."""
    moment = f"{at:%H%M%S}.{at.microsecond // 1000:03d}"
    return f"{LAKE_PREFIX}/{at:%Y-%m-%d}/{stage}/{quote(run_id, safe='')}/{moment}-{event}.json"


def sort_key_of(key: str) -> str | None:
    """The sk of the event a lake key holds (so gold knows what it lacks without reading the
    object); None for a key that is no event's."""
    found = LAKE_KEY.fullmatch(key)
    if not found:
        return None
    at = datetime.strptime(f"{found['day']}T{found['time']}", "%Y-%m-%dT%H%M%S.%f")
    run_id = unquote(found["run_id"])
    return sort_key(run_id, at.replace(tzinfo=UTC), found["stage"], found["event"])


def event_json(item: Item) -> str:
    """An event as the lake keeps it (the duration as its exact decimal string)."""
    return json.dumps(item, default=str, sort_keys=True)


def event_from_json(text: str) -> Item | None:
    """The runs-table item of an event object; None when the text is not one."""
    try:
        item = json.loads(text)
        item["duration_s"] = Decimal(item["duration_s"])
    except (TypeError, ValueError, KeyError, InvalidOperation):
        return None
    return item if item.get("pk") == RUNS_PK and isinstance(item.get("sk"), str) else None


_last_event_at = datetime.min.replace(tzinfo=UTC)


def event_time() -> datetime:
    """Now, to the millisecond, and later than this process's previous event: the keys sort
    by time to the millisecond, so two events of one millisecond would sort by name (`failed`
    before `started`)."""
    global _last_event_at
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    _last_event_at = max(now, _last_event_at + timedelta(milliseconds=1))
    return _last_event_at


@dataclass
class StageRun:
    """What a running stage reports; set `counts` as work is done. Events go to the hot runs
    table when `store` is given (gold), else to the lake (bronze, silver)."""

    settings: Settings
    stage: str
    store: HotStore | None = None
    counts: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def table(self) -> str:
        return table_name(self.settings, "runs")

    def record(self, event: str, error: str | None = None) -> None:
        now = event_time()
        duration = round(time.monotonic() - self.started, 3)
        item: dict[str, Any] = {
            "pk": RUNS_PK,
            "sk": sort_key(self.settings.run_id, now, self.stage, event),
            "run_id": self.settings.run_id,
            "stage": self.stage,
            "event": event,
            "at": now.isoformat(timespec="seconds"),
            "duration_s": Decimal(str(duration)),
            "counts": {k: int(v) for k, v in self.counts.items()},
        }
        if error:
            item["error"] = redact(error)  # the runs table is read by people and APIs
        self._write(item, now)
        log.info("run %s %s %s %s", self.settings.run_id, self.stage, event, self.counts or "")
        if event != "started" and for_kestra():
            self._print_for_kestra(event, duration)

    def _write(self, item: Item, now: datetime) -> None:
        """Store the event; a store that fails is a warning (the stage's own error, if any,
        is the one to report)."""
        try:
            if self.store is None:
                key = lake_key(self.settings.run_id, now, self.stage, item["event"])
                Lake(self.settings).write_text(key, event_json(item))
            else:
                self.store.ensure_table(self.table)
                self.store.put_items(self.table, [item])
        except (UserError, OSError) as exc:
            where = "the lake" if self.store is None else "the runs table"
            log.warning("could not record the %s event in %s: %s", item["event"], where, exc)

    def _print_for_kestra(self, event: str, duration: float) -> None:
        outputs = {"run_id": self.settings.run_id, "stage": self.stage, "status": event}
        outputs.update(self.outputs)
        outputs.update(self.counts)
        print(kestra_line("outputs", outputs), flush=True)
        metrics = [
            {"name": name, "type": "counter", "value": value, "tags": {"stage": self.stage}}
            for name, value in self.counts.items()
        ]
        metrics.append(
            {"name": "duration", "type": "timer", "value": duration, "tags": {"stage": self.stage}}
        )
        print(kestra_line("metrics", metrics), flush=True)


@contextmanager
def stage_run(settings: Settings, stage: str, store: HotStore | None = None) -> Iterator[StageRun]:
    """Record `started`, then `succeeded` or `failed` (with the error's first line). Gold
    passes its store (the runs table); bronze and silver none (the lake)."""
    run = StageRun(settings=settings, stage=stage, store=store)
    run.record("started")
    try:
        yield run
    except BaseException as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        run.record("failed", error=message)
        raise
    run.record("succeeded")


def recent_runs(
    settings: Settings, store: HotStore, limit_events: int = 200
) -> list[dict[str, Any]]:
    """The newest runs first, each with its events in order: one Query."""
    table = table_name(settings, "runs")
    events = list(store.query(table, RUNS_PK, descending=True, limit=limit_events))
    runs: dict[str, dict[str, Any]] = {}
    for event in reversed(events):
        run = runs.setdefault(event["run_id"], {"run_id": event["run_id"], "events": []})
        run["events"].append(event)
    return sorted(runs.values(), key=lambda r: r["run_id"], reverse=True)
