"""The ECB euro reference rates: fetch the three published documents and read their rates.

Raw is kept as published: every rate is the document's own string ("1.0811", never a float),
nothing is corrected or re-formatted. A cell the ECB publishes as `N/A` (or leaves empty) means
"no rate that day" and is not a record.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date
from typing import NamedTuple
from xml.etree import ElementTree

from makerates_core.errors import UpstreamError

from makerates_bronze import upstream

DAILY = "eurofxref-daily.xml"
NINETY_DAYS = "eurofxref-hist-90d.xml"
HISTORY = "eurofxref-hist.zip"
FIRST_DAY = date(1999, 1, 4)  # the first euro reference rates
NAMESPACE = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"
NO_RATE = ("", "N/A")
SETTING = "ECB_BASE_URL"


class Rate(NamedTuple):
    rate_date: str  # "YYYY-MM-DD"
    currency: str  # "USD"
    rate: str  # the published string


def fetch(
    base_url: str, document: str, limits: upstream.Limits, attempts: int = upstream.ATTEMPTS
) -> bytes:
    """One ECB document's bytes; retries, then a one-line UpstreamError."""
    return upstream.get(f"{base_url.rstrip('/')}/{document}", limits, SETTING, attempts)


def parse_xml(body: bytes, url: str) -> list[Rate]:
    """Rates of `eurofxref-daily.xml` or `eurofxref-hist-90d.xml`, in document order."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise UpstreamError(f"{url} is not XML ({exc}); check ECB_BASE_URL") from exc
    rates = []
    for day in root.iter(f"{NAMESPACE}Cube"):
        rate_date = day.get("time")
        if rate_date is None:
            continue
        for cube in day:
            currency, rate = cube.get("currency"), cube.get("rate")
            if currency and rate is not None and rate.strip() not in NO_RATE:
                rates.append(Rate(rate_date, currency, rate))
    if not rates and root.find(f"{NAMESPACE}Cube") is None:
        raise UpstreamError(
            f"{url} is not an ECB rates document (no eurofxref Cube); check ECB_BASE_URL"
        )
    return rates


def parse_history_zip(body: bytes, url: str, max_bytes: int) -> Iterator[Rate]:
    """Rates of `eurofxref-hist.zip`: one CSV, newest day first, `N/A` for no rate. The CSV is
    inflated at most `max_bytes` far (HTTP_MAX_DOCUMENT_BYTES: a zip bomb is refused)."""
    try:
        with (
            zipfile.ZipFile(io.BytesIO(body)) as archive,
            archive.open(archive.namelist()[0]) as member,
        ):
            inflated = member.read(max_bytes + 1)
    except (zipfile.BadZipFile, IndexError) as exc:
        raise UpstreamError(
            f"{url} is not the ECB history zip ({exc}); check ECB_BASE_URL"
        ) from exc
    if len(inflated) > max_bytes:
        raise upstream.too_large(url, "HTTP_MAX_DOCUMENT_BYTES", max_bytes, "inflated", SETTING)
    try:
        text = inflated.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UpstreamError(
            f"{url} is not the ECB history zip ({exc}); check ECB_BASE_URL"
        ) from exc
    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    if not header or header[0].strip() != "Date":
        raise UpstreamError(f"{url} has no `Date,...` CSV header; check ECB_BASE_URL")
    currencies = [c.strip() for c in header[1:]]
    for row in rows:
        if not row:
            continue
        rate_date = row[0].strip()
        for currency, rate in zip(currencies, row[1:], strict=False):
            if currency and rate.strip() not in NO_RATE:
                yield Rate(rate_date, currency, rate)


def days(rates: list[Rate]) -> list[str]:
    """The distinct rate dates in a document, oldest first."""
    return sorted({r.rate_date for r in rates})
