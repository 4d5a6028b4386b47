"""HTTP API compatible with Frankfurter v1, over the hot tier (FastAPI; `makerates serve`).

GET /v1/latest, /v1/YYYY-MM-DD, /v1/START..END, /v1/START.., /v1/currencies with the
parameters `from` (alias `base`), `to` (alias `symbols`, comma-separated) and `amount`, and
Frankfurter's response shapes. Every answer is one request to the hot tier.

Numbers: unlike Frankfurter (which rounds each euro rate, then divides the rounded values),
a cross rate is ONE Decimal division at reads.CROSS_PRECISION digits, multiplied by the amount,
and only then rounded for display, with Frankfurter's own display rule (its `Roundable`:
decimal places by magnitude, not significant digits): > 5000 → integer, > 80 → 2 places,
> 20 → 3, > 1 → 4, > 0.0001 → 5, else 6; half-even, on the exact Decimal.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from makerates_core.errors import UpstreamError, UserError
from makerates_core.hotstore import HotStore, open_store, table_name
from makerates_core.settings import Settings

from makerates_gold import reads
from makerates_gold.items import CURRENCY_NAMES, PIVOT, RATES_PK

LATEST_MAX_AGE = 300  # the latest day changes once a working day
PAST_MAX_AGE = 86400  # a past day changes only if silver republishes it


class NotFound(Exception):
    pass


class Unprocessable(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def display(value: Decimal) -> int | float:
    """Frankfurter's display rounding, applied once to the exact value."""
    if value > 5000:
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    places = 2 if value > 80 else 3 if value > 20 else 4 if value > 1 else 5
    if value <= Decimal("0.0001"):
        places = 6
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def _params(
    from_: str | None, base: str | None, to: str | None, symbols: str | None, amount: str | None
) -> tuple[str, list[str] | None, Decimal]:
    code = (from_ or base or PIVOT).strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise NotFound
    wanted = to or symbols
    quotes = None
    if wanted:
        quotes = [c.strip().upper() for c in wanted.split(",") if c.strip()]
        if any(len(c) != 3 or not c.isalpha() for c in quotes):
            raise NotFound
    if quotes == [code]:
        raise Unprocessable("base and symbols must differ")
    value = Decimal(1)
    if amount is not None:
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise Unprocessable("amount must be a positive number") from None
        if not value.is_finite() or value <= 0:
            raise Unprocessable("amount must be a positive number")
    return code, quotes, value


def _rebase(
    rates: dict[str, Decimal], base: str, quotes: list[str] | None, amount: Decimal
) -> dict[str, int | float] | None:
    eur = {**rates, PIVOT: Decimal(1)}
    if base not in eur:
        return None
    out: dict[str, int | float] = {}
    for code in sorted(eur):
        if code == base or (quotes is not None and code not in quotes):
            continue
        with localcontext() as ctx:
            ctx.prec = reads.CROSS_PRECISION
            out[code] = display(amount * (eur[code] / eur[base]))
    return out or None


def _day(spec: str) -> date:
    try:
        day = date.fromisoformat(spec)
    except ValueError:
        raise NotFound from None
    if day < reads.FIRST_DAY:
        raise NotFound
    return min(day, reads.today())


def create_app(settings: Settings | None = None, store: HotStore | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    store = store or open_store(settings)
    table = table_name(settings, "rates")
    app = FastAPI(
        title="makerates",
        version="1",
        description="ECB reference rates from the makerates hot tier, Frankfurter v1 compatible. "
        "Cross rates: one exact division, then rounded for display.",
    )

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"message": "not found"}, status_code=404)

    @app.exception_handler(Unprocessable)
    async def unprocessable(request: Request, exc: Unprocessable) -> JSONResponse:
        return JSONResponse({"message": exc.message}, status_code=422)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> JSONResponse:
        if isinstance(exc, UpstreamError):
            return JSONResponse({"message": str(exc)}, status_code=503)
        return JSONResponse({"message": "not found"}, status_code=404)

    def respond(request: Request, body: dict[str, Any], max_age: int) -> Response:
        raw = json.dumps(body, separators=(",", ":")).encode()
        etag = '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
        asked = request.headers.get("if-none-match", "")
        if etag in [t.strip() for t in asked.split(",")] or asked.strip() == "*":
            return Response(status_code=304, headers=headers)
        return Response(raw, media_type="application/json", headers=headers)

    def single(request: Request, found: reads.DayRates, params, max_age: int) -> Response:
        base, quotes, amount = params
        rates = _rebase(found.rates, base, quotes, amount)
        if rates is None:
            raise NotFound
        body = {"amount": float(amount), "base": base, "date": found.day, "rates": rates}
        return respond(request, body, max_age)

    @app.get("/v1/latest", summary="the newest ECB publication")
    def latest(
        request: Request,
        from_: str | None = Query(None, alias="from"),
        base: str | None = None,
        to: str | None = None,
        symbols: str | None = None,
        amount: str | None = None,
    ) -> Response:
        params = _params(from_, base, to, symbols, amount)
        return single(request, reads.latest_rates(store, table), params, LATEST_MAX_AGE)

    @app.get("/v1/currencies", summary="every currency published, code → name")
    def currencies(request: Request) -> Response:
        known = reads.currencies(store, table)
        body = {c: CURRENCY_NAMES.get(c, c) for c in sorted([*known, PIVOT])}
        return respond(request, body, LATEST_MAX_AGE)

    @app.get(
        "/v1/{spec}",
        summary="a day (YYYY-MM-DD) or a range (START..END, START..)",
        description="A day that is not a publication day answers with the latest publication "
        f"before it (at most {reads.LOOKBACK_DAYS} days back) and says its date.",
    )
    def historical(
        request: Request,
        spec: str,
        from_: str | None = Query(None, alias="from"),
        base: str | None = None,
        to: str | None = None,
        symbols: str | None = None,
        amount: str | None = None,
    ) -> Response:
        params = _params(from_, base, to, symbols, amount)
        if ".." not in spec:
            day = _day(spec)
            max_age = PAST_MAX_AGE if day < reads.today() - timedelta(days=7) else LATEST_MAX_AGE
            return single(request, reads.rates_on(store, table, day), params, max_age)
        first, _, last = spec.partition("..")
        start = _day(first)
        end = _day(last) if last else reads.today()
        if start > end:
            raise NotFound
        base, quotes, value = params
        series: dict[str, dict[str, int | float]] = {}
        items = store.query(
            table, RATES_PK, sk_min=start.isoformat(), sk_max=end.isoformat(),
            attributes=["rates"],
        )  # fmt: skip
        for item in items:
            rates = _rebase(dict(item.get("rates", {})), base, quotes, value)
            if rates is not None:
                series[item["sk"]] = rates
        if not series:
            raise NotFound
        body = {
            "amount": float(value),
            "base": base,
            "start_date": min(series),
            "end_date": max(series),
            "rates": series,
        }
        closed = last and end < reads.today() - timedelta(days=7)
        return respond(request, body, PAST_MAX_AGE if closed else LATEST_MAX_AGE)

    return app
