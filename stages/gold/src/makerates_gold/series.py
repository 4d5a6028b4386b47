"""v2 reads over the series items (DESIGN.md, "v2: series items"): pure functions over a HotStore.

A series is `blend` (our published rates) or a registry provider's key; every rate in it is
per EUR. Silver did the carrying: a `DAY#` line says how many days its rate was carried, so a
currency's observation date is the day minus CARRIED and no carry is computed here. With
several series asked for, each currency comes from the first listed series that has it in
force. BASE→QUOTE is quote / base, ONE Decimal division at reads.CROSS_PRECISION digits (an
EUR base is the stored string itself); a row's `date` is the newer of the two observation
dates, and BASE→BASE is the identity row, rate 1.

- `on_day`, `latest`: one day's snapshot, every pair in force (1 BatchGetItem; latest: 1
  Query + 1 BatchGetItem).
- `daily`: a range. The first day gives every pair in force (dated where they were observed,
  possibly before the range: Frankfurter's snap-back); after it a pair appears again only on a
  day its date changes, i.e. its quote or base was published (CARRIED 0), so rows are unique
  on (quote, date) as Frankfurter's.
- `grouped`: weekly (Monday) or monthly means, every period that overlaps the range, dated by
  its first day; a cross rate is the quote's mean over the base's mean.
- `calendar_rows`: every calendar day of a range with the rows in force that day, as silver's
  calendar holds them (the chart); a day absent is a day with no rate in force.
- `point`: one pair on a day or the latest, with the provenance the CLI prints (≤ 2 requests).
Ranges are generators reading month by month (Queries of CHUNK_MONTHS months per series), so
memory holds a few months whatever the range; `check` (if given) runs between months, and
`seen` (a `Coverage`) is told every day on which all the asked currencies are in force.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache
from typing import NamedTuple

from makerates_core.errors import UserError
from makerates_core.hotstore import HotStore
from makerates_core.providers import keys as registry_keys

from makerates_gold.items import CURRENCIES_SK, ECB, META_PK, PIVOT, PROVIDERS_SK, RATES_PK
from makerates_gold.reads import (
    CROSS_PRECISION,
    FIRST_DAY,
    LOOKBACK_DAYS,
    RateAnswer,
    backfill_command,
    check_day,
    currency_code,
    empty,
    parse_code,
    require_known,
    today,
    unknown,
)

BLEND = "blend"  # the default series: the rates we publish (silver's fct_rates_calendar)
DAY, GROUPS = "DAY#", {"week": "WEEK#", "month": "MONTH#"}
KNOWN_HINT = "; `makerates currencies` (or /v2/currencies?scope=all) lists the known ones"
CHUNK_MONTHS = 12  # months per Query: DynamoDB pages at 1 MB anyway; bounds SQLite's fetch
ONE = Decimal(1)

Held = tuple[str, int]  # (rate per EUR as stored, ordinal of its observation date)
Snapshot = dict[str, Held]  # currency → what is in force; EUR left out (it is 1)
Check = Callable[[], None]
Seen = Callable[[int], None]  # told a day ordinal


class Invalid(UserError):
    """A malformed request (a 422 in the API)."""


class Missing(UserError):
    """Nothing to answer; `what` names the currency, provider or date (a 404 in the API)."""

    def __init__(self, what: str, hint: str = ""):
        super().__init__(f"not found: {what}{hint}")
        self.what = what


class ProviderRate(NamedTuple):
    key: str  # the registry key, upper case (Frankfurter's keys)
    date: str
    rate: Decimal


class Row(NamedTuple):
    date: str
    base: str
    quote: str
    rate: Decimal  # exact
    providers: tuple[ProviderRate, ...] | None = None  # only when asked (expand=providers)


@dataclass(frozen=True)
class Ask:
    """What to read: BASE, the QUOTES (None: all), the series in order of precedence, and the
    series to list per row (`detail`, expand=providers)."""

    base: str = PIVOT
    quotes: tuple[str, ...] | None = None
    series: tuple[str, ...] = (BLEND,)
    detail: tuple[str, ...] = field(default=())

    @property
    def keys(self) -> tuple[str, ...]:
        """Every series read: the asked ones, then the listed ones."""
        return tuple(dict.fromkeys((*self.series, *self.detail)))

    @property
    def codes(self) -> frozenset[str] | None:
        """The currencies to parse (None: all of them)."""
        return None if self.quotes is None else frozenset((self.base, *self.quotes))


def parse_series(text: str) -> str:
    """A registry key, case-insensitive; an unknown one is Missing."""
    key = text.strip().lower()
    if key not in registry_keys():
        raise Missing(f"provider {text.strip()!r}", f"; known: {', '.join(registry_keys())}")
    return key


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


@lru_cache(maxsize=4096)
def iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def parse_rows(
    sk: str,
    rows: str,
    *,
    carried: bool,
    codes: frozenset[str] | None = None,
    day: int | None = None,
) -> dict[int, Snapshot]:
    """A month item's `rows`: day ordinal → currency → (rate, observation ordinal), only the
    `codes` if given, only the day ordinal `day` if given (its block of lines: nothing else is
    split). A DAY# line's last field is CARRIED (observed that many days before); a WEEK#/MONTH#
    line's is its count of observations, and the period's first day is its date."""
    first = _before(sk)
    if day is not None:
        rows = _block(rows, f"{day - first:02d} ")
    days: dict[int, Snapshot] = {}
    for line in rows.split("\n"):
        if not line or (codes is not None and line[3:6] not in codes):
            continue
        dd, code, rate, n = line.split(" ")
        day = first + int(dd)
        days.setdefault(day, {})[code] = (rate, day - int(n) if carried else day)
    return days


def _before(sk: str) -> int:
    """The ordinal of the day before month `sk`: a line's DD added to it is the line's day."""
    return date.fromisoformat(f"{sk}-01").toordinal() - 1


def _block(rows: str, head: str) -> str:
    """The lines starting with `head` ("05 "): one contiguous block, since a month's lines
    are sorted (day first); empty when there are none."""
    if rows.startswith(head):
        start = 0
    else:
        start = rows.find("\n" + head) + 1
        if start == 0:
            return ""
    last = rows.rfind("\n" + head) + 1  # the block's last line (0: it is the first line)
    end = rows.find("\n", max(start, last))
    return rows[start:] if end < 0 else rows[start:end]


def merged(snapshots: Iterable[Snapshot]) -> Snapshot:
    """One snapshot of several series, listed in precedence order: the first to hold a
    currency wins it."""
    out: Snapshot = {}
    for snapshot in reversed(list(snapshots)):
        out.update(snapshot)
    return out


_EURO: Held = ("1", 0)
_CROSS = Context(prec=CROSS_PRECISION, rounding=ROUND_HALF_EVEN)  # reads.cross_rate's


def _held(snapshot: Snapshot, code: str) -> Held | None:
    return _EURO if code == PIVOT else snapshot.get(code)


def _rate(base: Held, quote: Held, base_code: str) -> Decimal:
    """quote / base: the stored string itself for an EUR base, else ONE division."""
    if base_code == PIVOT:
        return Decimal(quote[0])
    return _CROSS.divide(Decimal(quote[0]), Decimal(base[0]))


def _detail(details: dict[str, Snapshot], base: str, quote: str) -> tuple[ProviderRate, ...]:
    """Each listed series' own rate of the pair, where it has both currencies in force."""
    listed = []
    for key, snapshot in details.items():
        b, q = _held(snapshot, base), _held(snapshot, quote)
        if b is not None and q is not None:
            listed.append(ProviderRate(key.upper(), iso(max(b[1], q[1])), _rate(b, q, base)))
    return tuple(listed)


