"""Run events: every stage says when it started, and whether it succeeded or failed.

Events go to the hot tier's runs table (so `makerates runs` and the API can list them) and to
stdout as Kestra output and metric lines, so the orchestrator shows the same numbers.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from makerates_core.errors import UserError
from makerates_core.hotstore import HotStore, open_store, table_name
from makerates_core.logs import redact
from makerates_core.settings import Settings

log = logging.getLogger("makerates")
RUNS_PK = "RUNS"


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


@dataclass
class StageRun:
    """What a running stage reports; set `counts` as work is done."""

    settings: Settings
    stage: str
    store: HotStore
    counts: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def table(self) -> str:
        return table_name(self.settings, "runs")

    def record(self, event: str, error: str | None = None) -> None:
        now = datetime.now(UTC)
        duration = round(time.monotonic() - self.started, 3)
        item: dict[str, Any] = {
            "pk": RUNS_PK,
            "sk": f"{self.settings.run_id}#{now.isoformat(timespec='milliseconds')}#{self.stage}#{event}",
            "run_id": self.settings.run_id,
            "stage": self.stage,
            "event": event,
            "at": now.isoformat(timespec="seconds"),
            "duration_s": Decimal(str(duration)),
            "counts": {k: int(v) for k, v in self.counts.items()},
        }
        if error:
            item["error"] = redact(error)  # the runs table is read by people and APIs
        try:
            self.store.ensure_table(self.table)
            self.store.put_items(self.table, [item])
        except UserError as exc:
            log.warning("could not record the %s event in the runs table: %s", event, exc)
        log.info("run %s %s %s %s", self.settings.run_id, self.stage, event, self.counts or "")
        if event != "started":
            outputs = {"run_id": self.settings.run_id, "stage": self.stage, "status": event}
            outputs.update(self.outputs)
            outputs.update(self.counts)
            print(kestra_line("outputs", outputs), flush=True)
            metrics = [
                {"name": name, "type": "counter", "value": value, "tags": {"stage": self.stage}}
                for name, value in self.counts.items()
            ]
            metrics.append(
                {
                    "name": "duration",
                    "type": "timer",
                    "value": duration,
                    "tags": {"stage": self.stage},
                }
            )
            print(kestra_line("metrics", metrics), flush=True)


@contextmanager
def stage_run(settings: Settings, stage: str, store: HotStore | None = None) -> Iterator[StageRun]:
    run = StageRun(settings=settings, stage=stage, store=store or open_store(settings))
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
