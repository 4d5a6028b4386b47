"""HTTP API compatible with Frankfurter v1, over the hot tier (FastAPI; `makerates serve`); its
v2 (`/v2/...`, over the series items) is `api_v2`, mounted here.

GET /v1/latest, /v1/YYYY-MM-DD, /v1/START..END, /v1/START.., /v1/currencies with the
parameters `from` (alias `base`), `to` (alias `symbols`, comma-separated) and `amount`, and
Frankfurter's response shapes. A day is one request to the hot tier, a range two (its days and
the years' content hashes, which key the answers kept rendered: DESIGN.md). An answer that
holds rates not from the ECB (a backup filling an ECB day, or a currency the ECB does not
publish) names them in the `X-Rate-Sources` header; the body stays Frankfurter's.

Numbers: unlike Frankfurter (which rounds each euro rate, then divides the rounded values),
a cross rate is ONE Decimal division, multiplied by the amount, and only then rounded for
display with Frankfurter's own rule (`display`). A range in EUR of every currency, amount 1,
joins the answers the sync rendered into the day items (`items.day_answer`).

Errors: 404 `{"message": "not found: <what>"}` naming the currency, date or range, and 422 for
bad parameters (an `amount` outside MIN_AMOUNT..MAX_AMOUNT included), never a 5xx for a
request's own fault. `/` lists the versions and the docs; `/docs` and `/redoc` serve their
scripts from the installed `fastapi-offline` package, so they work without a CDN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from makerates_core.errors import UpstreamError, UserError
from makerates_core.hotstore import HotStore, open_store, table_name
from makerates_core.settings import Settings

from makerates_gold import api_v2, http_cache, reads, series
from makerates_gold.display import rebase
from makerates_gold.http_cache import LATEST_MAX_AGE, PAST_MAX_AGE
from makerates_gold.items import PIVOT, RATES_PK
from makerates_gold.plain_routes import PlainRoutes, plain_routes

# Rates in the answer that are not the ECB's, "AED=exchangerate_api,…"; a header, so that
# the body keeps Frankfurter's shape.
SOURCES_HEADER = "X-Rate-Sources"
# The amounts converted (422 outside): up to a quadrillion, so that amount * rate stays within
# the display rounding's digits; down to a ten-thousandth of a unit.
MIN_AMOUNT, MAX_AMOUNT = Decimal("0.0001"), Decimal(10) ** 15
# The bytes of answer bodies kept rendered (http_cache.Rendered), per process: a day ~1 KB, a
# year of one pair ~10 KB, the whole history of every currency ~3 MB.
ANSWER_BYTES_KEPT = 32 * 2**20


class NotFound(Exception):
    """A 404 whose message names what was not found (Frankfurter says only "not found")."""

    def __init__(self, what: str):
        super().__init__(what)
        self.message = f"not found: {what}"


class Unprocessable(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Params:
    base: str
    quotes: tuple[str, ...] | None  # None: every currency
    amount: Decimal


# Frankfurter's query parameters, documented here and read by rate_params (the last value of
# a repeated one wins; others are ignored, as Frankfurter does).
RATE_PARAMS = http_cache.query_doc(
    from_="the base currency (default EUR)",
    base="alias of from",
    to="comma-separated quote currencies (default all)",
    symbols="alias of to",
    amount=f"the amount converted, {MIN_AMOUNT} to {MAX_AMOUNT:,} (default 1)",
)


def rate_params(request: Request) -> Params:
    """Frankfurter's query parameters: `from` (alias `base`), `to` (alias `symbols`), `amount`."""
    query = request.query_params
    code = (query.get("from") or query.get("base") or PIVOT).strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise NotFound(f"currency {code!r}: a base is a 3-letter ISO 4217 code, e.g. USD")
    wanted = query.get("to") or query.get("symbols")
    quotes = None
    if wanted:
        quotes = tuple(c.strip().upper() for c in wanted.split(",") if c.strip())
        bad = [c for c in quotes if len(c) != 3 or not c.isalpha()]
        if bad:
            raise NotFound(f"currency {bad[0]!r}: quotes are 3-letter ISO 4217 codes, e.g. JPY")
    if quotes == (code,):
        raise Unprocessable("base and symbols must differ")
    amount = query.get("amount")
    value = Decimal(1)
    if amount is not None:
        value = _amount(amount)
    return Params(base=code, quotes=quotes, amount=value)