class Emitter:
    """The rows of successive snapshots. With `dedupe`, a pair is emitted only when its date
    differs from the one it was last emitted with (state: one date per quote)."""

    def __init__(self, ask: Ask, *, dedupe: bool):
        self.ask = ask
        self.last: dict[str, int] | None = {} if dedupe else None

    def rows(self, snapshot: Snapshot, details: dict[str, Snapshot] | None = None) -> list[Row]:
        """BASE→each quote in force and the identity row, dated by the newest of the others
        (or BASE's own); by quote, or in a range (`dedupe`) by date, then quote."""
        code = self.ask.base
        base = _held(snapshot, code)
        if base is None or not snapshot:
            return []
        quotes = self.ask.quotes
        wanted = quotes if quotes is not None else sorted([*snapshot, PIVOT])
        found: list[tuple[int, str, Held]] = []
        newest = 0
        for quote in wanted:
            held = _held(snapshot, quote)
            if held is None or quote == code:
                continue
            since = held[1] if held[1] > base[1] else base[1]
            newest = since if since > newest else newest
            if self._new(quote, since):
                found.append((since, quote, held))
        if code in wanted:
            since = newest or base[1] or max(h[1] for h in snapshot.values())
            if self._new(code, since):
                found.append((since, code, base))
        found.sort(key=(lambda f: f[:2]) if self.last is not None else (lambda f: f[1]))
        return [self._row(since, quote, base, held, details) for since, quote, held in found]

    def _new(self, quote: str, since: int) -> bool:
        last = self.last
        if last is None:
            return True
        if last.get(quote) == since:
            return False
        last[quote] = since
        return True

    def _row(self, since: int, quote: str, base: Held, held: Held, details: dict | None) -> Row:
        code = self.ask.base
        if quote == code:
            return Row(iso(since), code, quote, ONE)
        listed = _detail(details, code, quote) if details is not None else None
        return Row(iso(since), code, quote, _rate(base, held, code), listed)


