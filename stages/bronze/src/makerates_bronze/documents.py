"""Which ECB document a run reads: the smallest one that covers the gap."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from makerates_bronze import ecb, upstream
from makerates_bronze.ecb import Rate

log = logging.getLogger("makerates")


def pick(gap_start: date, daily_day: date | None, oldest_90d_day: date | None) -> tuple[str, str]:
    """(document, reason). The daily document is enough when its day is not after the gap's
    first day; else the 90-day document when it reaches back to the gap's first day; else the
    full history."""
    if daily_day is not None and daily_day <= gap_start:
        return ecb.DAILY, f"its day {daily_day} is not after the gap start {gap_start}"
    if oldest_90d_day is not None and oldest_90d_day <= gap_start:
        return (
            ecb.NINETY_DAYS,
            f"the daily document ({daily_day}) is newer than the gap start {gap_start} "
            f"and the 90-day one reaches back to {oldest_90d_day}",
        )
    return (
        ecb.HISTORY,
        f"the gap start {gap_start} is older than the 90-day document ({oldest_90d_day})",
    )


@dataclass
class Fetched:
    document: str
    reason: str
    rates: Iterable[Rate]


def fetch_covering(gap_start: date, base_url: str, limits: upstream.Limits) -> Fetched:
    """Fetch the daily document, and the bigger ones only when it does not cover the gap."""
    url = f"{base_url.rstrip('/')}/"
    rates = ecb.parse_xml(ecb.fetch(base_url, ecb.DAILY, limits), url + ecb.DAILY)
    daily_days = ecb.days(rates)
    daily_day = date.fromisoformat(daily_days[-1]) if daily_days else None
    oldest = None
    if daily_day is None or daily_day > gap_start:
        body = ecb.fetch(base_url, ecb.NINETY_DAYS, limits)
        ninety = ecb.parse_xml(body, url + ecb.NINETY_DAYS)
        ninety_days = ecb.days(ninety)
        oldest = date.fromisoformat(ninety_days[0]) if ninety_days else None
        rates = ninety
    document, reason = pick(gap_start, daily_day, oldest)
    if document == ecb.HISTORY:
        body = ecb.fetch(base_url, ecb.HISTORY, limits)
        rates = ecb.parse_history_zip(body, url + ecb.HISTORY, limits.max_document_bytes)
    log.info("reading %s: %s", document, reason)
    return Fetched(document, reason, rates)
