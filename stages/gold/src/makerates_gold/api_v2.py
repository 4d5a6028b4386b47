"""HTTP API v2, Frankfurter v2's surface, over the series items (`series.py`); mounted by
`api.create_app`.

GET /v2/rates (`date` | `from`/`to`, `base`, `quotes`, `providers`, `group=week|month`,
`expand=providers,exact`), /v2/rates.csv, /v2/rate/{base}/{quote} (`date`, `providers`,
`expand`), /v2/currencies (`scope=all`, `providers`), /v2/currency/{code}, /v2/providers.
A row is `{"date", "base", "quote", "rate"}` (+ `providers`: each provider's own rate of the
pair that day; + `exact`). JSON, CSV (`Accept: text/csv` or `.csv`) or NDJSON (`Accept:
application/x-ndjson`); a range is streamed in all three.

Display rule (`reads.rate_text`, the CLI's too): `rate` is a JSON number written from the exact
Decimal (never through a float), rounded half-even to reads.RATE_DIGITS (10) significant
digits, trailing zeros dropped. A published rate per EUR has fewer digits (the ECB's at most
7), so with base EUR it is the published string itself: `providers=ECB` answers the ECB to
the digit. `exact` is the stored
string (base EUR) or the quotient at reads.CROSS_PRECISION (50) digits.

Caching: a single day's ETag is the body's hash; a range's is the hash of the request and the
`h` of every item it reads (one Query per series projecting `h` before streaming), so a 304
reads no rows. Errors: 422 `{"message"}` for a malformed request, 404 `{"message": "not
found: …"}` naming what is missing, 503 when the hot tier cannot be reached or the request
outlives REQUEST_DEADLINE_SECONDS (before its first byte; later, the stream is cut and the
server logs one line).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import chain
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from makerates_core.errors import UpstreamError
from makerates_core.hotstore import HotStore
from makerates_core.providers import keys as registry_keys
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from makerates_gold import http_cache, series
from makerates_gold.http_cache import LATEST_MAX_AGE, PAST_MAX_AGE
from makerates_gold.items import PIVOT
from makerates_gold.reads import RATE_DIGITS, decimal_text, rate_text, today
from makerates_gold.series import Ask, Invalid, Missing, Row

log = logging.getLogger("makerates.api")

REQUEST_DEADLINE_SECONDS = 10  # a range stops reading past this (checked between months)
ACTIVE_DAYS = 14  # a currency whose last day is this close to the newest day is active
CHUNK_ROWS = 1000  # rows per streamed chunk
# A daily range longer than this needs quotes= (at most MAX_RANGE_QUOTES): every currency of
# 25 years of 160 currencies is ~700,000 rows, 70 MB, 5-10 s; 5 years is under 2 s.
MAX_DAILY_YEARS, MAX_RANGE_QUOTES = 5, 10
_now = time.monotonic  # the deadline's clock (a test moves it)

RATES_PARAMS = {"date", "from", "to", "base", "quotes", "providers", "group", "expand"}
MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8"}
MEDIA["ndjson"] = "application/x-ndjson"


class Deadline(UpstreamError):
    """The request outlived REQUEST_DEADLINE_SECONDS (a 503)."""


# --- the OpenAPI schema: what the routes answer -------------------------------------------


class Message(BaseModel):
    message: str


class ProviderEntry(BaseModel):
    key: str = Field(description="registry key, upper case")
    date: dt.date
    rate: float = Field(gt=0, description="that provider's own rate of the pair")


class RateRow(BaseModel):
    date: dt.date = Field(description="the newer of the base's and the quote's observation dates")
    base: str
    quote: str
    rate: float = Field(gt=0, description=f"{RATE_DIGITS} significant digits, half-even")
    providers: list[ProviderEntry] | None = Field(None, description="with expand=providers")
    exact: str | None = Field(None, description="with expand=exact: every digit")


class Currency(BaseModel):
    iso_code: str
    iso_numeric: str | None = None
    name: str
    symbol: str | None = None
    minor_units: int | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None


class CurrencyDetail(Currency):
    providers: list[str]


class ProviderInfo(BaseModel):
    key: str
    name: str
    country_code: str | None = None
    rate_type: str | None = Field(None, description="official, relay or commercial")
    pivot_currency: str | None = None
    data_url: str | None = None
    terms_url: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    publish_cadence: str | None = None
    publishes_missed: int | None = None
    calendar: str | None = None
    publishes_at: str | None = None
    currencies: list[str]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    words = {404: "not found: names what", 422: "a malformed request", 503: "hot tier down"}
    return {code: {"model": Message, "description": words[code]} for code in codes}


def _formats(model: Any) -> dict[int | str, dict[str, Any]]:
    text = {"schema": {"type": "string"}}
    content = {"text/csv": text, "application/x-ndjson": text}
    return {200: {"model": model, "content": content}, **_errors(404, 422, 503)}


# The query parameters, for the schema only: `_query` reads them (and refuses unknown ones).
RATES_DOC = http_cache.query_doc(
    date="YYYY-MM-DD; not with from/to",
    from_="a range's first day",
    to="a range's last day (default today)",
    base="default EUR",
    quotes="comma-separated codes",
    providers="comma-separated registry keys",
    group="week or month (ranges only)",
    expand="providers, exact (comma-separated)",
)
RATE_DOC = http_cache.query_doc(
    date="YYYY-MM-DD", providers="comma-separated registry keys", expand="providers, exact"
)
CURRENCIES_DOC = http_cache.query_doc(
    scope="all: also currencies no longer published",
    providers="those these providers publish",
)


# --- parsing a request --------------------------------------------------------------------


def _query(request: Request, allowed: set[str]) -> dict[str, str]:
    """The query parameters, each once and known (Invalid otherwise)."""
    params = request.query_params
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise Invalid(
            f"unknown parameter: {', '.join(unknown)} (known: {', '.join(sorted(allowed))})"
        )
    twice = sorted(k for k in set(params) if len(params.getlist(k)) > 1)
    if twice:
        raise Invalid(f"parameter {twice[0]} is given more than once")
    return dict(params)


def _listed(params: dict[str, str], name: str) -> list[str] | None:
    if name not in params:
        return None
    values = [v.strip() for v in params[name].split(",")]
    if not all(values):
        raise Invalid(f"{name}={params[name][:40]!r}: give comma-separated values, none empty")
    return list(dict.fromkeys(values))


@dataclass(frozen=True)
class Shape:
    """How to answer: the rows asked for and how to write them."""

    ask: Ask
    exact: bool
    kind: str  # json | csv | ndjson


def _shape(request: Request, params: dict[str, str], csv: bool, base: str | None = None) -> Shape:
    expand = [e.lower() for e in _listed(params, "expand") or []]
    bad = [e for e in expand if e not in ("providers", "exact")]
    if bad:
        raise Invalid(f"invalid expand: {','.join(bad)} (use providers, exact)")
    keys = [series.parse_series(p) for p in _listed(params, "providers") or []]
    quotes = _listed(params, "quotes")
    ask = Ask(
        base=series.parse_currency(base or params.get("base", PIVOT)),
        quotes=tuple(series.parse_currency(q) for q in quotes) if quotes else None,
        series=tuple(keys) or (series.BLEND,),
        detail=(tuple(keys) or registry_keys()) if "providers" in expand else (),
    )
    return Shape(ask, "exact" in expand, _kind(request, csv))


def _kind(request: Request, csv: bool) -> str:
    """csv (a .csv path or Accept: text/csv), ndjson (Accept: application/x-ndjson) or json,
    whichever the Accept header names first."""
    if csv:
        return "csv"
    accept = request.headers.get("accept", "").lower()
    found = {kind: accept.find(media.split(";")[0]) for kind, media in MEDIA.items()}
    named = [kind for kind, at in sorted(found.items(), key=lambda f: f[1]) if at >= 0]
    return named[0] if named else "json"


@dataclass(frozen=True)
class Span:
    first: date
    last: date
    closed: bool  # `to` given and older than a week: cached for a day


def _span(params: dict[str, str]) -> Span | None:
    """from/to (None without `from`); Invalid for a conflicting or reversed range."""
    if "date" in params and ("from" in params or "to" in params):
        raise Invalid("date cannot be combined with from/to: ask one day or a range")
    if "from" not in params:
        if "to" in params:
            raise Invalid("to needs from: a range is from=YYYY-MM-DD[&to=YYYY-MM-DD]")
        if "group" in params:
            raise Invalid("group needs a range: add from=YYYY-MM-DD (and to=)")
        return None
    first = _day(params["from"], clamp=True)
    last = _day(params["to"]) if "to" in params else today()
    if first > last:
        raise Invalid(f"from {first} is after to {last}")
    return Span(
        max(first, series.FIRST_DAY), last, closed="to" in params and http_cache.settled(last)
    )


def _day(text: str, clamp: bool = False) -> date:
    """A day; with `clamp`, one before FIRST_DAY is FIRST_DAY (a range simply starts there)."""
    try:
        return series.parse_day(text)
    except Missing:
        if clamp:
            return series.FIRST_DAY
        raise


def _check_cost(ask: Ask, span: Span) -> None:
    """Invalid for a daily range over MAX_DAILY_YEARS without a short quotes= list."""
    limit = span.first + timedelta(days=round(MAX_DAILY_YEARS * 365.25))
    if span.last > limit and (ask.quotes is None or len(ask.quotes) > MAX_RANGE_QUOTES):
        raise Invalid(
            f"a daily range longer than {MAX_DAILY_YEARS} years needs quotes= ({MAX_RANGE_QUOTES} "
            "currencies or fewer); or use group=week or group=month, or split the range"
        )


def _group(params: dict[str, str]) -> str | None:
    group = params.get("group")
    if group is not None and group.lower() not in series.GROUPS:
        raise Invalid(f"invalid group: {group[:20]!r} (use week or month)")
    return group.lower() if group else None


# --- writing rows -------------------------------------------------------------------------


def _json(row: Row, exact: bool) -> str:
    """One row as JSON; every field is a code, a date or a number, so nothing needs escaping."""
    text = f'{{"date":"{row.date}","base":"{row.base}","quote":"{row.quote}","rate":{rate_text(row.rate)}'
    if row.providers is not None:
        entries = (
            f'{{"key":"{p.key}","date":"{p.date}","rate":{rate_text(p.rate)}}}'
            for p in row.providers
        )
        text += ',"providers":[' + ",".join(entries) + "]"
    if exact:
        text += f',"exact":"{decimal_text(row.rate)}"'
    return text + "}"


def _csv_header(shape: Shape) -> str:
    detail = ",providers" if shape.ask.detail else ""
    return "date,base,quote,rate" + detail + (",exact" if shape.exact else "") + "\n"


def _csv(row: Row, shape: Shape) -> str:
    cells = [row.date, row.base, row.quote, rate_text(row.rate)]
    if shape.ask.detail:
        cells.append("|".join(f"{p.key}:{rate_text(p.rate)}" for p in row.providers or ()))
    if shape.exact:
        cells.append(decimal_text(row.rate))
    return ",".join(cells) + "\n"


def _line(shape: Shape) -> Callable[[Row], str]:
    if shape.kind == "csv":
        return lambda row: _csv(row, shape)
    end = "\n" if shape.kind == "ndjson" else ""
    return lambda row: _json(row, shape.exact) + end


def _chunks(shape: Shape, rows: Iterable[Row], array: bool = True) -> Iterator[str]:
    """The body in chunks of CHUNK_ROWS rows: a JSON array (or one object), NDJSON lines or
    CSV with its header."""
    line = _line(shape)
    json_array = shape.kind == "json" and array
    head = "[" if json_array else _csv_header(shape) if shape.kind == "csv" else ""
    sep = "," if json_array else ""
    batch: list[str] = []
    for row in rows:
        batch.append(line(row))
        if len(batch) == CHUNK_ROWS:
            yield head + sep.join(batch)
            head, batch = sep, []
    yield head + sep.join(batch) + ("]" if json_array else "")


# --- answering ----------------------------------------------------------------------------


def _whole(request: Request, body: str, media: str, max_age: int, vary: bool = False) -> Response:
    headers = http_cache.headers(http_cache.etag(body), max_age, vary)
    cached = http_cache.not_modified(request, headers)
    return cached or Response(body, media_type=media, headers=headers)


def _deadline() -> Callable[[], None]:
    started = _now()

    def check() -> None:
        elapsed = _now() - started
        if elapsed > REQUEST_DEADLINE_SECONDS:
            raise Deadline(
                f"the request took more than {REQUEST_DEADLINE_SECONDS} s "
                f"(REQUEST_DEADLINE_SECONDS); ask for a shorter range, fewer quotes or group="
            )

    return check


def _streamed(chunks: Iterator[str], what: str) -> Iterator[bytes]:
    """The body; past the deadline one log line, then the connection is cut (not a short
    body that looks whole)."""
    try:
        for chunk in chunks:
            yield chunk.encode()
    except Deadline:
        log.error("v2 range %s stopped at REQUEST_DEADLINE_SECONDS: response cut short", what)
        raise


def _range(
    store: HotStore, table: str, request: Request, shape: Shape, span: Span, group: str | None
) -> Response:
    """A range, streamed: ETag and 304 from the items' hashes, then the first row read
    before the response starts (a 404, 503 or deadline is still a clean answer)."""
    hashes = series.fingerprint(store, table, shape.ask, (span.first, span.last), group)
    key = f"{request.url.path}?{sorted(request.query_params.items())}|{shape.kind}|{span}|{hashes}"
    age = PAST_MAX_AGE if span.closed else LATEST_MAX_AGE
    headers = http_cache.headers(http_cache.etag(key), age, vary=True)
    cached = http_cache.not_modified(request, headers)
    if cached is not None:
        return cached
    series.check_known(store, table, shape.ask)
    check = _deadline()
    if group:
        rows = series.grouped(store, table, shape.ask, (span.first, span.last), group, check)
    else:
        rows = series.daily(store, table, shape.ask, (span.first, span.last), check)
    first = next(rows, None)
    if first is None:
        raise series.missing(shape.ask, f"from {span.first} to {span.last}")
    body = _streamed(_chunks(shape, chain([first], rows)), request.url.path)
    return StreamingResponse(body, media_type=MEDIA[shape.kind], headers=headers)


def _rows_of_day(
    store: HotStore, table: str, ask: Ask, params: dict[str, str]
) -> tuple[list[Row], int]:
    if "date" in params:
        day = series.parse_day(params["date"])
        return series.on_day(store, table, ask, day), http_cache.max_age(day)
    return series.latest(store, table, ask), LATEST_MAX_AGE


def _day_answer(
    store: HotStore, table: str, request: Request, shape: Shape, params: dict[str, str], array: bool
) -> Response:
    """One day's rows (or the latest), whole: an array, or the first row as one object."""
    rows, max_age = _rows_of_day(store, table, shape.ask, params)
    body = "".join(_chunks(shape, rows if array else rows[:1], array=array))
    return _whole(request, body, MEDIA[shape.kind], max_age, vary=True)


