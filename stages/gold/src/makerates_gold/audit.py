"""Audit a statement of conversions against the reference rates: what each one really cost.

Pure logic over a HotStore (the CLI is `audit_cli`, the HTTP route `audit_api`, the page
`audit_report`); DESIGN.md, "Audit", has the rules. In short:

- Columns: date (or timestamp), amount sent, currency sent (`from`), currency received (`to`),
  and the amount received or the rate applied; found by their header names (HEADERS) unless
  named explicitly. With both received and rate, the amount received is what is audited.
- The reference day: a timestamp is taken in its own zone (naive ones in `Options.zone`), then
  in the reference's publication zone; from its publication time (the ECB's 16:00
  Europe/Berlin) that day's rates apply, before it the day before's. A date without a time
  means that day's rates. The rate in force on the reference day is silver's calendar (the
  DAY# items carry weekends and holidays): no carry is computed here.
- Reference = quote_per_EUR / base_per_EUR, ONE division at reads.CROSS_PRECISION digits;
  markup = 1 - effective / reference, where effective / reference is ONE division
  (received / (amount * reference), or rate / reference); cost = amount * markup in the sent
  currency, and cost * report_per_EUR / sent_per_EUR (one division) in the report currency.
  Products and sums are exact (EXACT traps any rounding); only the divisions round, at 50
  significant digits, half-even.
- Reads: the rows grouped by month of their reference day; each month's DAY# item of the
  reference series read once, in BatchGetItems of at most BATCH_KEYS keys (META/CURRENCIES
  in the first); for the blend, the provider of each rate comes from the RATES items of the
  days it was observed (a second set of BatchGetItems).
"""

from __future__ import annotations

import csv
import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from makerates_core.errors import UserError
from makerates_core.hotstore import HotStore
from makerates_core.providers import get as registry_get
from makerates_core.providers import keys as registry_keys

from makerates_gold.items import CURRENCIES_SK, ECB, META_PK, PIVOT, PROVIDERS_SK, RATES_PK
from makerates_gold.reads import CROSS_PRECISION, FIRST_DAY, currency_code, today
from makerates_gold.series import BLEND, DAY, iso, month_of, parse_rows