def _by_series(
    items: Iterable[dict], prefix: str, ask: Ask, day: int | None = None
) -> dict[str, dict]:
    """series → its parsed month (DAY# lines carry CARRIED), only `day` if given."""
    return {
        i["pk"].removeprefix(prefix): parse_rows(
            i["sk"], i["rows"], carried=prefix == DAY, codes=ask.codes, day=day
        )
        for i in items
    }


def _at(ask: Ask, parsed: dict[str, dict[int, Snapshot]], day: int):
    """The merged snapshot of `day` and, for expand=providers, each listed series' own."""
    at = {key: parsed.get(key, {}).get(day, {}) for key in ask.keys}
    details = {key: at[key] for key in ask.detail} if ask.detail else None
    return merged(at[key] for key in ask.series), details


def _snapshot(ask: Ask, parsed: dict[str, dict[int, Snapshot]], day: int) -> list[Row]:
    """The rows of one day of the parsed series (Missing when nothing is in force)."""
    rows = Emitter(ask, dedupe=False).rows(*_at(ask, parsed, day))
    if not rows:
        raise missing(ask, f"on {iso(day)}")
    return rows


def missing(ask: Ask, when: str) -> Missing:
    wanted = ",".join(ask.quotes) if ask.quotes else "any currency"
    of = "+".join(ask.series)
    return Missing(f"no {ask.base} rate to {wanted} {when} in series {of}")


def _named(ask: Ask) -> list[str]:
    """The currencies a request names (EUR aside): checked against META/CURRENCIES."""
    return [c for c in dict.fromkeys((ask.base, *(ask.quotes or ()))) if c != PIVOT]


def _month(store: HotStore, table: str, ask: Ask, month: str, held: list[dict]) -> list[dict]:
    """`held` and the other series' DAY# items of `month` in ONE BatchGetItem, with
    META/CURRENCIES when the request names currencies (Missing for one never served)."""
    have = {item["pk"] for item in held}
    keys = [(DAY + key, month) for key in ask.keys if DAY + key not in have]
    named = _named(ask)
    if named:
        keys.append((META_PK, CURRENCIES_SK))
    items = store.batch_get(table, keys) if keys else []
    meta = [i for i in items if i["pk"] == META_PK]
    if named:
        _check_known(meta[0] if meta else {}, named)
    return held + [i for i in items if i["pk"] != META_PK]


def on_day(store: HotStore, table: str, ask: Ask, day: date) -> list[Row]:
    """Every pair in force on a calendar day: 1 BatchGetItem of that month's DAY# items."""
    items = _month(store, table, ask, month_of(day), [])
    asked = day.toordinal()
    return _snapshot(ask, _by_series(items, DAY, ask, asked), asked)


def latest(store: HotStore, table: str, ask: Ask) -> list[Row]:
    """The newest day ≤ today of the first series: 1 Query (descending, Limit 1), then 1
    BatchGetItem of that month for the other series."""
    first = ask.series[0]
    newest = _newest(store, table, first)
    if newest is None:
        raise _no_series(first)
    found, day = newest
    items = _month(store, table, ask, found["sk"], [found])
    return _snapshot(ask, _by_series(items, DAY, ask, day), day)


def _months(first: date, last: date) -> list[str]:
    months, cursor = [], first.replace(day=1)
    while cursor <= last:
        months.append(month_of(cursor))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return months


