"""Every official provider through the whole pipeline, from its real recorded documents.

The expected values are computed here, independently of silver, from each provider's published
strings (its own parser over the mirror's answers): the rate per EUR through the provider's
pivot as an exact fraction, truncated to 18 places as silver keeps it. Every served rate that
is not the ECB's must be the lower median of the official providers that published the
currency that day, digit for digit.
"""

from __future__ import annotations

import importlib
import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from urllib.parse import parse_qs, urlsplit

from makerates_core import providers
from makerates_core.hotstore import open_store, table_name
from makerates_core.settings import Settings
from makerates_gold import reads

FIRST, LAST = "2026-03-01", "2026-08-31"  # every recorded window (BNR: July to August)
OFFICIAL = [p for p in providers.registry() if p.fallback_order == 3]
OUTLIER = Decimal("0.02")  # silver's var('outlier_threshold')


def published(key: str) -> dict[tuple[str, str], Decimal]:
    """(day, currency) → rate per 1 EUR, from provider `key`'s documents as the mirror serves
    them, through the provider's own parser and pivot; exact (fractions), then truncated to
    18 places."""
    helpers = importlib.import_module(f"makerates_bronze.providers.{key}.helpers")
    mirror = importlib.import_module(f"provider_mirror.{key}")
    pivot_per_unit: dict[str, dict[str, Fraction]] = defaultdict(dict)
    for path in helpers.requests(date.fromisoformat(FIRST), date.fromisoformat(LAST)):
        parts = urlsplit(path)
        found = mirror.serve(parts.path, parse_qs(parts.query, keep_blank_values=True))
        for obs in helpers.parse(found[1], path) if found else []:
            if FIRST <= obs.rate_date <= LAST:
                rate, units = Fraction(obs.rate), Fraction(obs.units)
                value = units / rate if obs.inverse else rate / units
                pivot_per_unit[obs.rate_date][obs.currency] = value
    out = {}
    for day, quotes in pivot_per_unit.items():
        euro = quotes.get("EUR")
        if euro is None:
            continue
        out[(day, providers.get(key).pivot_currency)] = truncated(euro)
        for currency, value in quotes.items():
            if currency != "EUR":
                out[(day, currency)] = truncated(euro / value)
    return out


def truncated(value: Fraction) -> Decimal:
    """18 places, toward zero, as silver's divide_exact."""
    return Decimal(math.floor(value * 10**18)).scaleb(-18)


def lower_median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def served_days(deployment) -> dict[str, reads.DayRates]:
    settings = Settings.from_env(deployment.env)
    store, table = open_store(settings), table_name(settings, "rates")
    first, last = date.fromisoformat(FIRST), date.fromisoformat(LAST)
    days = {}
    while first <= last:
        if first.weekday() < 5:
            found = reads.rates_on(store, table, first)
            days[found.day] = found
        first += timedelta(days=1)
    return days


def test_every_provider_is_served_exactly_and_a_backfill_loses_no_currency(deployment):
    before = deployment.pipeline()
    assert before["bronze"].outputs["missing_sources"] == []
    names_before = set(json_names(deployment))

    results = deployment.pipeline("backfill", FIRST, LAST)
    assert results["bronze"].outputs["missing_sources"] == []
    assert results["silver"].outputs["rows_quarantined"] == 0
    names = json_names(deployment)
    assert names_before <= set(names)  # a backfill never removes a currency
    assert len(names) >= 150 and all(name and name != code for code, name in names.items())

    expected = {p.key: published(p.key) for p in OFFICIAL}
    assert all(expected.values()), [k for k, v in expected.items() if not v]
    by_day: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    for key, rates in expected.items():
        for day_currency, rate in rates.items():
            by_day[day_currency][key] = rate

    seen: set[str] = set()
    checked = 0
    for day, found in served_days(deployment).items():
        for currency, source in found.sources.items():
            if source in ("exchangerate_api", "frankfurter"):
                continue
            quotes = by_day[(day, currency)]
            agreeing = source.split("+")
            median = lower_median(list(quotes.values()))
            assert found.rates[currency] == median, (day, currency, source, quotes)
            assert set(agreeing) <= set(quotes)
            assert all(abs(quotes[k] / median - 1) <= OUTLIER for k in agreeing)
            seen.update(agreeing)
            checked += 1
    assert checked > 500
    assert seen == {p.key for p in OFFICIAL}  # every provider reached the served answers


def test_a_bad_value_is_quarantined_the_rest_published_and_the_next_publication_heals(
    deployment, ecb_mirror
):
    cnb_xdr = b'"currencyCode":"XDR","amount":1,"validFor":"2026-03-04","rate":'
    ecb_mirror.rewrite("cnb", cnb_xdr + b"28.514", cnb_xdr + b"0")  # the SDR: not an ECB rate
    ecb_mirror.rewrite("boi", b"JPY", b"jpy")  # a lowercase code on every BoI JPY row

    bad = deployment.pipeline("backfill", "2026-03-01", "2026-03-10")
    silver = bad["silver"]
    assert silver.outputs["rows_quarantined"] >= 2
    (warning,) = [
        line for line in silver.stderr.splitlines() if "WARNING silver quarantined" in line
    ]
    assert "cnb: 1 rows 2026-03-04..2026-03-04 (rate is not a positive number" in warning
    assert "boi:" in warning and "currency is not an ISO 4217 code" in warning
    assert "just backfill START END" in warning
    eur_usd = deployment.rate("EUR", "USD", "2026-03-04")
    assert "source" not in eur_usd  # the ECB's days flow through gold meanwhile
    xdr_sources = reads_sources(deployment, "2026-03-04", "XDR").split("+")
    assert "cnb" not in xdr_sources and "nbp" in xdr_sources  # served from the others

    ecb_mirror.reset()
    healed = deployment.pipeline("backfill", "2026-03-01", "2026-03-10")
    assert healed["silver"].outputs["rows_quarantined"] == 0
    assert "cnb" in reads_sources(deployment, "2026-03-04", "XDR").split("+")
    assert healed["silver"].outputs["rows_published"] >= silver.outputs["rows_published"]


def json_names(deployment) -> dict[str, str]:
    settings = Settings.from_env(deployment.env)
    return reads.currency_names(open_store(settings), table_name(settings, "rates"))


def reads_sources(deployment, day: str, currency: str) -> str:
    """Which providers are behind a served rate ("ecb" for the ECB's own)."""
    settings = Settings.from_env(deployment.env)
    found = reads.rates_on(
        open_store(settings), table_name(settings, "rates"), date.fromisoformat(day)
    )
    return found.sources.get(currency, "ecb")
