"""Reading what bronze wrote, straight from the lake's files, and the ECB's own numbers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def completed_rows(lake: Path, table: str = "ecb_rates") -> list[dict]:
    """Rows of `bronze/<table>/*.jsonl.gz` whose load is listed in `bronze/_dlt_loads`."""
    done = set()
    for entry in (lake / "bronze" / "_dlt_loads").glob("*.jsonl"):
        for line in entry.read_text().splitlines():
            record = json.loads(line)
            if record["status"] == 0:
                done.add(record["load_id"])
    rows = []
    for path in sorted((lake / "bronze" / table).glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            rows.extend(r for r in map(json.loads, handle) if r["_dlt_load_id"] in done)
    return rows


def published(history, first: str, last: str) -> set[tuple[str, str, str]]:
    """(rate_date, currency, rate) the ECB published for days in [first, last]."""
    out = set()
    for line in history.lines:
        day, rates = history.rates(line)
        if first <= day <= last:
            out.update((day, c, r) for c, r in rates)
    return out


def triples(rows: list[dict]) -> list[tuple[str, str, str]]:
    return [(r["rate_date"], r["currency"], r["rate"]) for r in rows]
