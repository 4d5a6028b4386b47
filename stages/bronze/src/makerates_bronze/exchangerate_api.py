"""ExchangeRate-API's open access (open.er-api.com): latest rates only, independent of the ECB.

`/v6/latest/USD` answers `{"result": "success", "base_code": "USD", "time_last_update_unix": N,
"rates": {currency: rate}}` for about 160 currencies, updated once a day; on failure
`{"result": "error", "error-type": ...}`. Rates are kept as the body's number literals.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from makerates_core.errors import UpstreamError

from makerates_bronze import upstream
from makerates_bronze.ecb import Rate

SETTING = "EXCHANGERATE_API_BASE_URL"
PATH = "/v6/latest/USD"


class Snapshot(NamedTuple):
    base: str | None
    published_at: str  # ISO-8601 UTC of time_last_update_unix
    rates: list[Rate]  # rate_date: the UTC day of time_last_update_unix


def parse(document: dict[str, Any], url: str) -> Snapshot:
    result = document.get("result")
    if result != "success":
        error = document.get("error-type") or "no error-type given"
        raise UpstreamError(
            f"{url} answered result={result!r} ({error}); check {SETTING}, or retry later "
            "(the open access is rate-limited and updates once a day)"
        )
    rates = document.get("rates")
    if not isinstance(rates, dict):
        raise UpstreamError(f"{url} answered JSON without `rates`; check {SETTING}")
    try:
        updated = datetime.fromtimestamp(int(document["time_last_update_unix"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise UpstreamError(
            f"{url} has no valid time_last_update_unix ({exc!r}); check {SETTING}"
        ) from exc
    day = updated.date().isoformat()
    return Snapshot(
        base=upstream.text(document.get("base_code")),
        published_at=updated.isoformat(),
        rates=[Rate(day, currency, upstream.text(rate)) for currency, rate in rates.items()],
    )


def fetch(base_url: str, limits: upstream.Limits) -> Snapshot:
    url = base_url.rstrip("/") + PATH
    return parse(upstream.get_json(url, limits, SETTING), url)
