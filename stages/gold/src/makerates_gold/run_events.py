"""Copy bronze's and silver's run events from the lake into the hot tier's runs table.

Bronze and silver may not touch the hot tier, so they write their events to the lake
(makerates_core.events). Gold copies the ones the runs table lacks: on every sync, and when a
pipeline failed before gold (`makerates-gold record-failure`, from `just pipeline` and Kestra's
errors branch; `copy-events` by hand), so `makerates runs` lists every stage. Bounded: only the folders
of the last COPY_DAYS days are listed. Idempotent: an event's sk comes from its lake key, so
gold asks the table for exactly those keys and a second copy writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from makerates_core.errors import UserError
from makerates_core.events import LAKE_PREFIX, RUNS_PK, event_from_json, sort_key_of
from makerates_core.hotstore import HotStore, Item, table_name
from makerates_core.lake import Lake
from makerates_core.settings import Settings

log = logging.getLogger("makerates")
# A stage's events reach the table within minutes (the same run's gold, or its failure path);
# a week also covers a gold that could not run for days.
COPY_DAYS = 7


def recent_prefixes(today: date) -> list[str]:
    return [f"{LAKE_PREFIX}/{today - timedelta(days=back)}/" for back in range(COPY_DAYS)]


@dataclass
class Copied:
    found: set[str] = field(default_factory=set)  # the sks of the lake's recent events
    written: int = 0  # how many of them the runs table lacked

    def failed(self, run_id: str, stage: str) -> bool:
        """Whether the stage recorded a `failed` event of this run itself."""
        return any(
            sk.startswith(f"{run_id}#") and sk.endswith(f"#{stage}#failed") for sk in self.found
        )


def copy_run_events(settings: Settings, store: HotStore, today: date | None = None) -> Copied:
    """Put the lake's recent events the runs table does not hold."""
    lake = Lake(settings)
    found: dict[str, str] = {}  # sk -> lake key
    for prefix in recent_prefixes(today or datetime.now(UTC).date()):
        for key in lake.list_keys(prefix):
            if sk := sort_key_of(key):
                found[sk] = key
    if not found:
        return Copied()
    table = table_name(settings, "runs")
    store.ensure_table(table)
    held = {item["sk"] for item in store.batch_get(table, [(RUNS_PK, sk) for sk in found])}
    missing = [_read(lake, key, sk) for sk, key in sorted(found.items()) if sk not in held]
    items = [item for item in missing if item is not None]
    if items:
        store.put_items(table, items)
    log.info("copied %d run events of bronze and silver from the lake to %s", len(items), table)
    return Copied(set(found), len(items))


def _read(lake: Lake, key: str, sk: str) -> Item | None:
    item = event_from_json(lake.read_text(key) or "")
    if item is None or item["sk"] != sk:
        log.warning("%s is not the run event its name says; left out", lake.uri(key))
        return None
    return item


def copy_or_warn(settings: Settings, store: HotStore) -> Copied:
    """copy_run_events for a run with a job of its own to finish or report: a failed copy is
    a warning (nothing copied), and the next gold run copies the same events."""
    try:
        return copy_run_events(settings, store)
    except (UserError, OSError) as exc:
        log.warning(
            "could not copy the lake's run events to the runs table: %s; "
            "`makerates-gold copy-events` retries",
            exc,
        )
        return Copied()