def router(store: HotStore, table: str) -> APIRouter:
    """The /v2 routes over `store`: requests parsed in the event loop, point reads where
    `http_cache.runner` says, ranges in the threadpool."""
    v2 = APIRouter(prefix="/v2", tags=["v2"])
    point = http_cache.runner(store)

    async def rates(request: Request, csv: bool) -> Response:
        params = _query(request, RATES_PARAMS)
        span, group = _span(params), _group(params)
        shape = _shape(request, params, csv)
        if span is None:
            return await point(_day_answer, store, table, request, shape, params, True)
        if not group:
            _check_cost(shape.ask, span)
        return await run_in_threadpool(_range, store, table, request, shape, span, group)

    rates_route = {"openapi_extra": RATES_DOC, "responses": _formats(list[RateRow])}

    @v2.get(
        "/rates",
        summary="rates of a day, the latest, or a range (daily, weekly, monthly)",
        **rates_route,
    )
    async def rates_json(request: Request) -> Response:
        return await rates(request, csv=False)

    @v2.get("/rates.csv", summary="the same as CSV", **rates_route)
    async def rates_csv(request: Request) -> Response:
        return await rates(request, csv=True)

    @v2.get(
        "/rate/{base}/{quote}",
        summary="one pair on a day (default: the latest)",
        openapi_extra=RATE_DOC,
        responses=_formats(RateRow),
    )
    async def rate(request: Request, base: str, quote: str) -> Response:
        params = _query(request, {"date", "providers", "expand"})
        csv = quote.lower().endswith(".csv")
        params["quotes"] = series.parse_currency(quote[:-4] if csv else quote)  # one code
        shape = _shape(request, params, csv, base=base)
        return await point(_day_answer, store, table, request, shape, params, False)

    def currencies_answer(request: Request) -> Response:
        params = _query(request, {"scope", "providers"})
        scope = params.get("scope")
        if scope is not None and scope != "all":
            raise Invalid(f"invalid scope: {scope[:20]!r} (use all)")
        keys = [series.parse_series(p) for p in _listed(params, "providers") or []]
        listed = _currencies(*series.catalogue(store, table), keys, everything=scope == "all")
        return _json_answer(request, listed)

    @v2.get(
        "/currencies",
        summary="currencies: active ones, all, or a provider's",
        openapi_extra=CURRENCIES_DOC,
        responses={200: {"model": list[Currency]}, **_errors(404, 422, 503)},
    )
    async def currencies(request: Request) -> Response:
        return await point(currencies_answer, request)

    def currency_answer(request: Request, code: str) -> Response:
        _query(request, set())
        wanted = series.parse_currency(code)
        item, providers = series.catalogue(store, table)
        found = [
            c for c in _currencies(item, providers, [], everything=True) if c["iso_code"] == wanted
        ]
        if not found:
            raise Missing(f"currency {wanted!r}", series.KNOWN_HINT)
        return _json_answer(request, {**found[0], "providers": _publishers(providers, wanted)})

    @v2.get(
        "/currency/{code}",
        summary="one currency and the providers publishing it",
        responses={200: {"model": CurrencyDetail}, **_errors(404, 422, 503)},
    )
    async def currency(request: Request, code: str) -> Response:
        return await point(currency_answer, request, code)

    def providers_answer(request: Request) -> Response:
        _query(request, set())
        _, listed = series.catalogue(store, table)
        return _json_answer(
            request,
            [
                _provider(p)
                for p in sorted(listed, key=lambda p: p["key"])
                if p.get("currency_spans")
            ],
        )

    @v2.get(
        "/providers",
        summary="every provider with data: coverage and currencies",
        responses={200: {"model": list[ProviderInfo]}, **_errors(422, 503)},
    )
    async def providers(request: Request) -> Response:
        return await point(providers_answer, request)

    @v2.get("", summary="the v2 API", include_in_schema=False)
    async def root(request: Request) -> Response:
        return _json_answer(request, {"version": "v2", "openapi": "/openapi.json", "docs": "/docs"})

    @v2.get("/{path:path}", include_in_schema=False)
    async def unknown(path: str) -> Response:
        raise Missing(
            f"/v2/{path[:60]}",
            "; the v2 routes are /v2/rates, /v2/rate/{base}/{quote}, /v2/currencies, /v2/currency/{code}, /v2/providers",
        )

    return v2


