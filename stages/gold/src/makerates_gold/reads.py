"""Reads of the hot tier: pure functions over a HotStore, each in at most two requests; the
input rules, the display rules and the errors the readers share. (The CLI's rates and ranges
are read from silver's series by `series.py`; v1 reads the RATES day items here.)

Cross rates: the ECB publishes every rate against the euro, so BASE→QUOTE on a day is
quote_eur / base_eur, computed by ONE Decimal division in a context of CROSS_PRECISION (50)
significant digits — more than DynamoDB's 38 and decimal128's 34 — rounded half-even once,
never through a float.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext

from makerates_core.errors import UserError
from makerates_core.hotstore import HotStore

from makerates_gold.display import CROSS_PRECISION
from makerates_gold.items import (
    CURRENCIES_SK,
    META_PK,
    PIVOT,
    PROVIDERS_SK,
    RATES_PK,
    SYNC_SK,
    Rates,
)

FIRST_DAY = date(1999, 1, 4)  # the ECB's first reference rates
LOOKBACK_DAYS = 14  # v1's reach back, and silver's carry_forward_days
_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class DayRates:
    day: str
    rates: Rates  # EUR excluded; its rate is 1 by definition
    version: str  # the item's content hash (`h`): the same version, the same rates and sources
    sources: dict[str, str] = field(default_factory=dict)  # only the rates not from the ECB

    def source_of(self, codes: Iterable[str]) -> dict[str, str]:
        """code → source for those of `codes` whose rate is not the ECB's."""
        return {c: self.sources[c] for c in codes if c in self.sources}