def _chunks(months: list[str]) -> list[tuple[str, str]]:
    return [
        (months[i], months[min(i + CHUNK_MONTHS, len(months)) - 1])
        for i in range(0, len(months), CHUNK_MONTHS)
    ]


def month_items(
    store: HotStore,
    table: str,
    pks: Iterable[str],
    first: date,
    last: date,
    attributes: list[str] | None = None,
) -> Iterator[tuple[str, dict[str, dict]]]:
    """(month, {pk: item}) for every month of [first, last] that some series holds, in order:
    one Query per series per CHUNK_MONTHS months, read in step."""
    for low, high in _chunks(_months(first, last)):
        readers = {
            pk: iter(store.query(table, pk, sk_min=low, sk_max=high, attributes=attributes))
            for pk in pks
        }
        heads = {pk: next(reader, None) for pk, reader in readers.items()}
        while any(heads.values()):
            month = min(item["sk"] for item in heads.values() if item)
            found = {pk: item for pk, item in heads.items() if item and item["sk"] == month}
            for pk in found:
                heads[pk] = next(readers[pk], None)
            yield month, found


def fingerprint(
    store: HotStore, table: str, ask: Ask, span: tuple[date, date], group: str | None = None
) -> list[tuple[str, str, str]]:
    """(pk, month, h) of every item a range reads: the same Queries projecting `h` (an ETag
    before any row is read)."""
    prefix = GROUPS[group] if group else DAY
    first = _period_start(span[0], group) if group else span[0]
    pks = [prefix + key for key in ask.keys]
    return [
        (pk, month, str(item.get("h", "")))
        for month, found in month_items(store, table, pks, first, span[1], attributes=["h"])
        for pk, item in sorted(found.items())
    ]


def _period_start(day: date, group: str) -> date:
    return day - timedelta(days=day.weekday()) if group == "week" else day.replace(day=1)


def period_days(start: date, group: str) -> range:
    """The days (ordinals) of the period `_period_start` dates `start`: its week or month."""
    after = (
        start + timedelta(days=7)
        if group == "week"
        else (start + timedelta(days=32)).replace(day=1)
    )
    return range(start.toordinal(), after.toordinal())


def _days(
    store: HotStore,
    table: str,
    ask: Ask,
    prefix: str,
    span: tuple[date, date],
    check: Check | None,
) -> Iterator[tuple[int, Snapshot, dict[str, Snapshot] | None]]:
    """(day, merged snapshot, listed series' own) of every day (or period start) in `span`
    that some series holds, month by month; `check` runs before each month."""
    lo, hi = (d.toordinal() for d in span)
    pks = [prefix + key for key in ask.keys]
    for _, found in month_items(store, table, pks, *span, attributes=["rows"]):
        if check:
            check()
        parsed = _by_series(found.values(), prefix, ask)
        for day in sorted({d for days in parsed.values() for d in days if lo <= d <= hi}):
            yield day, *_at(ask, parsed, day)


def _stream(
    store: HotStore,
    table: str,
    ask: Ask,
    prefix: str,
    span: tuple[date, date],
    emitter: Emitter,
    check: Check | None,
    seen: Seen | None = None,
) -> Iterator[Row]:
    """The rows of every day (or period start) in `span`; `seen` is told each day on which
    the base and every asked quote are in force."""
    wanted = (ask.base, *(ask.quotes or ()))
    for day, snapshot, details in _days(store, table, ask, prefix, span, check):
        if seen is not None and all(_held(snapshot, c) is not None for c in wanted):
            seen(day)
        yield from emitter.rows(snapshot, details)


def daily(
    store: HotStore,
    table: str,
    ask: Ask,
    span: tuple[date, date],
    check: Check | None = None,
    seen: Seen | None = None,
) -> Iterator[Row]:
    """BASE→QUOTES over the days of `span`: snap-back, then each pair when its date changes
    (the module's docstring)."""
    return _stream(store, table, ask, DAY, span, Emitter(ask, dedupe=True), check, seen)


def calendar_rows(
    store: HotStore, table: str, ask: Ask, span: tuple[date, date]
) -> Iterator[tuple[date, list[Row]]]:
    """Every calendar day of `span` that the series hold, with the rows in force on it, each
    dated where it was observed (so a row dated before its day is carried)."""
    emitter = Emitter(ask, dedupe=False)
    for day, snapshot, details in _days(store, table, ask, DAY, span, None):
        yield date.fromordinal(day), emitter.rows(snapshot, details)


