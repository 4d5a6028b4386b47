"""Serving items of the `<prefix>rates` table: how they are built and hashed.

Key schema (pk, sk are strings):
- `RATES` / `YYYY-MM-DD`  one item per ECB publication day: `rates` (currency → Decimal, EUR
  left out: it is the pivot), `src` (currency → source, only for the rates that are not the
  ECB's, absent when all are), `h` (content hash of `rates` and `src`), `run_id` (the silver
  run that wrote it).
- `META` / `CURRENCIES`   every currency ever served: code → {"first": day, "last": day} and
  "source" for a currency the ECB never gave, `h`.
- `META` / `SYNC`         the sync watermark: one digest per year of the served rows
  (published.YEAR_DIGESTS, computed in DuckDB), `h`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

RATES_PK = "RATES"
META_PK = "META"
CURRENCIES_SK = "CURRENCIES"
SYNC_SK = "SYNC"
PIVOT = "EUR"
HASH_VERSION = "v1"  # of the day and currencies hashes
DIGEST_VERSION = "v2"  # of the year digests; a watermark of another version compares all
ECB = "ecb"

Rates = dict[str, Decimal]

# English names of every currency the ECB has published (ISO 4217), for listings; the store
# holds only codes, so a code missing here is shown as itself.
CURRENCY_NAMES = {
    "AUD": "Australian Dollar", "BGN": "Bulgarian Lev", "BRL": "Brazilian Real",
    "CAD": "Canadian Dollar", "CHF": "Swiss Franc", "CNY": "Chinese Renminbi Yuan",
    "CYP": "Cypriot Pound", "CZK": "Czech Koruna", "DKK": "Danish Krone",
    "EEK": "Estonian Kroon", "EUR": "Euro", "GBP": "British Pound", "GRD": "Greek Drachma",
    "HKD": "Hong Kong Dollar", "HRK": "Croatian Kuna", "HUF": "Hungarian Forint",
    "IDR": "Indonesian Rupiah", "ILS": "Israeli New Sheqel", "INR": "Indian Rupee",
    "ISK": "Icelandic Króna", "JPY": "Japanese Yen", "KRW": "South Korean Won",
    "LTL": "Lithuanian Litas", "LVL": "Latvian Lats", "MTL": "Maltese Lira",
    "MXN": "Mexican Peso", "MYR": "Malaysian Ringgit", "NOK": "Norwegian Krone",
    "NZD": "New Zealand Dollar", "PHP": "Philippine Peso", "PLN": "Polish Złoty",
    "ROL": "Romanian Leu (old)", "RON": "Romanian Leu", "RUB": "Russian Ruble",
    "SEK": "Swedish Krona", "SGD": "Singapore Dollar", "SIT": "Slovenian Tolar",
    "SKK": "Slovak Koruna", "THB": "Thai Baht", "TRL": "Turkish Lira (old)",
    "TRY": "Turkish Lira", "USD": "United States Dollar", "ZAR": "South African Rand",
}  # fmt: skip


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def rates_hash(rates: Mapping[str, Decimal], sources: Mapping[str, str] | None = None) -> str:
    """A content hash of one day: its rates (trailing zeros already stripped, as the loader
    gives them) and the source of each rate that is not the ECB's. A day served only by the
    ECB hashes as it did before sources existed, so such items need no rewrite."""
    body = ";".join(f"{c}={r}" for c, r in sorted(rates.items()))
    if sources:
        body += "|src:" + ";".join(f"{c}={s}" for c, s in sorted(sources.items()))
    return _digest(f"{HASH_VERSION}|{body}")


def day_item(
    day: str, rates: Rates, run_id: str, sources: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The day's item; `src` (currency → source) only when some rate is not the ECB's."""
    item: dict[str, Any] = {
        "pk": RATES_PK,
        "sk": day,
        "rates": rates,
        "h": rates_hash(rates, sources),
        "run_id": run_id,
    }
    if sources:
        item["src"] = dict(sources)
    return item


def currencies_item(spans: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """code → {first, last[, source]}: `source` only for a currency the ECB never gave."""
    ordered = {code: dict(span) for code, span in sorted(spans.items())}
    body = ";".join(
        f"{c}={s['first']}..{s['last']}" + (f"@{s['source']}" if "source" in s else "")
        for c, s in ordered.items()
    )
    return {
        "pk": META_PK,
        "sk": CURRENCIES_SK,
        "currencies": ordered,
        "h": _digest(f"{HASH_VERSION}|{body}"),
    }


def sync_item(digests: Mapping[str, str]) -> dict[str, Any]:
    ordered = dict(sorted(digests.items()))
    return {
        "pk": META_PK,
        "sk": SYNC_SK,
        "years": ordered,
        "h": _digest(";".join(f"{y}={d}" for y, d in ordered.items())),
    }
