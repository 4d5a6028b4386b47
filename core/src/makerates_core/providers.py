"""The provider registry: every source declared once, in `providers.csv` beside this module.

Bronze (what to load, from where), silver (the same file is its `providers` seed), gold and
the readers (names, kinds, provenance) and the settings (`<KEY>_BASE_URL`, `SOURCES`) all read
it; nothing else spells the list. Adding a provider: a row here, a package in
`makerates_bronze/providers/`, a staging model in silver.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

PRIMARY = "ecb"  # its data failing a test blocks publication; every other provider is quarantined


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    kind: str  # official | relay | commercial
    pivot_currency: str  # the currency its quotes are against
    base_url_setting: str  # e.g. BOC_BASE_URL
    default_base_url: str
    history: bool  # False: latest only, a backfill skips it
    first_day: str  # the first day a full backfill can reach ("" without history)
    calendar: str
    publishes_at: str  # local time and zone of its daily publication
    bronze_table: str
    fallback_order: int  # 1 the primary, 2 its backup, 3 the official providers, 4 the checks

    @property
    def is_primary(self) -> bool:
        return self.key == PRIMARY


@cache
def registry() -> tuple[Provider, ...]:
    """Every provider, in the order a run loads them (by fallback order, then as listed)."""
    text = files("makerates_core").joinpath("providers.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    providers = [
        Provider(
            **{
                **row,
                "history": row["history"] == "true",
                "fallback_order": int(row["fallback_order"]),
            }
        )
        for row in rows
    ]
    return tuple(sorted(providers, key=lambda p: p.fallback_order))


def keys() -> tuple[str, ...]:
    return tuple(p.key for p in registry())


def get(key: str) -> Provider:
    for provider in registry():
        if provider.key == key:
            return provider
    raise KeyError(key)