@dataclass(frozen=True)
class RateAnswer:
    base: str
    quote: str
    date: str  # the day asked for (the latest published day when none was asked)
    rate_date: str  # the newer of the days the two rates were published
    rate: Decimal
    sources: dict[str, str] = field(default_factory=dict)  # base/quote rates not from the ECB

    @property
    def days_carried(self) -> int:
        """How many days `date` is after `rate_date`: silver's calendar carried it so far."""
        return (date.fromisoformat(self.date) - date.fromisoformat(self.rate_date)).days

    def as_json(self) -> dict[str, str | int]:
        """The answer; `source` only when a rate is not the ECB's: "exchangerate_api", or
        both sources ("exchangerate_api+frankfurter") when the two rates differ in source."""
        answer: dict[str, str | int] = {
            "base": self.base,
            "quote": self.quote,
            "date": self.date,
            "rate_date": self.rate_date,
            "days_carried": self.days_carried,
            "rate": decimal_text(self.rate),
        }
        if self.sources:
            answer["source"] = "+".join(dict.fromkeys(self.sources.values()))
        return answer


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain digits, never in exponent notation (Decimal('1E+2') → '100')."""
    return format(value, "f")


# "The latest" older than this is called stale: the ECB's longest gap (Easter) is 4 days.
STALE_AFTER_DAYS = 4
# The one display rule of a rate, the CLI's and /v2's: RATE_DIGITS significant digits,
# half-even, trailing zeros dropped. More than any published rate has (the ECB's ≤ 7), so a
# published per-EUR rate shows as published; a cross rate or mean is rounded once.
RATE_DIGITS = 10
_SHOWN = Context(prec=RATE_DIGITS, rounding=ROUND_HALF_EVEN)


def money(value: Decimal, minor_units: int | None) -> str:
    """An amount as people read money: rounded half-even to the currency's minor unit (ISO
    4217's exponent: JPY 0, USD 2, KWD 3) with thousands separators; a currency without one
    (gold, XDR) is shown as a rate."""
    if minor_units is None:
        return rate_text(value)
    return format(value.quantize(Decimal(1).scaleb(-minor_units), ROUND_HALF_EVEN), ",f")


def rate_text(value: Decimal) -> str:
    """A rate for people (and /v2's JSON number): the display rule above, never in exponent
    form, never through a float."""
    text = format(_SHOWN.plus(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def today() -> date:
    return datetime.now(UTC).date()


def currency_code(text: str) -> str | None:
    """`text` as a currency code (three ASCII letters, upper-cased), None when it is not one:
    the one rule of the CLI, the v2 API and the audit."""
    normal = text.strip().upper()
    return normal if _CODE.fullmatch(normal) else None


def parse_code(code: str) -> str:
    normal = currency_code(code)
    if normal is None:
        raise UserError(f"{code!r} is not a currency code; use three letters such as USD")
    return normal


def parse_day(text: str, *, now: date | None = None) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2024-03-15") from None
    check_day(day, now=now)
    return day


def check_day(day: date, *, now: date | None = None) -> None:
    if day < FIRST_DAY:
        raise UserError(
            f"{day} is before {FIRST_DAY}, the first day the ECB published reference rates"
        )
    current = now or today()
    if day > current:
        raise UserError(f"{day} is in the future (today is {current} UTC); no rate exists yet")


def _day(item: dict) -> DayRates:
    return DayRates(
        day=item["sk"],
        rates=dict(item.get("rates", {})),
        version=item["h"],
        sources=dict(item.get("src", {})),
    )


def _meta(store: HotStore, table: str, sk: str) -> dict:
    """One of the hot tier's meta items (the currencies, the providers): one GetItem; an
    empty hot tier is a UserError saying how to fill it."""
    item = store.get_item(table, META_PK, sk)
    if item is None:
        raise empty(store, table)
    return item


def currencies(store: HotStore, table: str) -> dict[str, dict[str, str]]:
    """code → {first, last[, source]} of every currency ever served (one GetItem); EUR not
    included; `source` only for a currency the ECB never published."""
    item = _meta(store, table, CURRENCIES_SK)
    return {code: dict(span) for code, span in item["currencies"].items()}


def currency_names(store: HotStore, table: str) -> dict[str, str]:
    """code → English name (silver's ISO 4217 seed) of every served currency and the pivot
    (one GetItem)."""
    item = _meta(store, table, CURRENCIES_SK)
    names = {code: span.get("name", code) for code, span in item["currencies"].items()}
    names[PIVOT] = item.get("pivot", {}).get("name", PIVOT)
    return names


def minor_units(store: HotStore, table: str) -> dict[str, int]:
    """code → ISO 4217 minor units of every served currency that has them, the pivot's too
    (one GetItem)."""
    item = _meta(store, table, CURRENCIES_SK)
    spans = {**item["currencies"], PIVOT: item.get("pivot", {})}
    return {code: int(s["minor_units"]) for code, s in spans.items() if "minor_units" in s}


def providers(store: HotStore, table: str) -> list[dict]:
    """Every provider with its coverage and freshness, in fallback order (one GetItem)."""
    item = _meta(store, table, PROVIDERS_SK)
    return [
        {k: int(v) if isinstance(v, Decimal) else v for k, v in provider.items()}
        for provider in item["providers"]
    ]


def latest_rates(store: HotStore, table: str) -> DayRates:
    """The newest published day (one Query, descending, Limit 1)."""
    found = list(store.query(table, RATES_PK, descending=True, limit=1))
    if not found:
        raise empty(store, table)
    return _day(found[0])


def year_versions(store: HotStore, table: str, first: int, last: int) -> tuple | None:
    """The content hash of each year from `first` to `last` (None for a year without days),
    from gold's META/SYNC item (one GetItem), which a sync writes after the day items it
    vouches for; None when the hot tier has no such item."""
    item = store.get_item(table, META_PK, SYNC_SK)
    if item is None:
        return None
    years = item.get("years", {})
    return tuple(years.get(str(year)) for year in range(first, last + 1))


def rates_on(store: HotStore, table: str, day: date) -> DayRates:
    """The rates in force on a calendar day for v1: those of the latest publication on or
    before it, at most LOOKBACK_DAYS back (one Query, descending, Limit 1)."""
    check_day(day)
    found = store.query(
        table,
        RATES_PK,
        sk_min=(day - timedelta(days=LOOKBACK_DAYS)).isoformat(),
        sk_max=day.isoformat(),
        descending=True,
        limit=1,
    )
    for item in found:
        return _day(item)
    raise UserError(
        f"no ECB rates published in the {LOOKBACK_DAYS} days up to {day}; "
        "run `makerates-gold sync` if that period should be there"
    )


def cross_rate(base_eur: Decimal, quote_eur: Decimal) -> Decimal:
    """QUOTE per one BASE from two euro rates: one division at CROSS_PRECISION digits."""
    with localcontext() as ctx:
        ctx.prec = CROSS_PRECISION
        return quote_eur / base_eur


def unknown(known: dict, codes: Iterable[str]) -> str | None:
    """The first of `codes` that META/CURRENCIES' `known` does not list (EUR is always known)."""
    return next((code for code in codes if code != PIVOT and code not in known), None)


def require_known(known: dict, codes: Iterable[str]) -> None:
    """A UserError for a code that META/CURRENCIES' `known` does not list."""
    code = unknown(known, codes)
    if code:
        raise UserError(f"unknown currency '{code}'; `makerates currencies` lists the known ones")


def backfill_command(first: date, last: date) -> str:
    """The command that loads what could be in force from `first` to `last`: the publications
    of those days and of the carry window before them."""
    since = max(first - timedelta(days=LOOKBACK_DAYS), FIRST_DAY)
    return f"just backfill {since} {last}"


def empty(store: HotStore, table: str) -> UserError:
    """The error of an empty hot tier: which one, and how to fill it."""
    return UserError(
        f"no rates in table {table} of {store.describe()}; run `just pipeline` first (the "
        "last INITIAL_LOOKBACK_DAYS days; `just backfill START END` for older ones), or check "
        "HOT_STORE / DYNAMODB_ENDPOINT_URL / TABLE_PREFIX"
    )


def parse_amount(text: str) -> Decimal:
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise UserError(f"{text!r} is not an amount; use a number such as 100 or 12.50") from None
    if not amount.is_finite() or amount <= 0:
        raise UserError(f"the amount must be a positive number, not {text!r}")
    return amount


def convert(amount: Decimal, answer: RateAnswer) -> Decimal:
    """amount * rate, exact up to CROSS_PRECISION digits."""
    with localcontext() as ctx:
        ctx.prec = CROSS_PRECISION
        return amount * answer.rate