def _amount(text: str) -> Decimal:
    """The `amount` parameter, exact: a positive number from MIN_AMOUNT to MAX_AMOUNT, so that
    every converted value keeps its digits in the display rounding (beyond it: 422)."""
    if len(text) > 64:
        raise Unprocessable("amount is longer than 64 characters; send a plain decimal number")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise Unprocessable(f"amount {text!r} is not a number; send e.g. 250 or 99.95") from None
    if not value.is_finite() or not MIN_AMOUNT <= value <= MAX_AMOUNT:
        raise Unprocessable(
            f"amount {text!r} is out of range: send a positive number from {MIN_AMOUNT} to "
            f"{MAX_AMOUNT:,}"
        )
    return value


def _rebase(rates: dict[str, Decimal], params: Params) -> dict[str, int | float] | None:
    eur = {**rates, PIVOT: Decimal(1)}
    if params.base not in eur:
        return None
    return rebase(eur, params.base, params.quotes, params.amount) or None


def eur_range(
    store: HotStore, table: str, start: date, end: date
) -> tuple[bytes, dict[str, str]] | None:
    """A range in EUR of every currency, amount 1, joined from the days' rendered answers
    (`v1eur`, items.day_answer): the same bytes the general path renders, without a Decimal.
    None when a day has no `v1eur` (an item older gold wrote; the next sync rewrites it) or
    none is published."""
    parts, answered, sources = [], [], {}
    days = store.query(
        table, RATES_PK, sk_min=start.isoformat(), sk_max=end.isoformat(),
        attributes=["v1eur", "src"],
    )  # fmt: skip
    for item in days:
        answer = item.get("v1eur")
        if answer is None:
            return None
        if answer != "{}":
            parts.append(f'"{item["sk"]}":{answer}')
            answered.append(item["sk"])
            sources.update(item.get("src", {}))
    if not parts:
        return None
    first, last = answered[0], answered[-1]
    head = f'{{"amount":1.0,"base":"{PIVOT}","start_date":"{first}","end_date":"{last}","rates":{{'
    return (head + ",".join(parts) + "}}").encode(), sources


def _day(spec: str) -> date:
    try:
        day = date.fromisoformat(spec)
    except ValueError:
        raise NotFound(f"date {spec[:40]!r}: dates are YYYY-MM-DD") from None
    if day < reads.FIRST_DAY:
        raise NotFound(f"date {spec}: the ECB's rates start on {reads.FIRST_DAY}")
    return min(day, reads.today())


def _unpublished(params: Params, when: str) -> str:
    wanted = ",".join(params.quotes) if params.quotes else "any currency"
    return f"no rate of {params.base} to {wanted} for {when} in the hot tier"


