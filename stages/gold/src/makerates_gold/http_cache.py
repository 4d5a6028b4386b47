"""HTTP caching shared by the v1 and v2 routes: max-age by whether a day is settled, an ETag from a hash,
and 304 for a matching If-None-Match."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from fastapi import Request, Response

from makerates_gold.reads import today

LATEST_MAX_AGE = 300  # the latest day changes once a working day
PAST_MAX_AGE = 86400  # a past day changes only if silver republishes it
SETTLED_DAYS = 7  # a day older than this gets PAST_MAX_AGE


def settled(day: date) -> bool:
    """A day more than SETTLED_DAYS old: its answers get PAST_MAX_AGE."""
    return day < today() - timedelta(days=SETTLED_DAYS)


def max_age(day: date) -> int:
    """The Cache-Control max-age of an answer about `day`."""
    return PAST_MAX_AGE if settled(day) else LATEST_MAX_AGE


def etag(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def headers(tag: str, age: int, vary: bool = False) -> dict[str, str]:
    found = {"ETag": tag, "Cache-Control": f"public, max-age={age}"}
    return {**found, "Vary": "Accept"} if vary else found


def not_modified(request: Request, answer_headers: dict[str, str]) -> Response | None:
    """A 304 when the request's If-None-Match names this ETag (or is `*`), else None."""
    asked = request.headers.get("if-none-match", "")
    if answer_headers["ETag"] in [t.strip() for t in asked.split(",")] or asked.strip() == "*":
        return Response(status_code=304, headers=answer_headers)
    return None
