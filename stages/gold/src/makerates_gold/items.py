"""Serving items of the `<prefix>rates` table: how they are built, normalised and hashed.

Key schema (pk, sk are strings):
- `RATES` / `YYYY-MM-DD`  one item per ECB publication day: `rates` (currency → Decimal, EUR
  left out: it is the pivot), `h` (content hash of `rates`), `run_id` (the silver run that wrote it).
- `META` / `CURRENCIES`   every currency ever published: code → {"first": day, "last": day}, `h`.
- `META` / `SYNC`         the sync watermark: one digest per year of the day hashes, `h`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from decimal import Decimal, localcontext
from typing import Any

RATES_PK = "RATES"
META_PK = "META"
CURRENCIES_SK = "CURRENCIES"
SYNC_SK = "SYNC"
PIVOT = "EUR"
HASH_VERSION = "v1"

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


def normalize_rate(value: Decimal) -> Decimal:
    """Strip the trailing zeros of a DECIMAL(38,18) without going to exponent notation.

    Decimal('1.082300000000000000') → Decimal('1.0823'); Decimal('136.000…') → Decimal('136').
    The precision is raised above 38 digits so nothing is ever rounded.
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"rates must be Decimal, got {type(value).__name__} {value!r}")
    with localcontext() as ctx:
        ctx.prec = 50
        normal = value.normalize()
        if normal.as_tuple().exponent > 0:  # 1.36E+2 → 136
            normal = normal.quantize(Decimal(1))
    return normal


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def rates_hash(rates: Mapping[str, Decimal]) -> str:
    """A content hash of one day's rates; equal for equal values, whatever their scale."""
    body = ";".join(f"{c}={normalize_rate(r)}" for c, r in sorted(rates.items()))
    return _digest(f"{HASH_VERSION}|{body}")


def day_item(day: str, rates: Mapping[str, Decimal], run_id: str) -> dict[str, Any]:
    clean = {c: normalize_rate(r) for c, r in rates.items() if c != PIVOT}
    return {"pk": RATES_PK, "sk": day, "rates": clean, "h": rates_hash(clean), "run_id": run_id}


def currencies_item(days: Mapping[str, Mapping[str, Decimal]]) -> dict[str, Any]:
    """code → {first, last} over every published day (days sorted or not)."""
    spans: dict[str, dict[str, str]] = {}
    for day in sorted(days):
        for code in days[day]:
            if code == PIVOT:
                continue
            span = spans.setdefault(code, {"first": day, "last": day})
            span["last"] = day
    ordered = dict(sorted(spans.items()))
    body = ";".join(f"{c}={s['first']}..{s['last']}" for c, s in ordered.items())
    return {
        "pk": META_PK,
        "sk": CURRENCIES_SK,
        "currencies": ordered,
        "h": _digest(f"{HASH_VERSION}|{body}"),
    }


def year_digests(day_hashes: Mapping[str, str]) -> dict[str, str]:
    """One digest per year over its (day, hash) pairs: the sync watermark compares these."""
    years: dict[str, list[str]] = {}
    for day in sorted(day_hashes):
        years.setdefault(day[:4], []).append(f"{day}:{day_hashes[day]}")
    return {year: _digest("\n".join(lines)) for year, lines in years.items()}


def sync_item(digests: Mapping[str, str]) -> dict[str, Any]:
    ordered = dict(sorted(digests.items()))
    return {
        "pk": META_PK,
        "sk": SYNC_SK,
        "years": ordered,
        "h": _digest(";".join(f"{y}={d}" for y, d in ordered.items())),
    }


def group_rows(rows: Iterable[tuple[str, str, Decimal]]) -> dict[str, Rates]:
    """(day, currency, rate) rows → {day: {currency: normalised rate}}, EUR left out."""
    days: dict[str, Rates] = {}
    for day, currency, rate in rows:
        if currency == PIVOT or rate is None:
            continue
        days.setdefault(day, {})[currency] = normalize_rate(rate)
    return days