class Coverage:
    """Which days of [first, last] had the asked rates in force, told in ascending order
    (`add`, a `Seen`); `missing()` is the rest, as spans: never loaded, or never published."""

    def __init__(self, first: date, last: date):
        self.next, self.last = first.toordinal(), last.toordinal()
        self.gaps: list[tuple[int, int]] = []

    def add(self, day: int) -> None:
        if day > self.next:
            self.gaps.append((self.next, day - 1))
        self.next = max(self.next, day + 1)

    def missing(self) -> list[tuple[date, date]]:
        tail = [(self.next, self.last)] if self.next <= self.last else []
        return [(date.fromordinal(a), date.fromordinal(b)) for a, b in self.gaps + tail]


def grouped(
    store: HotStore,
    table: str,
    ask: Ask,
    span: tuple[date, date],
    group: str,
    check: Check | None = None,
) -> Iterator[Row]:
    """BASE→QUOTES per week or month: every period overlapping `span`, the mean of its
    publications per EUR (silver's), dated by the period's first day."""
    first = _period_start(span[0], group)
    emitter = Emitter(ask, dedupe=False)
    return _stream(store, table, ask, GROUPS[group], (first, span[1]), emitter, check)


def catalogue(store: HotStore, table: str) -> tuple[dict, list[dict]]:
    """META/CURRENCIES and META/PROVIDERS' list: 1 BatchGetItem; an empty hot tier is Missing."""
    found = {
        i["sk"]: i
        for i in store.batch_get(table, [(META_PK, CURRENCIES_SK), (META_PK, PROVIDERS_SK)])
    }
    if CURRENCIES_SK not in found:
        raise Missing("currencies", "; the hot tier is empty: run `just pipeline`")
    return found[CURRENCIES_SK], list(found.get(PROVIDERS_SK, {}).get("providers", []))


def _check_known(currencies: dict, codes: Iterable[str]) -> None:
    code = unknown(currencies.get("currencies", {}), codes)
    if code:
        raise Missing(f"currency {code!r}", KNOWN_HINT)


def check_known(store: HotStore, table: str, ask: Ask) -> None:
    """Missing for a named currency the hot tier never served (1 GetItem, none if no code
    is named)."""
    named = _named(ask)
    if named:
        _check_known(store.get_item(table, META_PK, CURRENCIES_SK) or {}, named)


def parse_day(text: str) -> date:
    """YYYY-MM-DD from FIRST_DAY on (Invalid when malformed, Missing before FIRST_DAY); a day
    after today is today."""
    try:
        day = date.fromisoformat(text) if len(text) == 10 and text[4] == "-" else None
    except ValueError:
        day = None
    if day is None:
        raise Invalid(f"{text[:40]!r} is not a date; use YYYY-MM-DD, e.g. 2024-03-15")
    if day < FIRST_DAY:
        raise Missing(f"rates on {day}", f": the first day is {FIRST_DAY}")
    return min(day, today())


def parse_currency(text: str) -> str:
    """A three-letter code, upper-cased (Invalid otherwise)."""
    code = currency_code(text)
    if code is None:
        raise Invalid(f"{text[:40]!r} is not a currency code; use three letters such as USD")
    return code


def _newest(store: HotStore, table: str, key: str) -> tuple[dict, int] | None:
    """The newest month item of series `key` and its newest day ≤ today (1 Query)."""
    now = today()
    for item in store.query(table, DAY + key, sk_max=month_of(now), descending=True, limit=1):
        first = _before(item["sk"])
        days = {first + int(line[:2]) for line in item["rows"].split("\n") if line}
        days = {d for d in days if d <= now.toordinal()}
        if days:
            return item, max(days)
    return None


def _day_of(item: dict | None, day: int, codes: frozenset[str]) -> Snapshot:
    """`day`'s snapshot of the `codes` in a DAY# month item (none: nothing in force)."""
    if item is None:
        return {}
    return parse_rows(item["sk"], item["rows"], carried=True, codes=codes, day=day).get(day, {})


def _no_series(key: str) -> Missing:
    return Missing(f"rates of series {key}", "; run `just pipeline` to load some")


