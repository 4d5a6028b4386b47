"""Serving items of the `<prefix>rates` table: how they are built and hashed.

Key schema (pk, sk are strings):
- `RATES` / `YYYY-MM-DD`  one item per ECB publication day: `rates` (currency → Decimal, EUR
  left out: it is the pivot), `src` (currency → source, only for the rates that are not the
  ECB's, absent when all are), `v1eur` (the day's /v1 `rates` in EUR of every currency, amount
  1, as JSON text: day_answer), `h` (content hash of `rates` and `src`), `run_id` (the silver
  run that wrote it).
- `META` / `CURRENCIES`   every currency ever served: code → {"first": day, "last": day,
  "name", "minor_units"} and "source" for a currency the ECB never gave; `pivot` (EUR's name
  and minor units), `h`. Names come from silver (dim_currencies, the ISO 4217 seed).
- `META` / `PROVIDERS`    silver's dim_providers: every provider with its coverage, `h`.
- `META` / `SYNC`         the sync watermark: one digest per year of the served rows
  (published.YEAR_DIGESTS, computed in DuckDB), `h`.
- `DAY#<series>`, `WEEK#<series>`, `MONTH#<series>` / `YYYY-MM`   the v2 series items: `rows`
  (text lines, DESIGN.md "v2: series items"), `h` (DuckDB's hash of the month's rows), `run_id`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from makerates_gold.display import rebase

RATES_PK = "RATES"
META_PK = "META"
CURRENCIES_SK = "CURRENCIES"
PROVIDERS_SK = "PROVIDERS"
SYNC_SK = "SYNC"
PIVOT = "EUR"
HASH_VERSION = "v1"  # of the currencies and providers hashes
# of the day hashes: v2 items carry `v1eur`, so a day written before is rewritten once
DAY_HASH_VERSION = "v2"
DIGEST_VERSION = "v3"  # of the year digests; a watermark of another version compares all
SERIES_DIGEST_VERSION = "v2"  # of the series items' hashes
ECB = "ecb"

Rates = dict[str, Decimal]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def rates_hash(rates: Mapping[str, Decimal], sources: Mapping[str, str] | None = None) -> str:
    """A content hash of one day: its rates (trailing zeros already stripped, as the loader
    gives them) and the source of each rate that is not the ECB's. A day served only by the
    ECB hashes without a `src` part."""
    body = ";".join(f"{c}={r}" for c, r in sorted(rates.items()))
    if sources:
        body += "|src:" + ";".join(f"{c}={s}" for c, s in sorted(sources.items()))
    return _digest(f"{DAY_HASH_VERSION}|{body}")


def day_answer(rates: Rates) -> str:
    """The day's /v1 `rates` in EUR, amount 1, every currency: the API's own rendering
    (display.rebase), so that a range of them is answered by joining the texts."""
    per_pivot = {**rates, PIVOT: Decimal(1)}
    return json.dumps(rebase(per_pivot, PIVOT, None, Decimal(1)), separators=(",", ":"))


def day_item(
    day: str, rates: Rates, run_id: str, sources: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The day's item; `src` (currency → source) only when some rate is not the ECB's."""
    item: dict[str, Any] = {
        "pk": RATES_PK,
        "sk": day,
        "rates": rates,
        "v1eur": day_answer(rates),
        "h": rates_hash(rates, sources),
        "run_id": run_id,
    }
    if sources:
        item["src"] = dict(sources)
    return item


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def currencies_item(spans: Mapping[str, Mapping[str, Any]], pivot: Mapping[str, Any]) -> dict:
    """code → {first, last, name[, minor_units][, source]}: `source` only for a currency the
    ECB never gave; `pivot`: EUR's own name and minor units."""
    ordered = {code: dict(span) for code, span in sorted(spans.items())}
    return {
        "pk": META_PK,
        "sk": CURRENCIES_SK,
        "currencies": ordered,
        "pivot": dict(pivot),
        "h": _digest(f"{HASH_VERSION}|{_canonical([ordered, pivot])}"),
    }


def providers_item(providers: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Silver's dim_providers as one item: the registry with each provider's coverage."""
    listed = [dict(p) for p in providers]
    return {
        "pk": META_PK,
        "sk": PROVIDERS_SK,
        "providers": listed,
        "h": _digest(f"{HASH_VERSION}|{_canonical(listed)}"),
    }


def sync_item(digests: Mapping[str, str], series_files: Sequence[str] = ()) -> dict[str, Any]:
    """The watermark: the year digests, and the series files whose items are in place."""
    ordered = dict(sorted(digests.items()))
    files = sorted(series_files)
    return {
        "pk": META_PK,
        "sk": SYNC_SK,
        "years": ordered,
        "series_files": files,
        "h": _digest(";".join([*(f"{y}={d}" for y, d in ordered.items()), *files])),
    }


def series_item(pk: str, sk: str, rows: str, h: str, run_id: str) -> dict[str, Any]:
    """One month of a v2 series: its lines as silver rendered them, hashed in DuckDB."""
    return {"pk": pk, "sk": sk, "rows": rows, "h": h, "run_id": run_id}