def _json_answer(request: Request, body: Any) -> Response:
    return _whole(
        request, json.dumps(body, separators=(",", ":"), default=str), MEDIA["json"], LATEST_MAX_AGE
    )


def _spans(providers: list[dict]) -> dict[str, dict[str, list[str]]]:
    return {p["key"]: dict(p.get("currency_spans") or {}) for p in providers}


def _publishers(providers: list[dict], code: str) -> list[str]:
    """Upper-case keys of the providers publishing `code` (EUR: every provider with data)."""
    return sorted(
        k.upper()
        for k, spans in _spans(providers).items()
        if (code in spans if code != PIVOT else spans)
    )


def _currencies(item: dict, providers: list[dict], keys: list[str], everything: bool) -> list[dict]:
    """Frankfurter's currency objects: every served one and EUR; the active ones (last day
    within ACTIVE_DAYS of the newest) unless `everything`; only those `keys` publish if any."""
    spans = {code: dict(span) for code, span in item.get("currencies", {}).items()}
    lasts = [s["last"] for s in spans.values()] or [None]
    firsts = [s["first"] for s in spans.values()] or [None]
    pivot = dict(item.get("pivot", {}))
    spans[PIVOT] = {
        "name": pivot.get("name", PIVOT),
        "minor_units": pivot.get("minor_units"),
        "first": min(firsts),
        "last": max(lasts),
    }
    if keys:
        published = set().union(*(_spans(providers).get(k, {}) for k in keys))
        spans = {c: s for c, s in spans.items() if c in published or (c == PIVOT and published)}
    elif not everything and max(lasts):
        newest = date.fromisoformat(max(lasts))
        floor = (newest - timedelta(days=ACTIVE_DAYS)).isoformat()
        spans = {c: s for c, s in spans.items() if s["last"] >= floor}
    return [_currency(code, spans[code]) for code in sorted(spans)]


def _currency(code: str, span: dict) -> dict:
    minor = span.get("minor_units")
    return {
        "iso_code": code,
        "iso_numeric": None,
        "name": span.get("name", code),
        "symbol": None,
        "minor_units": int(minor) if minor is not None else None,
        "start_date": span.get("first"),
        "end_date": span.get("last"),
    }


def _provider(p: dict) -> dict:
    spans = dict(p.get("currency_spans") or {})
    return {
        "key": p["key"].upper(),
        "name": p.get("name", p["key"]),
        "country_code": None,
        "rate_type": p.get("kind"),
        "pivot_currency": p.get("pivot"),
        "data_url": None,
        "terms_url": None,
        "start_date": min(s[0] for s in spans.values()),
        "end_date": max(s[1] for s in spans.values()),
        "publish_cadence": None,
        "publishes_missed": None,
        "calendar": p.get("calendar"),
        "publishes_at": p.get("publishes_at"),
        "currencies": sorted(spans),
    }