MAX_BYTES = 64 * 1024 * 1024  # a statement's size: ~1M rows of a bank's export
MAX_ROWS = 250_000  # conversions in one audit (100,000 take a few seconds)
MAX_DIGITS = 80  # significant digits of an amount, amount received or rate
MIN_AMOUNT, MAX_AMOUNT = Decimal("1e-12"), Decimal(10) ** 15  # any number in a statement
BATCH_KEYS = 100  # DynamoDB's BatchGetItem limit
WORST_ROWS = 10  # rows listed in the summary's `worst`
ALIASES = {"consensus": BLEND}  # the official providers' consensus is what the blend publishes
# A row's products: exact (a rounding raises, and the row is refused: never with MAX_DIGITS
# inputs of sane sizes); totals are carried to 200 significant digits.
EXACT = Context(prec=200, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
SUMS = Context(prec=200)
DIVIDE = Context(prec=CROSS_PRECISION)  # half-even, as reads.cross_rate
ONE, BPS = Decimal(1), Decimal(10_000)

ROLES = ("date", "amount", "from", "to", "received", "rate")
HEADERS = {  # header names recognised per role (normalised: lower case, `_` between words)
    "date": ("date", "timestamp", "datetime", "date_time", "time", "created_at", "created",
             "completed_at", "executed_at", "transaction_date", "value_date", "booking_date",
             "trade_date", "conversion_date"),
    "amount": ("amount", "amount_sent", "sent", "sent_amount", "send_amount", "source_amount",
               "sell_amount", "from_amount", "amount_from", "debit", "amount_in"),
    "from": ("from", "from_currency", "currency_from", "source_currency", "sent_currency",
             "send_currency", "sell_currency", "base", "base_currency", "currency"),
    "to": ("to", "to_currency", "currency_to", "target_currency", "received_currency",
           "receive_currency", "buy_currency", "quote", "quote_currency"),
    "received": ("received", "amount_received", "received_amount", "receive_amount",
                 "target_amount", "buy_amount", "to_amount", "amount_to", "credit",
                 "amount_out"),
    "rate": ("rate", "exchange_rate", "fx_rate", "rate_applied", "applied_rate",
             "conversion_rate", "effective_rate"),
}  # fmt: skip


class AuditError(UserError):
    """The statement as a whole cannot be audited (exit 2, HTTP 422)."""


class TooLarge(AuditError):
    """Over MAX_BYTES or MAX_ROWS (HTTP 413)."""


class Empty(UserError):
    """The hot tier holds no rates (HTTP 503)."""


# --- the statement: columns and rows ------------------------------------------------------


def normal(name: str) -> str:
    """A header name as HEADERS spells it: `Amount Sent` → `amount_sent`."""
    words = "".join(c if c.isalnum() else " " for c in name.strip().lower()).split()
    return "_".join(words)


@dataclass(frozen=True)
class Columns:
    """The index of each role's column in the header; `received` or `rate` is None."""

    date: int
    amount: int
    base: int
    quote: int
    received: int | None
    rate: int | None

    def named(self, header: list[str]) -> dict[str, str]:
        found = zip(
            ROLES,
            (self.date, self.amount, self.base, self.quote, self.received, self.rate),
            strict=True,
        )
        return {role: header[i] for role, i in found if i is not None}


def _explicit(header: list[str], role: str, name: str) -> int:
    exact = [i for i, h in enumerate(header) if h.strip() == name.strip()]
    loose = [i for i, h in enumerate(header) if normal(h) == normal(name)]
    if exact or loose:
        return (exact or loose)[0]
    raise AuditError(
        f"--{role}-column {name!r}: no such column (the header has {_listing(header)})"
    )


def _detected(header: list[str], role: str) -> int | None:
    names = [normal(h) for h in header]
    for wanted in HEADERS[role]:
        if wanted in names:
            return names.index(wanted)
    return None


def _column(header: list[str], role: str, name: str | None) -> int | None:
    return _explicit(header, role, name) if name else _detected(header, role)


def _listing(header: list[str]) -> str:
    return ", ".join(repr(h) for h in header[:12]) + (" …" if len(header) > 12 else "")


def detect_columns(header: list[str], explicit: dict[str, str] | None = None) -> Columns:
    """Each role's column: named by `explicit` (role → header name), else detected by HEADERS.
    The amount received wins over the rate unless the rate alone is named."""
    explicit = {r: n for r, n in (explicit or {}).items() if n}
    found = {role: _column(header, role, explicit.get(role)) for role in ROLES}
    for role in ("date", "amount", "from", "to"):
        if found[role] is None:
            raise AuditError(
                f"no {role} column: name it with --{role}-column (the header has "
                f"{_listing(header)}; recognised: {', '.join(HEADERS[role][:4])}, …)"
            )
    if found["received"] is None and found["rate"] is None:
        raise AuditError(
            "neither an amount received nor a rate column: name one with --received-column or "
            f"--rate-column (the header has {_listing(header)})"
        )
    if found["received"] is not None and found["rate"] is not None:
        drop = "received" if "rate" in explicit and "received" not in explicit else "rate"
        found[drop] = None
    return Columns(
        found["date"], found["amount"], found["from"], found["to"], found["received"], found["rate"]
    )  # type: ignore[arg-type]


@dataclass(frozen=True)
class Table:
    """A statement as text cells: the header and each record with its line number (read
    once: a CSV's records are read as they are consumed)."""

    header: list[str]
    records: Iterable[tuple[int, list[str]]]


def _delimiter(first_line: str) -> str:
    return max((",", ";", "\t"), key=first_line.count)


def _checked_size(count: int) -> None:
    if count > MAX_ROWS:
        raise TooLarge(f"the statement has more than {MAX_ROWS:,} rows; split it into parts")


def read_csv(text: str) -> Table:
    """A CSV statement (comma, semicolon or tab separated, chosen by the header line); blank
    lines skipped. AuditError when it has no header."""
    if len(text) > MAX_BYTES:
        raise TooLarge(f"the statement is over {MAX_BYTES // 2**20} MiB; split it into parts")
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    reader = csv.reader(_lines(text), delimiter=_delimiter(first))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise AuditError(f"line 1: not CSV ({exc})") from None
    if not header or not any(h.strip() for h in header):
        raise AuditError("the statement is empty: give a header row, then one row per conversion")
    return Table(header, _records(reader))


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, each with its end, one at a time (a StringIO would copy the text
    at four bytes a character)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end < 0 else end + 1
        yield text[start:end]
        start = end


def _records(reader) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each record that is not blank; TooLarge past MAX_ROWS."""
    count = 0
    try:
        for cells in reader:
            if cells and (cells[0] or any(cells)):
                count += 1
                _checked_size(count)
                yield reader.line_num, cells
    except csv.Error as exc:
        raise AuditError(f"line {reader.line_num}: not CSV ({exc})") from None


def _cell(value: object) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def read_json(text: str) -> Table:
    """A JSON statement: `{"rows": [{column: value, …}, …]}` or the list itself; numbers keep
    their literal digits. Columns are the keys, in order of first appearance."""
    try:
        document = json.loads(text, parse_float=str, parse_int=str)
    except ValueError as exc:
        raise AuditError(f"the body is not JSON ({exc})") from None
    rows = document.get("rows") if isinstance(document, dict) else document
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise AuditError('send {"rows": [{"date": …, "amount": …, "from": …, "to": …, …}, …]}')
    _checked_size(len(rows))
    header = list(dict.fromkeys(k for row in rows for k in row))
    if not header:
        raise AuditError("the statement is empty: send at least one row")
    records = [(n, [_cell(row.get(k)) for k in header]) for n, row in enumerate(rows, start=1)]
    return Table(header, records)


NO_CELLS: list[str] = []  # a row's cells when they are not kept (Options.cells)
Moment = datetime | date  # an aware timestamp, or a calendar day without a time


@dataclass(slots=True)
class Conversion:
    line: int
    cells: list[str]
    moment: Moment
    amount: Decimal
    base: str
    quote: str
    received: Decimal | None
    rate: Decimal | None


@dataclass(slots=True)
class Rejected:
    line: int
    cells: list[str]
    reason: str


def parse_moment(text: str, zone: tzinfo) -> Moment:
    """YYYY-MM-DD (a day), or an ISO 8601 timestamp; one without an offset is in `zone`."""
    text = text.strip()
    if len(text) <= 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def parse_number(text: str) -> Decimal:
    """A decimal from MIN_AMOUNT to MAX_AMOUNT of at most MAX_DIGITS significant digits."""
    value = Decimal(text)  # InvalidOperation when it is not a number (spaces are allowed)
    if not value.is_finite() or not MIN_AMOUNT <= value <= MAX_AMOUNT:
        raise ValueError("out of range")
    if len(text) > MAX_DIGITS and len(value.as_tuple().digits) > MAX_DIGITS:
        raise ValueError(f"more than {MAX_DIGITS} digits")
    return value


@lru_cache(maxsize=1024)
def _code(text: str) -> str:
    code = currency_code(text)
    if code is None:
        raise ValueError
    return code


HINTS = {
    "date": "a date or ISO 8601 timestamp, e.g. 2024-03-15 or 2024-03-15T14:30:00+01:00",
    "from": "a three-letter currency code such as USD",
    "to": "a three-letter currency code such as USD",
}


def _malformed(role: str, text: str) -> str:
    shown = repr(text.strip()[:40]) if text.strip() else "empty"
    number = f"a positive number (at most 10^15, {MAX_DIGITS} digits), e.g. 1250.00"
    hint = HINTS.get(role, number)
    return f"malformed {role}: {shown} is not {hint}"


def parse_record(line: int, cells: list[str], columns: Columns, width: int, zone: tzinfo):
    """One record → a Conversion, or Rejected with one line saying why (the first field that
    is wrong, in the order of ROLES)."""
    if len(cells) != width:
        return Rejected(line, cells, f"malformed row: {len(cells)} fields, the header has {width}")
    role, index = "date", columns.date
    try:
        moment = parse_moment(cells[index], zone)
        role, index = "amount", columns.amount
        amount = parse_number(cells[index])
        role, index = "from", columns.base
        base = _code(cells[index])
        role, index = "to", columns.quote
        quote = _code(cells[index])
        role, index = ("received", columns.received) if columns.received is not None else ("rate", columns.rate)  # fmt: skip
        paid = parse_number(cells[index])  # type: ignore[index]
    except (ValueError, ArithmeticError):  # Decimal's InvalidOperation is an ArithmeticError
        return Rejected(line, cells, _malformed(role, cells[index]))  # type: ignore[index]
    if base == quote:
        return Rejected(line, cells, f"malformed row: from and to are both {base}")
    received, rate = (paid, None) if columns.received is not None else (None, paid)
    return Conversion(line, cells, moment, amount, base, quote, received, rate)


# --- options: the reference series and its publication time -------------------------------


def parse_reference(text: str) -> str:
    """`blend` (alias `consensus`), `ecb` or any registry key → the series read."""
    key = ALIASES.get(text.strip().lower(), text.strip().lower())
    if key != BLEND and key not in registry_keys():
        raise AuditError(
            f"--reference {text!r}: use blend (alias consensus), ecb or a provider key: "
            f"{', '.join(k for k in registry_keys() if k != ECB)}"
        )
    return key


def parse_report_currency(text: str) -> str:
    """A three-letter code (whether it is known is checked against the hot tier)."""
    try:
        return _code(text)
    except ValueError:
        raise AuditError(f"--report-currency {text[:40]!r}: give a code such as EUR") from None


def parse_zone(name: str) -> tzinfo:
    """An IANA zone name (UTC, Europe/Berlin, …) for timestamps written without an offset."""
    if name.strip().upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, a long name
        raise AuditError(
            f"--timezone {name!r}: not a time zone; use e.g. UTC or Europe/Berlin"
        ) from None


@dataclass(frozen=True)
class Cutoff:
    """When a series' day's rates start to apply: its publication time, in its zone."""

    at: time
    zone: tzinfo
    text: str

    def day_of(self, moment: Moment) -> date:
        """The reference day: the moment's day in the zone from the publication time on,
        else the day before; a plain date is its own reference day."""
        if not isinstance(moment, datetime):
            return moment
        local = moment.astimezone(self.zone)
        return local.date() if local.time() >= self.at else local.date() - timedelta(days=1)


def cutoff_of(series_key: str) -> Cutoff:
    """The registry's `publishes_at` of the series' provider; the blend's is the ECB's."""
    text = registry_get(ECB if series_key == BLEND else series_key).publishes_at
    clock, zone = text.split(" ", 1)
    try:
        return Cutoff(time.fromisoformat(clock), parse_zone(zone), text)
    except AuditError:
        raise UserError(
            f"{series_key}'s publication time {text} needs the IANA time zone database, which "
            "this system lacks: install it (`pip install tzdata`, or the OS package tzdata)"
        ) from None


@dataclass(frozen=True)
class Options:
    reference: str = BLEND
    report_currency: str = PIVOT
    zone: tzinfo = UTC
    columns: dict[str, str] = field(default_factory=dict)  # role → header name, from flags
    cells: bool = True  # keep each row's cells (for --csv); without, memory is ~40% less


# --- pricing ------------------------------------------------------------------------------


@dataclass(slots=True)
class Priced:
    conversion: Conversion
    day: date  # the reference day
    reference: Decimal
    rate_date: str
    effective: Decimal
    markup: Decimal
    cost: Decimal  # in the sent currency
    cost_report: Decimal
    amount_report: Decimal
    seen: tuple[tuple[str, int], ...]  # (currency, ordinal observed) of its non-EUR rates
    provider: str = ""

    @property
    def pair(self) -> str:
        return f"{self.conversion.base}/{self.conversion.quote}"


Held = dict[str, tuple[Decimal, int]]  # a series' day: currency → (rate per EUR, ordinal seen)


class Book:
    """What the reads found: each series' days (only the currencies the statement names) and
    the catalogue."""

    def __init__(self, series_keys: tuple[str, ...], codes: set[str]):
        self.series_keys, self.codes = series_keys, frozenset(codes)
        self.days: dict[str, dict[int, Held]] = {key: {} for key in series_keys}
        self.currencies: dict = {}
        self.providers: dict[str, dict] = {}
        self.requests = 0
        self._spans: dict[str, dict[str, tuple[str, str]]] = {}

    def add(self, item: dict) -> None:
        if item["pk"] == META_PK:
            self._meta(item)
            return
        days = parse_rows(item["sk"], item["rows"], carried=True, codes=self.codes)
        held = self.days[item["pk"].removeprefix(DAY)]
        for ordinal, snapshot in days.items():
            held[ordinal] = {c: (Decimal(v[0]), v[1]) for c, v in snapshot.items()}

    def _meta(self, item: dict) -> None:
        if item["sk"] == CURRENCIES_SK:
            self.currencies = item
        else:
            self.providers = {p["key"]: p for p in item.get("providers", [])}

    def rate(self, key: str, ordinal: int, code: str) -> tuple[Decimal, int] | None:
        """(rate per EUR, ordinal observed) of `code` in force on the day; EUR is (1, 0)."""
        if code == PIVOT:
            return ONE, 0
        return self.days[key].get(ordinal, {}).get(code)

    def minor_units(self) -> dict[str, int]:
        item = self.currencies
        spans = {**item.get("currencies", {}), PIVOT: item.get("pivot", {})}
        return {c: int(s["minor_units"]) for c, s in spans.items() if "minor_units" in s}

    def spans(self, key: str) -> dict[str, tuple[str, str]]:
        """currency → (first, last day) in the series: the blend's from META/CURRENCIES, a
        provider's from META/PROVIDERS (read after the first batch)."""
        if key not in self._spans:
            self._spans[key] = self._read_spans(key)
        return self._spans[key]

    def _read_spans(self, key: str) -> dict[str, tuple[str, str]]:
        if key == BLEND:
            known = self.currencies.get("currencies", {})
            return {c: (s["first"], s["last"]) for c, s in known.items()}
        found = self.providers.get(key, {}).get("currency_spans", {})
        return {c: (span[0], span[1]) for c, span in found.items()}

    def known(self, code: str) -> bool:
        return code == PIVOT or any(code in self.spans(k) for k in (BLEND, *self.series_keys))


def _chunks(keys: list[tuple[str, str]], size: int = BATCH_KEYS) -> Iterator[list]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def _read(store: HotStore, table: str, book: Book, keys: list[tuple[str, str]]) -> list[dict]:
    found: list[dict] = []
    for chunk in _chunks(keys):
        found.extend(store.batch_get(table, chunk))
        book.requests += 1
    return found


def _month_keys(book: Book, months: list[str], meta: list[tuple[str, str]]):
    """The BatchGetItem key lists: META first, then each month's DAY# items, ≤ BATCH_KEYS
    each, a month never split over two."""
    per_month = len(book.series_keys)
    batches, current = [], list(meta)
    for month in months:
        if len(current) + per_month > BATCH_KEYS:
            batches.append(current)
            current = []
        current.extend((DAY + key, month) for key in book.series_keys)
    return [*batches, current] if current else batches


def _coverage(day: date) -> str | None:
    if day < FIRST_DAY:
        return f"out of coverage: reference day {day} is before {FIRST_DAY}, the first rates"
    if day > today():
        return f"out of coverage: reference day {day} is in the future"
    return None


def _unpriced(book: Book, key: str, c: Conversion, day: date, held: tuple, report: str) -> str:
    """Why a row has no price: its day, one of its currencies, or the report currency."""
    for code, rate in zip((c.base, c.quote), held, strict=True):
        if rate is None:
            return _coverage(day) or _missing(book, key, code, day)
    return _coverage(day) or _missing(book, key, report, day, report=True)


def _missing(book: Book, key: str, code: str, day: date, report: bool = False) -> str:
    if not book.known(code):
        return f"unknown currency {code!r}; `makerates currencies` lists the known ones"
    what = f"the report currency {code}" if report else code
    span = book.spans(key).get(code)
    held = (
        f"{key} has {code} from {span[0]} to {span[1]}" if span else f"{key} never published {code}"
    )
    return f"out of coverage: no {key} rate for {what} in force on {day} ({held})"


def _ratio(conversion: Conversion, reference: Decimal) -> tuple[Decimal, Decimal]:
    """(effective rate, effective / reference), each ONE division at 50 digits."""
    if conversion.received is not None:
        effective = DIVIDE.divide(conversion.received, conversion.amount)
        expected = EXACT.multiply(conversion.amount, reference)
        return effective, DIVIDE.divide(conversion.received, expected)
    assert conversion.rate is not None
    return conversion.rate, DIVIDE.divide(conversion.rate, reference)


def _report_rates(book: Book, ordinal: int, c: Conversion, base: tuple, quote: tuple, report: str):
    """(sent per EUR, report per EUR) on the day: the reference series' (the row's own rates
    when the report currency is one of its two, or EUR), else the blend's."""
    if report == PIVOT:
        return base[0], ONE
    if report in (c.base, c.quote):
        return base[0], (base if report == c.base else quote)[0]
    for key in book.series_keys:
        sent, wanted = book.rate(key, ordinal, c.base), book.rate(key, ordinal, report)
        if sent is not None and wanted is not None:
            return sent[0], wanted[0]
    return None


def _in_report(value: Decimal, rates: tuple[Decimal, Decimal]) -> Decimal:
    sent, report = rates
    return value if sent == report else DIVIDE.divide(EXACT.multiply(value, report), sent)


def price(book: Book, conversion: Conversion, day: date, report: str) -> Priced | Rejected:
    """One conversion against the book (its month already read)."""
    try:
        return _price(book, conversion, day, report)
    except ArithmeticError:  # Inexact above all: never with numbers in parse_number's bounds
        reason = f"malformed row: its numbers need more than {EXACT.prec} digits to stay exact"
        return Rejected(conversion.line, conversion.cells, reason)


def _price(book: Book, conversion: Conversion, day: date, report: str) -> Priced | Rejected:
    key, ordinal = book.series_keys[0], day.toordinal()
    base = book.rate(key, ordinal, conversion.base)
    quote = book.rate(key, ordinal, conversion.quote)
    rates = None
    if base is not None and quote is not None:
        rates = _report_rates(book, ordinal, conversion, base, quote, report)
    if rates is None:
        reason = _unpriced(book, key, conversion, day, (base, quote), report)
        return Rejected(conversion.line, conversion.cells, reason)
    assert base is not None and quote is not None
    reference = quote[0] if conversion.base == PIVOT else DIVIDE.divide(quote[0], base[0])
    effective, ratio = _ratio(conversion, reference)
    markup = EXACT.subtract(ONE, ratio)
    cost = EXACT.multiply(conversion.amount, markup)
    seen = tuple(
        (c, h[1]) for c, h in ((conversion.base, base), (conversion.quote, quote)) if c != PIVOT
    )
    return Priced(
        conversion, day, reference, iso(max(base[1], quote[1])), effective, markup, cost,
        _in_report(cost, rates), _in_report(conversion.amount, rates), seen,
    )  # fmt: skip


# --- the reads: every month once, then the providers of the blend's rates ----------------


def _series_keys(options: Options) -> tuple[str, ...]:
    """The reference series, and the blend behind it for the report currency."""
    if options.reference == BLEND or options.report_currency == PIVOT:
        return (options.reference,)
    return (options.reference, BLEND)


def _load_months(store: HotStore, table: str, book: Book, months: list[str], options: Options):
    meta = [(META_PK, CURRENCIES_SK)]
    if options.reference != BLEND:
        meta.append((META_PK, PROVIDERS_SK))
    for keys in _month_keys(book, months, meta):
        for item in _read(store, table, book, keys):
            book.add(item)
    if not book.currencies:
        raise Empty("no rates in the hot tier; run `just pipeline` first")
    if not book.known(options.report_currency):
        raise AuditError(
            f"--report-currency {options.report_currency!r}: unknown currency; "
            "`makerates currencies` lists the known ones"
        )


def _load_sources(store: HotStore, table: str, book: Book, used: set[tuple[int, str]]):
    """ordinal → `src` of the RATES item of each day a blend rate in use was observed."""
    blend = book.days[BLEND]
    days = sorted({held[1] for o, c in used if (held := blend.get(o, {}).get(c)) is not None})
    items = _read(store, table, book, [(RATES_PK, iso(d)) for d in days])
    return {date.fromisoformat(i["sk"]).toordinal(): i.get("src", {}) for i in items}


@dataclass
class Audit:
    """A statement parsed and every rate it needs read: `results()` prices its rows in the
    statement's order, one at a time (nothing priced is kept)."""

    options: Options
    header: list[str]
    columns: dict[str, str]  # role → the header name used
    cutoff: str  # the reference's publication time
    book: Book
    parsed: list[tuple[Conversion | Rejected, date | None]]  # with each reference day
    sources: dict[int, dict] = field(default_factory=dict)  # the blend's RATES `src` per day
    _providers: dict[tuple, str] = field(default_factory=dict, repr=False)  # seen → named

    @property
    def requests(self) -> int:
        return self.book.requests

    @property
    def minor_units(self) -> dict[str, int]:
        return self.book.minor_units()

    def results(self) -> Iterator[Priced | Rejected]:
        report = self.options.report_currency
        for parsed, day in self.parsed:
            if day is None or isinstance(parsed, Rejected):
                yield parsed
                continue
            result = price(self.book, parsed, day, report)
            if isinstance(result, Priced):
                result.provider = self._provider(result)
            yield result

    def _provider(self, p: Priced) -> str:
        """The series' key; for the blend, the source of each rate: its RATES item's `src`
        (absent: the ECB's), or META/CURRENCIES' source on a day without one (a weekend
        snapshot)."""
        if self.options.reference != BLEND:
            return self.options.reference
        known = self._providers.get(p.seen)
        if known is not None:
            return known
        spans = self.book.currencies.get("currencies", {})
        names = [
            self.sources[d].get(c, ECB)
            if d in self.sources
            else spans.get(c, {}).get("source", BLEND)
            for c, d in p.seen
        ]
        known = self._providers[p.seen] = "+".join(dict.fromkeys(names))
        return known


def audit(store: HotStore, table: str, statement: Table, options: Options) -> Audit:
    """Parse the statement and read what it needs: one BatchGetItem per BATCH_KEYS month
    items (META with the first), then for the blend one per BATCH_KEYS RATES days."""
    columns = detect_columns(statement.header, options.columns)
    cutoff = cutoff_of(options.reference)
    width = len(statement.header)
    parsed: list[tuple[Conversion | Rejected, date | None]] = []
    days: set[date] = set()
    used: set[tuple[int, str]] = set()
    for line, cells in statement.records:
        row = parse_record(line, cells, columns, width, options.zone)
        if not options.cells:
            row.cells = NO_CELLS
        day = cutoff.day_of(row.moment) if isinstance(row, Conversion) else None
        parsed.append((row, day))
        if isinstance(row, Conversion) and day is not None:
            days.add(day)
            ordinal = day.toordinal()
            used.add((ordinal, row.base))
            used.add((ordinal, row.quote))
    used = {(o, c) for o, c in used if c != PIVOT}
    book = Book(_series_keys(options), {options.report_currency, *(c for _, c in used)})
    _load_months(store, table, book, sorted({month_of(d) for d in days}), options)
    sources = _load_sources(store, table, book, used) if options.reference == BLEND else {}
    named = columns.named(statement.header)
    return Audit(options, statement.header, named, cutoff.text, book, parsed, sources)


def decimal_text(value: Decimal) -> str:
    """Every digit, trailing zeros dropped, never in exponent form (`35`, `0.0035`); str()
    first, which is ~3x faster than normalize() and format() for the usual exponents."""
    text = str(value)
    if "E" in text:
        return format(value.normalize(EXACT), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def bps(markup: Decimal) -> Decimal:
    return markup.scaleb(4, EXACT)  # x 10,000, exact: only the exponent moves


# --- the summary: accumulated one result at a time ----------------------------------------


def _mean(total: Decimal, count: int) -> Decimal:
    return DIVIDE.divide(total, Decimal(count))


def _median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return DIVIDE.divide(SUMS.add(ordered[middle - 1], ordered[middle]), Decimal(2))


def day_of_row(p: Priced) -> date:
    """The day a conversion belongs to in the summary: its own date, as the statement wrote it."""
    moment = p.conversion.moment
    return moment.date() if isinstance(moment, datetime) else moment


@dataclass
class Group:
    """Totals of one month (and the base of a pair's): the sums exact (to SUMS' digits), each
    markup in bps kept for the median."""

    rows: int = 0
    cost_report: Decimal = Decimal(0)
    markups: list[Decimal] = field(default_factory=list)
    markup_total: Decimal = Decimal(0)

    def add(self, cost_report: Decimal, markup_bps: Decimal) -> None:
        self.rows += 1
        self.cost_report = SUMS.add(self.cost_report, cost_report)
        self.markups.append(markup_bps)
        self.markup_total = SUMS.add(self.markup_total, markup_bps)

    def markup_bps(self) -> dict[str, str]:
        return {
            "mean": decimal_text(_mean(self.markup_total, self.rows)),
            "median": decimal_text(_median(self.markups)),
            "worst": decimal_text(max(self.markups)),
            "best": decimal_text(min(self.markups)),
        }


@dataclass
class Pair(Group):
    """A pair's totals, also in the sent currency; the whole statement's is their `merged`."""

    amount: Decimal = Decimal(0)  # in the sent currency
    cost: Decimal = Decimal(0)  # in the sent currency
    amount_report: Decimal = Decimal(0)

    def add_row(self, p: Priced, markup_bps: Decimal) -> None:
        self.add(p.cost_report, markup_bps)
        self.amount = SUMS.add(self.amount, p.conversion.amount)
        self.cost = SUMS.add(self.cost, p.cost)
        self.amount_report = SUMS.add(self.amount_report, p.amount_report)


def merged(pairs: Iterable[Pair]) -> Pair:
    """The report-currency totals and markups of several pairs (the sent sums do not add)."""
    total = Pair()
    for pair in pairs:
        total.rows += pair.rows
        total.cost_report = SUMS.add(total.cost_report, pair.cost_report)
        total.amount_report = SUMS.add(total.amount_report, pair.amount_report)
        total.markups += pair.markups
        total.markup_total = SUMS.add(total.markup_total, pair.markup_total)
    return total


class Tally:
    """The summary of the results fed to it (`feed`), and what the report draws: the worst
    rows and each pair's mean markup per day."""

    def __init__(self, audited: Audit):
        self.audited = audited
        self.rows = self.priced = 0
        self.pairs: dict[str, Pair] = {}
        self.months: dict[str, Group] = {}
        self.rejected: list[Rejected] = []
        self._worst: list[tuple[Decimal, int, Priced]] = []  # a min-heap of WORST_ROWS
        self.daily: dict[str, dict[date, list[float]]] = {}  # pair → day → [sum, count]
        self._month_of: dict[date, str] = {}

    def feed(self, results: Iterable[Priced | Rejected]) -> Iterator[Priced | Rejected]:
        for result in results:
            self.add(result)
            yield result

    def add(self, result: Priced | Rejected) -> None:
        self.rows += 1
        if isinstance(result, Rejected):
            self.rejected.append(result)
            return
        self.priced += 1
        markup, day, pair = bps(result.markup), day_of_row(result), result.pair
        self.pairs.setdefault(pair, Pair()).add_row(result, markup)
        month = self._month_of.get(day) or self._month_of.setdefault(day, day.isoformat()[:7])
        self.months.setdefault(month, Group()).add(result.cost_report, markup)
        entry = (result.markup, -self.rows, result)
        if len(self._worst) < WORST_ROWS:
            heapq.heappush(self._worst, entry)
        elif entry[:2] > self._worst[0][:2]:
            heapq.heapreplace(self._worst, entry)
        point = self.daily.setdefault(pair, {}).setdefault(day, [0.0, 0])
        point[0] += float(markup)
        point[1] += 1

    def worst(self) -> list[Priced]:
        """The rows with the highest markup, highest first (the statement's order among equals)."""
        return [p for _, _, p in sorted(self._worst, key=lambda e: e[:2], reverse=True)]

    def summary(self) -> dict:
        """Totals in the report currency, per pair and month, the markup's mean / median /
        worst / best and its cost-weighted value, the worst rows, every unpriced row."""
        options, every = self.audited.options, merged(self.pairs.values())
        body: dict = {
            "reference": options.reference,
            "publication_time": self.audited.cutoff,
            "report_currency": options.report_currency,
            "rows": self.rows,
            "priced": self.priced,
            "unpriced": len(self.rejected),
            "total_cost": decimal_text(every.cost_report),
            "total_amount": decimal_text(every.amount_report),
            "columns": self.audited.columns,
        }
        if every.rows:
            weighted = DIVIDE.divide(SUMS.multiply(every.cost_report, BPS), every.amount_report)
            body["markup_bps"] = {**every.markup_bps(), "weighted": decimal_text(weighted)}
        body["worst"] = [_worst_json(p) for p in self.worst()]
        body["per_pair"] = [{"pair": k, **_group_json(g)} for k, g in sorted(self.pairs.items())]
        body["per_month"] = [{"month": k, **_group_json(g)} for k, g in sorted(self.months.items())]
        body["unpriced_rows"] = [{"line": r.line, "reason": r.reason} for r in self.rejected]
        body["rounding"] = "none: exact decimals (divisions at 50 significant digits, half-even)"
        return body


def _worst_json(p: Priced) -> dict:
    return {"line": p.conversion.line, "pair": p.pair, "markup_bps": decimal_text(bps(p.markup))}


def _group_json(group: Group) -> dict:
    body: dict = {"rows": group.rows}
    if isinstance(group, Pair):
        body.update(amount=decimal_text(group.amount), cost=decimal_text(group.cost))
    body.update(cost_report=decimal_text(group.cost_report), markup_bps=group.markup_bps())
    return body


# --- the JSON form ------------------------------------------------------------------------


def row_json(p: Priced, report: str) -> dict[str, str | int | None]:
    c = p.conversion
    return {
        "line": c.line,
        "date": c.moment.isoformat(),
        "reference_day": p.day.isoformat(),
        "amount": decimal_text(c.amount),
        "from": c.base,
        "to": c.quote,
        "received": None if c.received is None else decimal_text(c.received),
        "rate": None if c.rate is None else decimal_text(c.rate),
        "reference_rate": decimal_text(p.reference),
        "reference_provider": p.provider,
        "rate_date": p.rate_date,
        "effective_rate": decimal_text(p.effective),
        "markup": decimal_text(p.markup),
        "markup_percent": decimal_text(p.markup.scaleb(2, EXACT)),
        "markup_bps": decimal_text(bps(p.markup)),
        "cost": decimal_text(p.cost),
        "cost_currency": c.base,
        "cost_report": decimal_text(p.cost_report),
        "report_currency": report,
    }


JSON_BATCH = 1000  # rows per chunk of the streamed document


def json_chunks(audited: Audit, tally: Tally) -> Iterator[str]:
    """`{"rows": [every priced row], "summary": {…}}` as text, JSON_BATCH rows a chunk, the
    summary (fed by the same pass) last; every number an exact string."""
    report, batch, sep = audited.options.report_currency, [], ""
    yield '{"rows": ['
    for result in tally.feed(audited.results()):
        if isinstance(result, Priced):
            batch.append(json.dumps(row_json(result, report)))
        if len(batch) == JSON_BATCH:
            yield sep + ", ".join(batch)
            batch, sep = [], ", "
    if batch:
        yield sep + ", ".join(batch)
    yield '], "summary": ' + json.dumps(tally.summary()) + "}"


def as_json(audited: Audit) -> dict:
    """The whole document as one object (small statements, tests)."""
    return json.loads("".join(json_chunks(audited, Tally(audited))))