def _in_force(
    store: HotStore, table: str, key: str, day: date | None
) -> tuple[dict | None, int, dict | None]:
    """The DAY# month item holding `day` (None: the series' newest day), that day's ordinal,
    and for a day META/CURRENCIES, read with it: 1 request either way."""
    if day is None:
        newest = _newest(store, table, key)
        if newest is None:
            raise empty(store, table) if key == BLEND else _no_series(key)
        item, asked = newest
        return item, asked, None
    check_day(day)
    items = store.batch_get(table, [(DAY + key, month_of(day)), (META_PK, CURRENCIES_SK)])
    item = next((i for i in items if i["pk"] != META_PK), None)
    meta = next((i for i in items if i["pk"] == META_PK), None)
    return item, day.toordinal(), meta


def _second_batch(
    store: HotStore,
    table: str,
    key: str,
    observed: dict[str, int],
    complete: bool,
    meta: dict | None,
) -> tuple[dict, list[dict]]:
    """META/CURRENCIES when the first request lacked it, and for a complete blend answer the
    RATES items of the days its rates were observed (their `src`): at most 1 BatchGetItem."""
    keys = []
    if key == BLEND and complete:
        keys = [(RATES_PK, iso(d)) for d in sorted(set(observed.values()))]
    if meta is None:
        keys.append((META_PK, CURRENCIES_SK))
    fetched = store.batch_get(table, keys) if keys else []
    if meta is None:
        meta = next((i for i in fetched if i["pk"] == META_PK), None)
    if meta is None:
        raise empty(store, table)
    return meta, fetched


def point(
    store: HotStore, table: str, base: str, quote: str, day: date | None, key: str = BLEND
) -> RateAnswer:
    """BASE→QUOTE in force on `day` in series `key` (None: on the series' newest day, dated
    where it was observed), and what stands behind it. A day: 1 BatchGetItem of its month's
    DAY# item and META/CURRENCIES; latest: 1 Query of the newest DAY# item, then META/CURRENCIES
    in the next batch. For the blend that batch also holds the RATES items of the days the two
    rates were published: their `src` names the providers. So 1 or 2 requests."""
    base, quote = parse_code(base), parse_code(quote)
    item, asked, meta = _in_force(store, table, key, day)
    held = _day_of(item, asked, frozenset((base, quote)))
    found = _held(held, base), _held(held, quote)
    observed = {c: h[1] for c, h in zip((base, quote), found, strict=True) if h and c != PIVOT}
    meta, fetched = _second_batch(store, table, key, observed, None not in found, meta)
    require_known(meta["currencies"], (base, quote))
    if None in found:
        raise _no_rate(meta, key, base, quote, date.fromordinal(asked))
    if key == BLEND:
        sources = blend_sources(observed, fetched, meta)
    else:
        sources = {code: key for code in observed if key != ECB}
    newest_seen = max(observed.values(), default=asked)
    return RateAnswer(
        base,
        quote,
        date=iso(newest_seen if day is None else asked),
        rate_date=iso(newest_seen),
        rate=_rate(found[0], found[1], base),  # type: ignore[arg-type]
        sources=sources,
    )


def blend_sources(observed: dict[str, int], items: Iterable[dict], meta: dict) -> dict[str, str]:
    """code → the provider of each blend rate that is not the ECB's: the `src` of the RATES
    item of the day it was observed, else (a day without one, e.g. a weekend snapshot) the
    currency's `source` in META/CURRENCIES, else the blend."""
    src = {i["sk"]: i.get("src", {}) for i in items if i["pk"] == RATES_PK}
    spans = meta.get("currencies", {})
    named = {}
    for code, seen in observed.items():
        day = iso(seen)
        source = src[day].get(code) if day in src else spans.get(code, {}).get("source", BLEND)
        if source:
            named[code] = source
    return named


def _no_rate(meta: dict, key: str, base: str, quote: str, asked: date) -> UserError:
    """No rate in force: what the hot tier holds and the command that would load it."""
    load = f"load it with `{backfill_command(asked, asked)}`, or ask for another day"
    if key != BLEND:
        return UserError(
            f"series {key} has no {base}/{quote} rate in force on {asked}; if {key} "
            f"published one, {load}"
        )
    known = meta["currencies"]
    spans = ", ".join(
        f"{c} {known[c]['first']}..{known[c]['last']}" for c in (base, quote) if c != PIVOT
    )
    return UserError(
        f"the hot tier has no {base}/{quote} rate in the {LOOKBACK_DAYS} days up to {asked} "
        f"(it holds {spans}); if the sources published one, {load}"
    )