def create_app(settings: Settings | None = None, store: HotStore | None = None) -> PlainRoutes:
    """The API: FastAPI's app, its hottest point reads answered in plain ASGI in front of it
    (plain_routes)."""
    settings = settings or Settings.from_env()
    store = store or open_store(settings)
    table = table_name(settings, "rates")
    app = FastAPIOffline(  # /docs and /redoc from packaged assets: they work offline
        title="makerates",
        version="1",
        description="ECB reference rates from the makerates hot tier, Frankfurter v1 compatible, "
        "and Frankfurter v2's /v2 routes over every provider's series. Cross rates: one exact "
        "division, then rounded for display.",
    )

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"message": exc.message}, status_code=404)

    @app.exception_handler(Unprocessable)
    async def unprocessable(request: Request, exc: Unprocessable) -> JSONResponse:
        return JSONResponse({"message": exc.message}, status_code=422)

    @app.exception_handler(series.Missing)
    async def missing(request: Request, exc: series.Missing) -> JSONResponse:
        return JSONResponse({"message": str(exc)}, status_code=404)

    @app.exception_handler(series.Invalid)
    async def invalid(request: Request, exc: series.Invalid) -> JSONResponse:
        return JSONResponse({"message": str(exc)}, status_code=422)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> JSONResponse:
        if isinstance(exc, UpstreamError):
            return JSONResponse({"message": str(exc)}, status_code=503)
        return JSONResponse({"message": "not found"}, status_code=404)

    def render(
        body: dict[str, Any], max_age: int, sources: dict[str, str] | None = None
    ) -> http_cache.Answer:
        return rendered_raw(json.dumps(body, separators=(",", ":")).encode(), max_age, sources)

    def rendered_raw(raw: bytes, max_age: int, sources: dict[str, str] | None) -> http_cache.Answer:
        headers = http_cache.headers(http_cache.etag(raw), max_age)
        if sources:
            headers[SOURCES_HEADER] = ",".join(f"{c}={s}" for c, s in sorted(sources.items()))
        return raw, headers

    def send(request: Request, answer: http_cache.Answer) -> Response:
        raw, headers = answer
        cached = http_cache.not_modified(request, headers)
        return cached or Response(raw, media_type="application/json", headers=headers)

    def respond(
        request: Request, body: dict[str, Any], max_age: int, sources: dict[str, str] | None = None
    ) -> Response:
        return send(request, render(body, max_age, sources))

    rendered = http_cache.Rendered(ANSWER_BYTES_KEPT)

    def single(request: Request, found: reads.DayRates, params: Params, max_age: int) -> Response:
        def rendered_day() -> http_cache.Answer:
            rates = _rebase(found.rates, params)
            if rates is None:
                raise NotFound(_unpublished(params, found.day))
            body = {
                "amount": float(params.amount),
                "base": params.base,
                "date": found.day,
                "rates": rates,
            }
            return render(body, max_age, found.source_of([params.base, *rates]))

        key = (found.day, found.version, params, max_age)
        return send(request, rendered.get(key, rendered_day))

    point = http_cache.runner(store)

    @app.get("/", summary="the API's versions and where to read about them")
    async def root(request: Request) -> Response:
        body = {
            "name": "makerates",
            "versions": {"v1": "/v1/latest"},
            "v2": {
                "rates": "/v2/rates",
                "rate": "/v2/rate/{base}/{quote}",
                "currencies": "/v2/currencies",
                "currency": "/v2/currency/{code}",
                "providers": "/v2/providers",
            },
            "docs": {"openapi": "/openapi.json", "swagger": "/docs", "redoc": "/redoc"},
        }
        return respond(request, body, LATEST_MAX_AGE)

    def latest_answer(request: Request) -> Response:
        params = rate_params(request)
        return single(request, reads.latest_rates(store, table), params, LATEST_MAX_AGE)

    @app.get("/v1/latest", summary="the newest ECB publication", openapi_extra=RATE_PARAMS)
    async def latest(request: Request) -> Response:
        return await point(latest_answer, request)

    def currencies_answer(request: Request) -> Response:
        names = reads.currency_names(store, table)
        body = {c: names[c] for c in sorted(names)}
        return respond(request, body, LATEST_MAX_AGE)

    @app.get("/v1/currencies", summary="every currency published, code → name")
    async def currencies(request: Request) -> Response:
        return await point(currencies_answer, request)

    def day_answer(request: Request, spec: str) -> Response:
        params, day = rate_params(request), _day(spec)
        found = reads.rates_on(store, table, day)
        return single(request, found, params, http_cache.max_age(day))

    def range_answer(request: Request, spec: str, start: date, end: date) -> Response:
        params = rate_params(request)
        closed = not spec.endswith("..") and http_cache.settled(end)
        max_age = PAST_MAX_AGE if closed else LATEST_MAX_AGE

        def rendered_range() -> http_cache.Answer:
            if (params.base, params.quotes, params.amount) == (PIVOT, None, 1):
                joined = eur_range(store, table, start, end)
                if joined is not None:
                    raw, sources_of = joined
                    return rendered_raw(raw, max_age, sources_of)
            series: dict[str, dict[str, int | float]] = {}
            sources: dict[str, str] = {}
            items = store.query(
                table, RATES_PK, sk_min=start.isoformat(), sk_max=end.isoformat(),
                attributes=["rates", "src"],
            )  # fmt: skip
            for item in items:
                rates = _rebase(dict(item.get("rates", {})), params)
                if rates is not None:
                    series[item["sk"]] = rates
                    found = item.get("src", {})
                    sources.update((c, found[c]) for c in [params.base, *rates] if c in found)
            if not series:
                raise NotFound(_unpublished(params, spec))
            body = {
                "amount": float(params.amount),
                "base": params.base,
                "start_date": min(series),
                "end_date": max(series),
                "rates": series,
            }
            return render(body, max_age, sources)

        years = reads.year_versions(store, table, start.year, end.year)
        if years is None:
            return send(request, rendered_range())
        return send(request, rendered.get((start, end, params, max_age, years), rendered_range))

    @app.get(
        "/v1/{spec}",
        summary="a day (YYYY-MM-DD) or a range (START..END, START..)",
        description="A day that is not a publication day answers with the latest publication "
        f"before it (at most {reads.LOOKBACK_DAYS} days back) and says its date.",
        openapi_extra=RATE_PARAMS,
    )
    async def historical(request: Request, spec: str) -> Response:
        if ".." in spec:
            first, _, last = spec.partition("..")
            start, end = _day(first), _day(last) if last else reads.today()
            if start > end:
                raise NotFound(f"range {spec}: its start is after its end")
            ranged = http_cache.range_runner(store, (end - start).days)
            return await ranged(range_answer, request, spec, start, end)
        return await point(day_answer, request, spec)

    v2 = api_v2.router(store, table)
    app.include_router(v2)
    from makerates_gold.audit_api import router as audit_router  # POST /v2/audit

    app.include_router(audit_router(store, table))
    return plain_routes(app, [app.router, v2])
