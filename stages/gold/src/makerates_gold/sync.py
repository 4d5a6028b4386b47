"""Sync the published silver table into the hot tier: only the days whose content changed.

Daily cost stays flat as history grows: DuckDB computes a digest per year and the currency
spans over the Parquet; one BatchGetItem reads the watermark (`META/SYNC`, the digests of the
last sync) and the currencies item; only the years whose digest changed are loaded into
Python and compared day by day (a Query of that year's `h` attributes, ≤ 261 small items);
only changed days are written. The v2 series items (one month of one series each) are
hashed in DuckDB over the series marts' files the watermark does not list (silver carries an
unchanged year's file forward under its old key, so a daily run reads one year, not the
history); only the items whose hash differs are rendered and written. The watermark is
written last, so an interrupted sync redoes its years and files next time; `--full` compares
everything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from makerates_core.hotstore import HotStore, table_name
from makerates_core.settings import Settings

from makerates_gold.items import (
    CURRENCIES_SK,
    META_PK,
    PROVIDERS_SK,
    RATES_PK,
    SYNC_SK,
    currencies_item,
    day_item,
    providers_item,
    rates_hash,
    series_item,
    sync_item,
)
from makerates_gold.published import Day, SilverTable, read_published

log = logging.getLogger("makerates")


@dataclass
class SyncResult:
    run_id: str
    days_published: int = 0
    days_written: int = 0
    days_unchanged: int = 0
    items_written: int = 0
    rows_not_served: int = 0  # an independent source's rows on days without ECB rates
    years_compared: list[str] = field(default_factory=list)
    days_only_in_hot_tier: list[str] = field(default_factory=list)
    series_written: int = 0  # v2 series items (one month of one series each)
    series_files_read: int = 0  # series marts' files not yet in the watermark

    @property
    def counts(self) -> dict[str, int]:
        return {
            "items_written": self.items_written,
            "days_unchanged": self.days_unchanged,
            "days_written": self.days_written,
            "days_published": self.days_published,
            "rows_not_served": self.rows_not_served,
            "series_written": self.series_written,
            "series_files_read": self.series_files_read,
        }


def plan_day_items(
    store: HotStore,
    table: str,
    days: dict[str, Day],
    run_id: str,
    years: list[str],
) -> tuple[list[dict], list[str]]:
    """Items for the days of `years` whose hash differs from the hot tier's, and the days the
    hot tier holds there that silver no longer serves. `days` holds those years' days only."""
    items: list[dict] = []
    stale: list[str] = []
    for year in years:
        held = {
            item["sk"]: item.get("h")
            for item in store.query(
                table, RATES_PK, sk_min=f"{year}-01-01", sk_max=f"{year}-12-31", attributes=["h"]
            )
        }
        for day in sorted(d for d in days if d.startswith(year)):
            # the hash first: an unchanged day's item (its v1eur rendering) is never built
            if held.get(day) != rates_hash(days[day].rates, days[day].sources):
                items.append(day_item(day, days[day].rates, run_id, days[day].sources))
        stale.extend(sorted(d for d in held if d not in days))
    return items, stale


SERIES_BATCH = 64  # series items loaded from DuckDB and written per step (≤ 100 KB each)


def changed_series(
    store: HotStore, table: str, hashes: dict[tuple[str, str], str]
) -> list[tuple[str, str]]:
    """The (pk, sk) of the series items whose hash differs from the hot tier's: one Query per
    series over the months at hand, projecting `h`."""
    months: dict[str, list[str]] = {}
    for pk, sk in hashes:
        months.setdefault(pk, []).append(sk)
    held: dict[tuple[str, str], str | None] = {}
    for pk, sks in sorted(months.items()):
        found = store.query(table, pk, sk_min=min(sks), sk_max=max(sks), attributes=["h"])
        held.update(((pk, i["sk"]), i.get("h")) for i in found)
    return sorted(key for key, h in hashes.items() if held.get(key) != h)


def write_series(
    store: HotStore, table: str, silver: SilverTable, keys: list[tuple[str, str]], run_id: str
) -> int:
    """Write the series items `keys`, a batch at a time, so memory holds one batch."""
    written = 0
    for start in range(0, len(keys), SERIES_BATCH):
        rows = silver.series_rows(keys[start : start + SERIES_BATCH])
        written += store.put_items(table, [series_item(*row, run_id) for row in rows])
    return written


def sync(settings: Settings, store: HotStore, *, full: bool = False) -> SyncResult:
    published = read_published(settings)
    table = table_name(settings, "rates")
    with SilverTable(settings, published) as silver:
        summary = silver.summary()
        result = SyncResult(
            run_id=published.run_id,
            days_published=summary.days,
            rows_not_served=summary.skipped_rows,
        )
        log.info(
            "silver run %s: %d days from %s to %s",
            published.run_id,
            summary.days,
            summary.first or "-",
            summary.last or "-",
        )
        if summary.skipped_rows:
            log.info(
                "%d rows on %d days without ECB rates (weekend snapshots) are not served",
                summary.skipped_rows,
                summary.skipped_days,
            )

        store.ensure_table(table)
        meta = {
            item["sk"]: item
            for item in store.batch_get(
                table, [(META_PK, SYNC_SK), (META_PK, CURRENCIES_SK), (META_PK, PROVIDERS_SK)]
            )
        }
        digests = silver.year_digests()
        held_digests = {} if full else (meta.get(SYNC_SK) or {}).get("years", {})
        changed = sorted(y for y, d in digests.items() if held_digests.get(y) != d)
        result.years_compared = changed
        days = silver.days(changed) if changed else {}
        currencies = currencies_item(silver.currency_spans(), silver.pivot())
        providers = providers_item(silver.providers())
        held_files = set() if full else set((meta.get(SYNC_SK) or {}).get("series_files", []))
        series = changed_series(store, table, silver.series_hashes(held_files))
        series_files = silver.series_files()
        result.series_files_read = len(set(series_files) - held_files)
        result.series_written = write_series(store, table, silver, series, published.run_id)

    day_items, stale = plan_day_items(store, table, days, published.run_id, changed)
    result.days_written = len(day_items)
    result.days_unchanged = summary.days - len(day_items)
    result.days_only_in_hot_tier = stale
    if stale:
        log.warning(
            "%d days are in the hot tier but not in silver (left in place): %s",
            len(stale),
            ", ".join(stale[:10]) + (" …" if len(stale) > 10 else ""),
        )

    written = result.series_written
    written += store.put_items(table, day_items) if day_items else 0
    for item in (currencies, providers):
        if (meta.get(item["sk"]) or {}).get("h") != item["h"]:
            written += store.put_items(table, [item])
    watermark = sync_item(digests, series_files)
    if (meta.get(SYNC_SK) or {}).get("h") != watermark["h"]:
        written += store.put_items(table, [watermark])  # last: it vouches for what is above
    result.items_written = written
    log.info(
        "%d items written (%d days, %d series months), %d days unchanged, years compared: %s",
        written,
        result.days_written,
        result.series_written,
        result.days_unchanged,
        ", ".join(changed) or "none",
    )
    return result
